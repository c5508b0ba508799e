"""``python -m mejax.predict``: a finished tiny run applied to a synth_me clip written as an .mp4
and to a real photograph (scikit-image's astronaut) made into a clip with a small motion; the
face is found, the JSON and the PNGs are written; clear errors. Runs on the other inputs (TIM
clips, apex frames, optical flow) and recognition runs: predict's input is the run's own (its
probabilities on a clip of the run's test fold are those the run recorded for it), and the
class-activation maps of each model add up to its logits."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import cv2
import ml_collections
import numpy as np
import pytest

from mejax import cam, experiment, predict
from tests import tiny_configs

pytest.importorskip("mtcnn")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def finished_run(stapf_tiny_cli_run) -> Path:
    """STAPF on synth_me/tiny, rounds 0 and 1: the session's ``python -m mejax.main`` run of
    ``tests/tiny_configs.py:stapf`` (tests/conftest.py), which the console tests read too."""
    assert stapf_tiny_cli_run["returncode"] == 0, stapf_tiny_cli_run["stderr"][-3000:]
    return stapf_tiny_cli_run["workdir"]


@pytest.fixture(scope="module")
def synth_clip(tiny_data_dir, tmp_path_factory):
    """(path of an .mp4 of a synth_me/tiny clip, its annotated onset, apex and offset)."""
    import tensorflow_datasets as tfds

    import mejax.datasets.synth_me  # noqa: F401

    builder = tfds.builder("synth_me/tiny", data_dir=str(tiny_data_dir))
    example = next(iter(tfds.as_numpy(builder.as_dataset(split="sub01"))))
    frames = example["frames"]
    path = tmp_path_factory.mktemp("clips") / "synth.mp4"
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (frames.shape[2], frames.shape[1])
    )
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path, (int(example["onset"]), int(example["apex"]), int(example["offset"]))


def astronaut_frames(num_frames: int = 12, peak: int = 7) -> np.ndarray:
    """The astronaut photograph as a clip with a small motion that rises and falls back: a
    shift of up to 1.5 px, a rotation of up to 1 degree and a brightening of the mouth region,
    strongest at frame ``peak``."""
    from skimage import data

    image = data.astronaut()
    height, width = image.shape[:2]
    frames = []
    for t in range(num_frames):
        motion = float(np.exp(-(((t - peak) / 2) ** 2)))
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), motion, 1.0)
        matrix[:, 2] += (1.5 * motion, 0.5 * motion)
        frame = cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REFLECT_101)
        region = frame[130:150, 200:250].astype(np.int16) + int(25 * motion)
        frame[130:150, 200:250] = np.clip(region, 0, 255).astype(np.uint8)
        frames.append(frame)
    return np.stack(frames)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def check_outputs(result: dict, output_dir: Path, name: str, keys: list[str]) -> dict:
    json_file, png_file = output_dir / f"{name}.json", output_dir / f"{name}.png"
    assert json_file.is_file() and png_file.is_file()
    written = json.loads(json_file.read_text())
    assert written["probabilities"] == result["probabilities"]
    assert sorted(written["probabilities"]) == sorted(keys)
    assert all(0 <= p <= 1 for p in written["probabilities"].values())
    image = cv2.imread(str(png_file))
    assert image is not None and image.shape[0] > 100 and image.shape[1] > 300
    return written


SYNTHETIC_WARNING = (
    "the run was trained on the synthetic database synth_me/tiny (rendered faces): its "
    "probabilities on a real face do not mean what they mean on the synthetic test clips"
)


def write_frames(folder: Path, frames: np.ndarray) -> Path:
    folder.mkdir()
    for index, frame in enumerate(frames):  # a folder of frames, natural order
        cv2.imwrite(str(folder / f"img{index}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return folder


@pytest.mark.xdist_group("stapf_tiny_cli_run")
def test_synth_me_mp4_through_the_run(finished_run, synth_clip, tmp_path, capsys):
    path, (onset, apex, offset) = synth_clip
    result = predict.predict(finished_run, path, output_dir=tmp_path)
    written = check_outputs(result, tmp_path, "synth", ["AU4", "AU7"])
    # The run records what it was trained on; synthetic faces are said to be so.
    assert written["trained_on"] == ["synth_me/tiny"]
    assert written["warnings"][0].startswith(SYNTHETIC_WARNING)
    # A synth_me clip moves as the training clips do: no motion warning, the apex is found.
    assert written["motion"]["training_source"] == "the run's motion.json"
    assert not written["motion"]["below_training"] and len(written["warnings"]) == 1
    assert written["apex_found"] == "from motion"
    assert written["kind"] == "AU" and written["rounds"] == ["round0", "round1"]
    assert written["face"]["frames_without_face"] == []
    x, y, side = written["face"]["box"]
    assert side >= 30  # the rendered face fills most of the 48 x 48 frame
    # Without --apex: the frame of largest change from the onset, and the output says so.
    assert "largest change from the onset frame 0" in written["apex_found_by"]
    assert written["onset"] == 0 and written["offset"] == written["num_frames"] - 1
    per_round = written["per_round"]
    for au in ("AU4", "AU7"):
        mean = np.mean([per_round[r][au] for r in ("round0", "round1")])
        assert written["probabilities"][au] == pytest.approx(mean)

    # The apex given and one round, through the command line: that round's figures again.
    code = predict.main(
        [f"--workdir={finished_run}", f"--video={path}", f"--output_dir={tmp_path}",
         "--name=round1", "--round=round1", "--onset=0", f"--apex={written['apex']}"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert f"WARNING: {SYNTHETIC_WARNING}" in printed
    (h, w) = written["cam"]["map_size"]
    assert f"class-activation maps: {h}x{w} each, shown upsampled to 224x224 inside" in printed
    one = json.loads((tmp_path / "round1.json").read_text())
    assert one["rounds"] == ["round1"] and one["apex_found_by"] == f"frame {written['apex']}: given"
    assert one["probabilities"] == pytest.approx(per_round["round1"], abs=1e-5)
    # STAP's head has class-activation maps: one per AU, each map's mean the AU's log-odds.
    assert Path(written["cam"]["file"]) == tmp_path / "synth_cam.png"
    assert cv2.imread(written["cam"]["file"]) is not None
    assert sorted(one["cam"]["maps"]) == ["AU4", "AU7"]
    assert written["cam"]["region"] == [0, 0, side]
    for au, probability in one["probabilities"].items():
        assert sigmoid(np.mean(one["cam"]["maps"][au])) == pytest.approx(probability, abs=1e-4)
    # The annotated phases are taken as given.
    assert predict.phases(written["num_frames"], onset, apex, offset)[:3] == (onset, apex, offset)


@pytest.mark.xdist_group("stapf_tiny_cli_run")
def test_astronaut_photograph_clip(finished_run, tmp_path):
    folder = write_frames(tmp_path / "astronaut", astronaut_frames())
    result = predict.predict(finished_run, folder, output_dir=tmp_path / "out")
    written = check_outputs(result, tmp_path / "out", "astronaut", ["AU4", "AU7"])
    x, y, side = written["face"]["box"]
    # MTCNN's box of the astronaut's face is about (182, 64, 83, 107): the crop holds it, with
    # the margin (0.2 of its side on each side) and no more.
    assert x <= 182 and x + side >= 182 + 83 and y <= 64 and y + side >= 64 + 107
    assert side <= 1.5 * 107
    assert written["face"]["frames_without_face"] == []
    assert abs(written["face"]["angle_degrees"]) < 10
    assert written["apex"] in (6, 7, 8)  # the motion's peak
    assert written["warnings"][0].startswith(SYNTHETIC_WARNING)
    # The maps: the tiny STAPF's coarse grid, shown over the face crop at its own resolution
    # (at least 224 pixels), inside the face.
    block = written["cam"]
    assert block["map_size"] == [1, 1] and block["shown_size"] == [224, 224]
    assert block["region"][2] < 224  # the crop is smaller: enlarged for the figure
    image = cv2.imread(block["file"])
    assert image.shape[0] >= 300 and image.shape[1] >= 2 * 224


@pytest.mark.xdist_group("stapf_tiny_cli_run")
def test_a_static_clip_has_no_micro_expression(finished_run, tmp_path, capsys):
    folder = write_frames(tmp_path / "static", np.repeat(astronaut_frames(1)[:1], 6, axis=0))
    code = predict.main([f"--workdir={finished_run}", f"--video={folder}",
                         f"--output_dir={tmp_path / 'out'}"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    written = json.loads((tmp_path / "out" / "static.json").read_text())
    assert written["motion"]["clip"] == 0 and written["motion"]["below_training"]
    assert written["apex_found"] == "not found from motion"
    assert "the apex is not found from motion" in written["apex_found_by"]
    (warning,) = [w for w in written["warnings"] if w != written["warnings"][0]]
    assert warning.startswith("no micro-expression motion found: the change from onset (frame 0)")
    assert f"WARNING: {warning}" in printed and f"WARNING: {written['warnings'][0]}" in printed


@pytest.mark.xdist_group("stapf_tiny_cli_run")
def test_training_clips_motion(finished_run, tmp_path):
    recorded = json.loads((finished_run / "motion.json").read_text())
    assert recorded["databases"] == ["synth_me/tiny"] and recorded["clips"] == 24
    assert 0 < recorded["lowest"] <= recorded["p5"] <= recorded["median"]
    # A run without motion.json (trained before runs recorded it) reads its database now.
    config, _ = experiment.open_run(finished_run)
    found, source = predict.training_motion(config, tmp_path)
    assert found == recorded and source == "synth_me/tiny, read now"
    config.dataset.data_dir = str(tmp_path / "nothing")
    found, source = predict.training_motion(config, tmp_path)
    assert found is None and "synth_me/tiny is not built in" in source
    # The measure: a shift of a textured face moves, a brightness change alone does not.
    face = astronaut_frames(1)[0, 40:220, 160:300] // 2
    assert predict.clip_motion(face, face) == 0
    assert predict.clip_motion(face, face + 20) == pytest.approx(0, abs=1e-3)
    assert predict.clip_motion(face, np.roll(face, 3, axis=1)) > 20


def test_maps_are_drawn_smoothly_over_the_face():
    import matplotlib.pyplot as plt

    grid = np.arange(9, dtype=np.float32).reshape(3, 3)
    mask = np.zeros((48, 48), np.float32)
    mask[8:40, 8:40] = 1
    figure, axis = plt.subplots()
    # A 48-pixel crop is shown at 224: the map upsampled (bicubic, not 3 x 3 blocks).
    assert cam.overlay(axis, np.zeros((48, 48, 3), np.uint8), grid, "AU4", mask=mask) == (
        224, 224,
    )  # fmt: skip
    face, heat = axis.get_images()
    assert face.get_array().shape[:2] == heat.get_array().shape[:2] == (224, 224)
    colours = np.asarray(heat.get_array())
    assert len(np.unique(colours[112, :, :3], axis=0)) > 50  # smooth along a row
    assert colours[0, 0, 3] == 0 and colours[112, 112, 3] == pytest.approx(0.45)  # the face only
    assert axis.get_title() == "AU4\nmap 3\u00d73"
    # A larger crop is shown at its own size.
    axis.clear()
    assert cam.overlay(axis, np.zeros((300, 300, 3), np.uint8), grid, "AU7") == (300, 300)
    assert axis.get_images()[1].get_array().shape[:2] == (300, 300)
    plt.close(figure)


@pytest.mark.xdist_group("stapf_tiny_cli_run")
def test_clear_errors(finished_run, tmp_path, synth_clip):
    bad = tmp_path / "broken.mp4"
    bad.write_text("not a video")
    with pytest.raises(predict.PredictError, match="unreadable video"):
        predict.read_frames(bad)
    with pytest.raises(predict.PredictError, match="no such video file"):
        predict.read_frames(tmp_path / "missing.mp4")
    grey = np.full((6, 64, 64, 3), 128, np.uint8)
    with pytest.raises(predict.PredictError, match=r"no face found on the probed frames \[0, 1"):
        predict.locate_face(grey)

    empty = tmp_path / "empty_run"
    empty.mkdir()
    with pytest.raises(predict.PredictError, match="not a mejax run"):
        predict.read_run(empty)
    shutil.copy(finished_run / "config.json", empty / "config.json")
    with pytest.raises(predict.PredictError, match="a run without models"):
        predict.read_run(empty)
    with pytest.raises(predict.PredictError, match="no round 'round7'"):
        predict.read_run(finished_run, "round7")
    path, _ = synth_clip
    with pytest.raises(predict.PredictError, match="apex 40 is not between"):
        predict.phases(34, apex=40)

    code = predict.main([f"--workdir={empty}", f"--video={path}", f"--output_dir={tmp_path}"])
    assert code == 1
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    with pytest.raises(predict.PredictError, match=rf"--output_dir {a_file} is a file"):
        predict.predict(finished_run, path, output_dir=a_file)
    with pytest.raises(predict.PredictError, match="cannot be created: .* is a file"):
        predict.predict(finished_run, path, output_dir=a_file / "out")


# =============================================================================================
# Runs on the other inputs, and recognition runs
# =============================================================================================


def config_file(name: str, arg: str):
    """The unlocked config of ``configs/<name>.py:<arg>``."""
    spec = importlib.util.spec_from_file_location(name, REPO / "configs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg).unlock()


def tiny_run(tmp_path_factory, data_dir, name: str, **overrides) -> Path:
    """A finished run of the tiny config of ``configs/<name>.py`` (tests/tiny_configs.py) on
    synth_me/tiny: its first round only, one epoch (seconds)."""
    config = tiny_configs.tiny(name).unlock()
    config.dataset.data_dir = str(data_dir)
    if "aux_dataset" in config:
        config.aux_dataset.data_dir = str(data_dir)
    config.protocol.rounds = (0,)
    config.train.num_epochs = 1
    config.update_from_flattened_dict(overrides)
    workdir = tmp_path_factory.mktemp(name)
    experiment.run(config.lock(), workdir)
    return workdir


@pytest.fixture(scope="module")
def tim_run(tmp_path_factory, tiny_data_dir) -> Path:
    """SCA on TIM clips (``synth_me_cached/tiny_tim10_48``): AUs, one multi-task model."""
    # Evaluated on the central 40^2 (the config's 32 would leave layer4 1 x 1).
    tim = {"input.variant": "tim", "input.num_frames": 10, "input.image_size": 48,
           "input.crop_size": 40}  # fmt: skip
    return tiny_run(tmp_path_factory, tiny_data_dir, "sca", **tim)


@pytest.fixture(scope="module")
def apex_run(tmp_path_factory, tiny_data_dir) -> Path:
    """Micro-Attention on grey apex frames 48^2 cropped to 40^2: classes."""
    return tiny_run(tmp_path_factory, tiny_data_dir, "micro_attention")


@pytest.fixture(scope="module")
def flow_run(tmp_path_factory, tiny_data_dir) -> Path:
    """A ResNet on the onset -> apex flow 28^2: classes. Farneback's flow (the Neural ME
    Recognizer's; OpenCV), not the config's TV-L1: the same path through predict without a
    TV-L1 compilation for one clip's shape (seconds on 2 CPU cores)."""
    farneback = {"input.flow_method": "farneback"}
    return tiny_run(tmp_path_factory, tiny_data_dir, "mer_resnet", **farneback)


