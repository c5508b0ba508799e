"""``python -m mejax.predict``: a finished tiny run applied to a synth_me clip written as an .mp4
and to a real photograph (scikit-image's astronaut) made into a clip with a small motion; the
face is found, the JSON and the PNG are written; clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from mejax import predict, presets, train

pytest.importorskip("mtcnn")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, tiny_data_dir) -> Path:
    """STAPF on synth_me/tiny, rounds 0 and 1, one epoch each."""
    workdir = tmp_path_factory.mktemp("run")
    config = presets.stap_family("STAPF", "stap", "focal", "synth_tiny").unlock()
    config.dataset.data_dir = str(tiny_data_dir)
    config.train.num_epochs = 1
    train.run(config.lock(), workdir)
    return workdir


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


def test_synth_me_mp4_through_the_run(finished_run, synth_clip, tmp_path):
    path, (onset, apex, offset) = synth_clip
    result = predict.predict(finished_run, path, output_dir=tmp_path)
    written = check_outputs(result, tmp_path, "synth", ["AU4", "AU7"])
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
    one = json.loads((tmp_path / "round1.json").read_text())
    assert one["rounds"] == ["round1"] and one["apex_found_by"] == f"frame {written['apex']}: given"
    assert one["probabilities"] == pytest.approx(per_round["round1"], abs=1e-5)
    # The annotated phases are taken as given.
    assert predict.phases(written["num_frames"], onset, apex, offset)[:3] == (onset, apex, offset)


def test_astronaut_photograph_clip(finished_run, tmp_path):
    folder = tmp_path / "astronaut"
    folder.mkdir()
    for index, frame in enumerate(astronaut_frames()):  # a folder of frames, natural order
        cv2.imwrite(str(folder / f"img{index}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
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


def test_clear_errors(finished_run, tmp_path, synth_clip):
    bad = tmp_path / "broken.mp4"
    bad.write_text("not a video")
    with pytest.raises(predict.PredictError, match="unreadable video"):
        predict.read_frames(bad)
    with pytest.raises(predict.PredictError, match="no such video file"):
        predict.read_frames(tmp_path / "missing.mp4")
    grey = np.full((6, 64, 64, 3), 128, np.uint8)
    with pytest.raises(predict.PredictError, match=r"no face found on the probed frames \[0, 1"):
        predict.face_track(grey, predict.mtcnn_detector())

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
