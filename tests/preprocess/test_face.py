"""Tests of the face crop: one stable box per clip, alignment, Haar detection, errors."""

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