def whole_frame_detector(frame: np.ndarray):
    """A stand-in for MTCNN on synth_me's faces, which fill their frames: the whole frame, the
    eyes level (so the crop, with margin 0, is the frame itself, as in the database)."""
    height, width = frame.shape[:2]
    box = np.array([0.0, 0.0, width, height])
    eyes = np.array([0.3 * width, 0.4 * height]), np.array([0.7 * width, 0.4 * height])
    return [(box, *eyes, 1.0)]


def first_test_clip(workdir: Path, data_dir: Path, folder: Path):
    """(round name, clip name, onset, apex, offset, the run's recorded scores of the clip) of
    the first test clip of the run's first round, its frames written into ``folder`` as PNGs."""
    import tensorflow_datasets as tfds

    import mejax.datasets.synth_me  # noqa: F401

    round_dir = sorted(d for d in workdir.iterdir() if (d / "predictions.npz").is_file())[0]
    with np.load(round_dir / "predictions.npz") as record:
        name, scores = str(record["names"][0]), record["scores"][0]
    builder = tfds.builder("synth_me/tiny", data_dir=str(data_dir))
    for split in builder.info.splits:
        for example in tfds.as_numpy(builder.as_dataset(split=split)):
            if example["clip"].decode() == name:
                folder.mkdir(parents=True)
                for index, frame in enumerate(example["frames"]):
                    cv2.imwrite(str(folder / f"{index:03d}.png"), frame[..., ::-1])
                phases = (int(example[k]) for k in ("onset", "apex", "offset"))
                return (round_dir.name, name, *phases, scores)
    raise AssertionError(f"{name}: not a clip of synth_me/tiny")


