"""The face-cropped configs (casme/faces, samm/faces and variants) on frames holding a face.

The dummy frames of CASME and SAMM are scikit-image's astronaut photograph (a real face, 144 px
square; SAMM's in grey), shifted one pixel right per frame. MTCNN runs on every probed frame
(about 0.25 s each on a CPU), so the builds here are few and small.
"""

import pathlib
import shutil

import cv2
import ml_collections
import numpy as np
import pytest
import tensorflow_datasets as tfds

from mejax import config_args, input_pipeline
from mejax.datasets import builder
from mejax.datasets.casme import Casme
from mejax.datasets.samm import Samm
from mejax.preprocess import face

# The tests share a module fixture: one process under pytest -n runs them (and it) once.
pytestmark = pytest.mark.xdist_group("face_crops")

CASME_DUMMY = Casme.code_path.parent / "dummy_data"
SAMM_DUMMY = Samm.code_path.parent / "dummy_data"


def _build(name: str, manual_dir: pathlib.Path, data_dir: pathlib.Path):
    b = tfds.builder(name, data_dir=str(data_dir))
    b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
    return b, {ex["clip"].decode(): ex for ex in tfds.as_numpy(b.as_dataset(split="all"))}


def _decoded(folder: str) -> np.ndarray:
    return np.stack([builder.read_frame(p) for _, p in builder.frame_files(pathlib.Path(folder))])


@pytest.fixture(scope="module")
def casme_faces(tmp_path_factory):
    return _build("casme/faces", CASME_DUMMY, tmp_path_factory.mktemp("tfds"))


@pytest.fixture(scope="module")
def samm_faces(tmp_path_factory):
    """samm/faces on a copy of the dummy data whose clip 006_1_3 is static (one frame four
    times)."""
    root = tmp_path_factory.mktemp("manual") / "samm"
    shutil.copytree(SAMM_DUMMY, root)
    files = [p for _, p in builder.frame_files(root / "SAMM" / "006" / "006_1_3")]
    for path in files[1:]:
        shutil.copyfile(files[0], path)
    return _build("samm/faces", root, tmp_path_factory.mktemp("tfds"))


def test_casme_faces_are_the_face_with_one_box_per_clip(casme_faces):
    b, examples = casme_faces
    report = b.info.metadata["build_report"]
    crops = report["face_crops"]
    assert sorted(crops) == sorted(f"{ex['subject'].decode()}_{c}" for c, ex in examples.items())
    assert "MTCNN" in report["face_crop_method"]
    for clip, ex in examples.items():
        entry = crops[f"{ex['subject'].decode()}_{clip}"]
        x, y, side = entry["box"]
        assert entry["frame_size"] == [144, 144] and entry["missed"] == []
        # Much smaller than the frame, and holding the detected face (the astronaut's face is
        # about x 50-77, y 17-47 at this size) with its margin.
        assert 30 <= side <= 60
        dx, dy, dw, dh = entry["detection"]
        assert x <= dx and y <= dy and x + side >= dx + dw and y + side >= dy + dh
        assert 45 <= dx <= 58 and 12 <= dy <= 24
        # The stored frames are the one box applied to every decoded frame.
        assert ex["frames"].shape == (len(_decoded(entry["folder"])), side, side, 3)
        np.testing.assert_array_equal(
            ex["frames"], face.apply_crop(_decoded(entry["folder"]), entry)
        )


def test_one_box_keeps_the_clips_motion(casme_faces):
    """The face moves one pixel right per frame; a box per frame would follow it and show no
    motion, the one box of the clip shows it."""
    _, examples = casme_faces
    frames = examples["EP01_5"]["frames"].astype(np.float32).mean(axis=-1)
    for t in range(1, len(frames)):
        unmoved = np.abs(frames[t] - frames[0]).mean()
        moved = np.abs(frames[t][:, t:] - frames[0][:, :-t]).mean()  # frame 0 shifted t px
        assert moved < unmoved / 3  # measured: about 4.4 against 17-44 grey levels


def test_samm_faces_static_clip_gives_static_crops(samm_faces):
    b, examples = samm_faces
    crops = b.info.metadata["build_report"]["face_crops"]
    assert sorted(crops) == ["006_006_1_2", "006_006_1_3", "028_028_2_2", "028_028_4_1"]
    static = examples["006_1_3"]["frames"]
    assert static.shape[1] < 144 / 2
    assert all(np.array_equal(static[0], f) for f in static[1:])
    assert np.array_equal(static[..., 0], static[..., 1])  # SAMM's grey frames stay grey
    # 006_1_2 has frames 05562, 05563, 05565: all three probed.
    assert crops["006_006_1_2"]["probed"] == [0, 1, 2]


def test_a_clip_without_a_face_stops_the_build_naming_it(tmp_path):
    root = tmp_path / "samm"
    shutil.copytree(SAMM_DUMMY, root)
    folder = root / "SAMM" / "028" / "028_4_1"
    rng = np.random.default_rng(0)
    for _, path in builder.frame_files(folder):
        cv2.imwrite(str(path), rng.integers(0, 256, (144, 144), dtype=np.uint8))
    with pytest.raises(face.NoFaceError) as error:
        _build("samm/faces", root, tmp_path / "tfds")
    message = str(error.value)
    assert f"{folder}: no face found on the probed frames [0, 1, 2, 3] of 4" in message
    assert "never stored uncropped" in message
    assert [e.sample for e in error.value.errors] == [str(folder)]


def test_paper_databases_read_the_face_configs():
    for token, builder_class in (("casme", Casme), ("samm", Samm)):
        name = config_args.builder(token)
        database, config = name.split("/")
        assert (database, config) == (token, "faces")
        configs = {c.name: c for c in builder_class.BUILDER_CONFIGS}
        assert configs["faces"].face_crop and not configs["frames"].face_crop
        # Every cached input of the face crops is a config of the builder.
        for variant in builder.VARIANTS:
            assert configs[f"faces_{variant}"].face_crop
        tim = ml_collections.ConfigDict({"variant": "tim", "num_frames": 10, "image_size": 224})
        assert input_pipeline.builder_name(name, tim) == f"{token}/faces_tim10_224"
