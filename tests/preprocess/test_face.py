"""Tests of the face crop: one stable box per clip, alignment, MTCNN and Haar detection, errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from mejax.preprocess import face


def _jittery_detector(boxes):
    """A detector returning the given boxes in turn (plus a small false positive)."""
    calls = iter(boxes)

    def detect(gray):
        box = next(calls)
        return np.array([box, [0, 0, 5, 5]]) if box is not None else np.zeros((0, 4), int)

    return detect


def test_one_median_box_for_the_clip():
    frames = np.zeros((9, 100, 120, 3), np.uint8)
    boxes = [(40, 30, 40, 40), (41, 29, 40, 42), None, (90, 90, 10, 10), (39, 31, 40, 40)]
    x, y, side = face.clip_face_box(frames, _jittery_detector(boxes), margin=0.0)
    assert (x, y, side) == (40, 30, 40)  # the outlier and the miss do not move it
    x, y, side = face.clip_face_box(frames, _jittery_detector(boxes), margin=0.25)
    assert side == 60 and (x, y) == (30, 20)
    # Near the border the box is shifted inside, not shrunk.
    edge = [(0, 0, 40, 40)] * 5
    assert face.clip_face_box(frames, _jittery_detector(edge), margin=0.25) == (0, 0, 60)


def test_crop_clip_uses_the_same_box_on_every_frame():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    crops = face.crop_clip(frames, 16, box=(10, 20, 16))
    np.testing.assert_array_equal(crops, frames[:, 20:36, 10:26])
    assert face.crop_clip(frames, 8, box=(10, 20, 32)).shape == (4, 8, 8, 3)


def test_alignment_levels_the_eyes():
    frame = np.zeros((80, 80, 3), np.uint8)
    left, right = (25.0, 34.0), (55.0, 46.0)  # tilted eye line
    for cx, cy in (left, right):
        cv2.circle(frame, (int(cx), int(cy)), 3, (255, 255, 255), -1)
    points = np.zeros((68, 2))
    points[36:42], points[42:48] = left, right
    angle, centre = face.eye_angle(points)
    assert angle == pytest.approx(np.degrees(np.arctan2(12, 30)))
    aligned = face.align_clip(frame[None], lambda f: points)[0, ..., 0]
    ys, xs = np.nonzero(aligned > 128)
    left_y, right_y = ys[xs < centre[0]].mean(), ys[xs > centre[0]].mean()
    assert abs(left_y - right_y) < 1.0


def test_errors_name_the_sample(tmp_path):
    frames = np.zeros((3, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match=r"sub09_ep01: no face detected on frames \[0, 1, 2\]"):
        face.clip_face_box(frames, _jittery_detector([None] * 3), sample="sub09_ep01")
    with pytest.raises(FileNotFoundError, match="no Haar cascade"):
        face.haar_detector(tmp_path / "missing.xml")
    with pytest.raises(FileNotFoundError, match="no facemark model"):
        face.facemark_lbf(tmp_path / "lbfmodel.yaml")


def _cascade() -> Path | None:
    path = Path(getattr(getattr(cv2, "data", None), "haarcascades", "")) / face.CASCADE
    return path if path.is_file() else None


@pytest.mark.skipif(_cascade() is None, reason="this OpenCV build ships no Haar cascade")
def test_haar_finds_the_astronauts_face():
    data = pytest.importorskip("skimage.data")
    image = data.astronaut()  # face at about x 177-272, y 66-161
    clip = np.stack([image, np.roll(image, 2, axis=1)])
    x, y, side = face.clip_face_box(clip, margin=0.0)
    assert abs(x + side / 2 - 225) < 15 and abs(y + side / 2 - 113) < 15


# ----------------------------------------------------------------------------------------------
# MTCNN: face_track, crop_geometry / apply_crop, align_and_crop.
# ----------------------------------------------------------------------------------------------


def _track_detector(found):
    """A detector returning the given (box, left eye, right eye) per call (None: no face),
    plus a smaller false positive; it records the frames it was given."""
    calls, seen = iter(found), []

    def detect(frame):
        seen.append(int(frame[0, 0, 0]))
        item = next(calls)
        if item is None:
            return []
        small = (np.array([0.0, 0, 4, 4]), np.zeros(2), np.ones(2), 0.9)
        return [small, (*(np.asarray(v, float) for v in item), 0.99)]

    return detect, seen


class _Lazy:
    """A sequence of frames that records which were read."""

    def __init__(self, n):
        self.n, self.read = n, []

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        self.read.append(index)
        return np.full((40, 60, 3), index, np.uint8)


def test_face_track_takes_the_median_of_the_probed_frames():
    found = [
        ((10, 10, 20, 20), (15, 18), (25, 18)),
        None,
        ((12, 10, 20, 22), (17, 18), (27, 20)),
        ((40, 30, 20, 20), (45, 38), (55, 38)),  # an outlier
        ((11, 9, 20, 20), (16, 17), (26, 19)),
    ]
    detect, seen = _track_detector(found)
    frames = _Lazy(21)
    track = face.face_track(frames, detect, 5)
    assert frames.read == seen == [0, 5, 10, 15, 20]  # only the probed frames are read
    assert track["probed"] == [0, 5, 10, 15, 20] and track["missed"] == [5]
    np.testing.assert_allclose(track["box"], [11.5, 10, 20, 20])  # the largest face's median
    np.testing.assert_allclose(track["eyes"], [[16.5, 18], [26.5, 19.5]])
    assert track["angle"] == pytest.approx(np.degrees(np.arctan2(1.5, 10)))


def test_no_face_error_names_the_clip_and_the_probed_frames():
    detect, _ = _track_detector([None] * 3)
    with pytest.raises(face.NoFaceError) as error:
        face.face_track(np.zeros((7, 32, 32, 3), np.uint8), detect, 3, sample="SAMM/006/006_1_2")
    assert isinstance(error.value, ValueError)
    assert str(error.value).startswith(
        "SAMM/006/006_1_2: no face found on the probed frames [0, 3, 6] of 7"
    )
    assert (error.value.sample, error.value.probed) == ("SAMM/006/006_1_2", [0, 3, 6])


def test_apply_crop_is_rotating_the_whole_frame_then_slicing():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (3, 90, 120, 3), dtype=np.uint8)
    eyes = (np.array([40.0, 40.0]), np.array([60.0, 47.0]))  # about 19 degrees
    track = {"box": np.array([30.0, 20.0, 40.0, 50.0]), "eyes": eyes}
    track["angle"] = float(np.degrees(np.arctan2(7, 20)))
    crops, result = face.align_and_crop(frames, track, margin=0.2)
    x, y, side = result["box"]
    assert side == 70 and crops.shape == (3, 70, 70, 3)
    matrix = cv2.getRotationMatrix2D((50.0, 43.5), track["angle"], 1.0)
    reflect = cv2.BORDER_REFLECT_101
    rotated = [cv2.warpAffine(f, matrix, (120, 90), borderMode=reflect) for f in frames]
    expected = np.stack(rotated)[:, y : y + side, x : x + side]
    assert np.abs(crops.astype(int) - expected).max() <= 1  # fixed-point rounding of the warp
    # Below MIN_ROTATION_DEGREES the frames are sliced, not resampled.
    level = {**track, "angle": 0.3}
    crops, result = face.align_and_crop(frames, level, margin=0.0)
    x, y, side = result["box"]
    np.testing.assert_array_equal(crops, frames[:, y : y + side, x : x + side])
    assert side == 50 and face.crop_geometry(level, (90, 120), 0.0)["box"] == [x, y, side]


def test_mtcnn_finds_the_astronauts_face_and_eyes():
    data = pytest.importorskip("skimage.data")
    image = data.astronaut()  # MTCNN's box of the face is about (182, 64, 83, 107)
    clip = np.stack([image, np.roll(image, 2, axis=1)])
    track = face.face_track(clip, face.mtcnn_detector(), num_probe_frames=2)
    x, y, w, h = track["box"]
    assert abs(x - 183) < 6 and abs(y - 64) < 6 and abs(w - 83) < 8 and abs(h - 107) < 8
    assert abs(track["angle"]) < 10
    crops, result = face.align_and_crop(clip, track, margin=0.2)
    x0, y0, side = result["box"]
    assert crops.shape == (2, side, side, 3) and side == round(max(w, h) * 1.4)
    assert x0 <= x and y0 <= y and x0 + side >= x + w and y0 + side >= y + h  # angle < 10 deg
    # Detected on a copy shrunk to 256 px, the box is scaled back to the frame's pixels.
    (small,) = [f[0] for f in face.mtcnn_detector(max_side=256)(image)]
    assert np.abs(small - track["box"]).max() < 10