def predict_tested_clip(workdir, data_dir, tmp_path, **kwargs):
    """predict on the run's first test clip, with its annotated phases and the round that
    tested it; checks the probabilities against the run's record. Returns the JSON."""
    round_name, name, onset, apex, offset, scores = first_test_clip(
        workdir, data_dir, tmp_path / "clip"
    )
    predict.predict(
        workdir, tmp_path / "clip", onset=onset, apex=apex, offset=offset,
        round_name=round_name, output_dir=tmp_path / "out", name=name, margin=0.0,
        detector=whole_frame_detector, **kwargs,
    )  # fmt: skip
    written = json.loads((tmp_path / "out" / f"{name}.json").read_text())
    assert written["face"]["box"] == [0, 0, 48] and written["face"]["angle_degrees"] == 0
    # The run's own input: predict's probabilities are those the run recorded for the clip.
    np.testing.assert_allclose(list(written["probabilities"].values()), scores, atol=2e-4)
    assert written["rounds"] == [round_name]
    return written, name


def check_cam(written: dict, tmp_path: Path, name: str, region: list[int]) -> dict:
    """The CAM PNG and maps: one per AU or class, over the model's view of the apex crop."""
    block = written["cam"]
    assert Path(block["file"]) == tmp_path / "out" / f"{name}_cam.png"
    image = cv2.imread(block["file"])
    assert image is not None and image.shape[0] > 100 and image.shape[1] > 200
    assert sorted(block["maps"]) == sorted(written["probabilities"])
    assert block["region"] == region
    maps = {k: np.asarray(m) for k, m in block["maps"].items()}
    assert all(m.shape == tuple(block["map_size"]) for m in maps.values())
    return maps


