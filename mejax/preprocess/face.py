"""Face detection and a stable face crop across a clip, with an optional landmark alignment.

Micro-expression pipelines crop the face once per clip, not per frame: a box that moves by a
pixel between frames creates flow larger than the expression (the motion is 0.2-2 px). The
detector is OpenCV's Viola-Jones frontal-face Haar cascade (Viola and Jones, CVPR 2001),
``haarcascade_frontalface_default.xml``; OpenCV 4.x wheels ship it in ``cv2.data``, OpenCV 5
wheels no longer do, so :func:`haar_detector` takes the file from ``cascade_path`` or, failing
that, from ``cv2.data``, and says so when neither exists. Nothing is downloaded.

The clip's box (:func:`clip_face_box`) is the element-wise median of the largest detection on
``num_probe_frames`` frames spread over the clip (robust to a missed or jittery detection),
grown by ``margin`` on each side, made square about its centre and shifted (not shrunk) to
stay inside the image where it can. Every frame is cropped with that one box.

Alignment (optional): a ``landmarks`` function (frame -> (K, 2) points in the 68-point
iBUG layout, e.g. :func:`facemark_lbf` with a user-supplied LBF model file, or any other
landmark model) gives the eye centres on the first frame; the whole clip is rotated about
their midpoint so that the eyes are level, then detected and cropped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from mejax.preprocess import validate

CASCADE = "haarcascade_frontalface_default.xml"
Detector = Callable[[np.ndarray], np.ndarray]

_LEFT_EYE, _RIGHT_EYE = slice(36, 42), slice(42, 48)  # iBUG 68-point indices


def haar_detector(
    cascade_path: str | Path | None = None,
    *,
    scale_factor: float = 1.1,
    min_neighbors: int = 5,
    min_size_fraction: float = 0.2,
) -> Detector:
    """OpenCV's Haar frontal-face detector: gray (H, W) uint8 -> (N, 4) boxes (x, y, w, h).

    Args:
      cascade_path: the cascade XML; default ``cv2.data.haarcascades`` + :data:`CASCADE`.
      scale_factor, min_neighbors: ``detectMultiScale``'s parameters.
      min_size_fraction: smallest face side as a fraction of the image's smaller side.
    """
    if cascade_path is None:
        folder = getattr(getattr(cv2, "data", None), "haarcascades", "")
        cascade_path = Path(folder) / CASCADE
    cascade_path = Path(cascade_path)
    if not cascade_path.is_file():
        raise FileNotFoundError(
            f"{cascade_path}: no Haar cascade. OpenCV 4.x wheels ship {CASCADE} in cv2.data; "
            "OpenCV 5 wheels do not: pass cascade_path= to a copy (OpenCV's source tree, "
            "data/haarcascades/)"
        )
    cascade = cv2.CascadeClassifier(str(cascade_path))
    if cascade.empty():
        raise ValueError(f"{cascade_path}: OpenCV cannot load this cascade")

    def detect(gray: np.ndarray) -> np.ndarray:
        side = int(min(gray.shape) * min_size_fraction)
        boxes = cascade.detectMultiScale(
            gray, scaleFactor=scale_factor, minNeighbors=min_neighbors, minSize=(side, side)
        )
        return np.asarray(boxes, np.int64).reshape(-1, 4)

    return detect


def _gray(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames, got {frame.dtype}")
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame


def clip_face_box(
    frames,
    detector: Detector | None = None,
    *,
    num_probe_frames: int = 5,
    margin: float = 0.1,
    sample: str = "clip",
) -> tuple[int, int, int]:
    """One square face box (x, y, side) for the whole clip.

    Args:
      frames: (T, H, W[, 3]) uint8 clip.
      detector: gray frame -> (N, 4) (x, y, w, h) boxes; default :func:`haar_detector`.
      num_probe_frames: frames (evenly spread) on which faces are detected.
      margin: growth of the box on each side, as a fraction of its size.
      sample: clip name for error messages.

    Raises:
      ValueError: no face on any probed frame, naming the sample.
    """
    frames = validate.check_clip(frames, sample)
    detector = detector or haar_detector()
    probes = np.unique(np.linspace(0, len(frames) - 1, num_probe_frames).round().astype(int))
    found = []
    for index in probes:
        boxes = detector(_gray(frames[index]))
        if len(boxes):
            found.append(boxes[np.argmax(boxes[:, 2] * boxes[:, 3])])
    if not found:
        raise ValueError(f"{sample}: no face detected on frames {probes.tolist()}")
    x, y, w, h = np.median(np.stack(found), axis=0)
    side = max(w, h) * (1 + 2 * margin)
    height, width = frames.shape[1:3]
    side = int(round(min(side, height, width)))
    x0 = int(round(x + w / 2 - side / 2))
    y0 = int(round(y + h / 2 - side / 2))
    return int(np.clip(x0, 0, width - side)), int(np.clip(y0, 0, height - side)), side


def eye_angle(landmarks: np.ndarray) -> tuple[float, tuple[float, float]]:
    """Angle (degrees, counter-clockwise positive in image axes) of the eye line, and its
    midpoint, from 68-point landmarks."""
    landmarks = np.asarray(landmarks, np.float64)
    if landmarks.shape != (68, 2):
        raise ValueError(f"expected (68, 2) landmarks (iBUG layout), got {landmarks.shape}")
    left, right = landmarks[_LEFT_EYE].mean(0), landmarks[_RIGHT_EYE].mean(0)
    dx, dy = right - left
    centre = (left + right) / 2
    return float(np.degrees(np.arctan2(dy, dx))), (float(centre[0]), float(centre[1]))


def align_clip(frames: np.ndarray, landmarks: Callable[[np.ndarray], np.ndarray]):
    """Rotates every frame so that the eyes of the first frame are level."""
    angle, centre = eye_angle(landmarks(frames[0]))
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    height, width = frames.shape[1:3]
    return np.stack(
        [
            cv2.warpAffine(f, matrix, (width, height), borderMode=cv2.BORDER_REFLECT_101)
            for f in frames
        ]
    )


def crop_clip(
    frames,
    size: int,
    *,
    detector: Detector | None = None,
    box: tuple[int, int, int] | None = None,
    landmarks: Callable[[np.ndarray], np.ndarray] | None = None,
    margin: float = 0.1,
    sample: str = "clip",
) -> np.ndarray:
    """Face crop of a clip with one box, resized to (size, size).

    Args:
      frames: (T, H, W, 3) uint8 clip.
      size: output side in pixels.
      detector: see :func:`clip_face_box`.
      box: a known (x, y, side) box (skips detection).
      landmarks: optional landmark function for :func:`align_clip`.
      margin: see :func:`clip_face_box`.
      sample: clip name for error messages.

    Returns:
      (T, size, size, 3) uint8.
    """
    frames = validate.check_clip(frames, sample)
    if landmarks is not None:
        frames = align_clip(frames, landmarks)
    if box is None:
        box = clip_face_box(frames, detector, margin=margin, sample=sample)
    x, y, side = box
    crops = frames[:, y : y + side, x : x + side]
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return np.stack([cv2.resize(c, (size, size), interpolation=interpolation) for c in crops])


def facemark_lbf(model_path: str | Path, detector: Detector | None = None):
    """A 68-point landmark function from OpenCV's LBF facemark (opencv-contrib ``cv2.face``)
    and a user-supplied trained model file (e.g. ``lbfmodel.yaml``); mejax ships no model.
    """
    model_path = Path(model_path)
    if not model_path.is_file():
        raise FileNotFoundError(f"{model_path}: no facemark model file")
    facemark = cv2.face.createFacemarkLBF()
    facemark.loadModel(str(model_path))
    detector = detector or haar_detector()

    def landmarks(frame: np.ndarray) -> np.ndarray:
        gray = _gray(frame)
        boxes = detector(gray)
        if not len(boxes):
            raise ValueError("facemark: no face detected for the landmarks")
        ok, points = facemark.fit(gray, boxes[:1])
        if not ok:
            raise ValueError("facemark: landmark fitting failed")
        return np.asarray(points[0]).reshape(-1, 2)

    return landmarks