def test_tim_clips_au_run(tim_run, tiny_data_dir, tmp_path):
    written, name = predict_tested_clip(tim_run, tiny_data_dir, tmp_path)
    assert written["kind"] == "AU" and sorted(written["probabilities"]) == ["AU4", "AU7"]
    maps = check_cam(written, tmp_path, name, [4, 4, 40])
    assert written["cam"]["map_size"] == [2, 2]  # layer4 of 40^2 frames
    # Global average pooling and fc: each AU's map averages to its logit.
    for au, probability in written["probabilities"].items():
        assert sigmoid(maps[au].mean()) == pytest.approx(probability, abs=1e-4)


def softmax_of_means(maps: dict, classes: list[str]) -> np.ndarray:
    logits = np.array([maps[c].mean() for c in classes])
    return np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()


def test_apex_frames_recognition_run(apex_run, tiny_data_dir, tmp_path):
    written, name = predict_tested_clip(apex_run, tiny_data_dir, tmp_path)
    classes = json.loads((apex_run / "results.json").read_text())["classes"]
    assert written["kind"] == "class" and list(written["probabilities"]) == classes
    assert sum(written["probabilities"].values()) == pytest.approx(1, abs=1e-5)
    # The model sees the central 40 of the 48 pixels (input.crop_size); the maps lie over it.
    maps = check_cam(written, tmp_path, name, [4, 4, 40])
    assert written["cam"]["map_size"] == [2, 2]
    probabilities = list(written["probabilities"].values())
    np.testing.assert_allclose(softmax_of_means(maps, classes), probabilities, atol=1e-4)
    assert cv2.imread(str(tmp_path / "out" / f"{name}.png")) is not None


def test_optical_flow_recognition_run(flow_run, tiny_data_dir, tmp_path, monkeypatch):
    written, name = predict_tested_clip(flow_run, tiny_data_dir, tmp_path)
    classes = json.loads((flow_run / "results.json").read_text())["classes"]
    assert written["kind"] == "class" and list(written["probabilities"]) == classes
    maps = check_cam(written, tmp_path, name, [0, 0, 48])
    probabilities = list(written["probabilities"].values())
    np.testing.assert_allclose(softmax_of_means(maps, classes), probabilities, atol=1e-4)

    # A model without class-activation maps: the JSON says so, and no CAM PNG is written.
    monkeypatch.setattr(cam, "CAM_MODELS", ())
    again = predict_tested_clip(flow_run, tiny_data_dir, tmp_path / "again")[0]
    assert again["cam"].startswith("not supported by resnet_classifier_tiny")
    assert not (tmp_path / "again" / "out" / f"{name}_cam.png").exists()
    assert again["probabilities"] == pytest.approx(written["probabilities"], abs=1e-6)


def test_which_models_have_class_activation_maps():
    for name in ("sca_classifier", "i3d_classifier_tiny", "resnet_classifier", "micro_attention"):
        assert cam.cam_support({"name": name}) == ""
    assert cam.cam_support({"name": "part_mer"}).startswith(
        "not supported by part_mer: its pooled part features pass a tanh embedding"
    )
    assert "graph convolution" in cam.cam_support({"name": "au_gcn_tiny"})


def test_flow_is_computed_at_the_builders_work_size():
    def config(dataset, **kwargs):
        block = {"variant": "flow", "image_size": 28, "flow_method": "tvl1", **kwargs}
        return ml_collections.ConfigDict({"dataset": {"name": dataset}, "input": block})

    assert predict.flow_work_size(config("synth_me/tiny")) is None  # at the frames' size
    assert predict.flow_work_size(config("synth_me/small", image_size=64)) == 64
    assert predict.flow_work_size(config("casme2/cropped_2014")) == 112
    assert predict.flow_work_size(config("casme2/cropped_2014", variant="apex")) is None
