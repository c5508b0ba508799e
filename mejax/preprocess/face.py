"""Face detection and a stable face crop across a clip: MTCNN with eye alignment, or Haar.

Micro-expression pipelines crop the face once per clip, not per frame: a box that moves by a
pixel between frames creates flow larger than the expression (the motion is 0.2-2 px), so one
square box, found once, crops every frame of the clip. This is what the databases' own cropped
releases do (CASME II ``Cropped/``, SMIC ``SMIC_all_cropped``), and what the papers that use
"cropped face images provided by the databases" (STAP, arXiv:1907.05023, III; SCA,
Neurocomputing 2021, 4) train on.

MTCNN (the default for the database builders and :mod:`mejax.predict`). MTCNN (Zhang, Zhang,
Li, Qiao, "Joint face detection and alignment using multitask cascaded convolutional
networks", IEEE Signal Processing Letters 23(10), 2016) through the ``mtcnn`` package (MIT),
which ships the weights of its three networks and runs them on TensorFlow: nothing is
downloaded. :func:`mtcnn_detector` gives the boxes and eye points of a frame;
:func:`face_track` probes ``num_probe_frames`` frames spread over the clip and takes the
element-wise median of the largest face's box and eyes (robust to a missed or jittery
detection; a clip with no face on any probed frame is a :class:`NoFaceError` naming the clip
and the probed frames); :func:`align_and_crop` rotates the clip about the eyes' midpoint so
that the eyes are level and crops every frame with one square box (the median box grown by
``margin`` on each side, shifted, not shrunk, to stay inside the frame) at the clip's own
resolution. :func:`crop_geometry` and :func:`apply_crop` are its two halves, so a builder can
find the geometry on a few frames and apply it frame by frame as it decodes them.

Haar (no eyes, no alignment). OpenCV's Viola-Jones frontal-face Haar cascade (Viola and Jones,
CVPR 2001), ``haarcascade_frontalface_default.xml``; OpenCV 4.x wheels ship it in ``cv2.data``,
OpenCV 5 wheels no longer do, so :func:`haar_detector` takes the file from ``cascade_path`` or,
failing that, from ``cv2.data``, and says so when neither exists. The clip's box
(:func:`clip_face_box`) is the median of the largest detection on the probed frames, grown,
made square and shifted inside the image; :func:`crop_clip` crops and resizes with it.
Optional landmark alignment: a ``landmarks`` function (frame -> (K, 2) points in the 68-point
iBUG layout, e.g. :func:`facemark_lbf` with a user-supplied LBF model file) gives the eye
centres on the first frame; the whole clip is rotated so that the eyes are level.
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
# Below this eye-line angle (degrees) the clip is not rotated: resampling would blur the frames
# for a sub-pixel change at the face's edge.
MIN_ROTATION_DEGREES = 0.5


class NoFaceError(ValueError):
    """No face on any probed frame of a clip.

    Attributes:
      sample: the clip (its name or folder), as given.
      probed: the probed frame indices.
      num_frames: the clip's length.
    """

    def __init__(self, sample: str, probed: list[int], num_frames: int):
        self.sample, self.probed, self.num_frames = sample, probed, num_frames
        where = f"{sample}: " if sample else ""
        super().__init__(
            f"{where}no face found on the probed frames {probed} of {num_frames}: is the face "
            "visible, frontal and large enough (MTCNN finds faces from about 20 px)?"
        )


def mtcnn_detector(*, max_side: int | None = None, min_face_size: int = 20):
    """MTCNN (Zhang et al., IEEE SPL 2016) from the ``mtcnn`` package's shipped weights, on
    the CPU: frame (H, W, 3) uint8 RGB (or (H, W) grey) -> list of (box (x, y, w, h), left eye
    (x, y), right eye, confidence), in the frame's pixels.

    Args:
      max_side: frames whose longer side exceeds it are detected on a copy shrunk to it (area
        interpolation) and the results scaled back: MTCNN's image pyramid costs about 1.2 s on
        a 2040x1088 frame and 0.2 s at 640 px on one CPU core, for a box a few pixels less
        precise. None: the frame as it is.
      min_face_size: MTCNN's smallest face side in (detected) pixels.

    Raises:
      ImportError: the ``mtcnn`` package (a dependency of mejax) is not installed.
    """
    try:
        from mtcnn import MTCNN
    except ImportError as error:  # a declared dependency
        raise ImportError("face detection needs the mtcnn package: pip install mtcnn") from error
    network = MTCNN(device="CPU:0")

    def detect(frame: np.ndarray):
        frame = np.asarray(frame)
        if frame.dtype != np.uint8:
            raise ValueError(f"expected uint8 frames, got {frame.dtype}")
        if frame.ndim == 2 or frame.shape[-1] == 1:
            frame = cv2.cvtColor(frame.reshape(frame.shape[:2]), cv2.COLOR_GRAY2RGB)
        scale = 1.0
        if max_side is not None and max(frame.shape[:2]) > max_side:
            scale = max(frame.shape[:2]) / max_side
            height, width = (round(n / scale) for n in frame.shape[:2])
            frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
        found = []
        faces = network.detect_faces(np.ascontiguousarray(frame), min_face_size=min_face_size)
        for face in faces:
            points = face["keypoints"]
            found.append(
                (
                    np.asarray(face["box"], np.float64) * scale,
                    np.asarray(points["left_eye"], np.float64) * scale,
                    np.asarray(points["right_eye"], np.float64) * scale,
                    float(face["confidence"]),
                )
            )
        return found

    return detect


def face_track(frames, detector, num_probe_frames: int = 5, *, sample: str = "") -> dict:
    """The face of the clip from detections on ``num_probe_frames`` frames spread over it.

    Args:
      frames: (T, H, W, 3) uint8 clip, or any sequence of such frames (``len`` and indexing;
        only the probed frames are read).
      detector: frame -> list of (box (x, y, w, h), left eye, right eye, confidence), e.g.
        :func:`mtcnn_detector`.
      num_probe_frames: frames evenly spread from the first to the last that are probed.
      sample: the clip's name or folder, for the error.

    Returns:
      {"box": median (x, y, w, h), "eyes": median (left, right) eye points, "angle": the eye
      line's angle in degrees, "probed": probed frames, "missed": probed frames without a face}.

    Raises:
      NoFaceError: no face on any probed frame (listed).
    """
    probes = np.unique(np.linspace(0, len(frames) - 1, num_probe_frames).round().astype(int))
    boxes, lefts, rights, missed = [], [], [], []
    for index in probes:
        found = detector(frames[index])
        if not found:
            missed.append(int(index))
            continue
        box, left, right, _ = max(found, key=lambda f: f[0][2] * f[0][3])  # the largest face
        boxes.append(box), lefts.append(left), rights.append(right)
    if not boxes:
        raise NoFaceError(sample, probes.tolist(), len(frames))
    left, right = np.median(lefts, axis=0), np.median(rights, axis=0)
    angle = float(np.degrees(np.arctan2(right[1] - left[1], right[0] - left[0])))
    return {
        "box": np.median(boxes, axis=0),
        "eyes": (left, right),
        "angle": angle,
        "probed": probes.tolist(),
        "missed": missed,
    }


def crop_geometry(track: dict, frame_shape: tuple[int, int], margin: float = 0.2) -> dict:
    """The one rotation and square box of a clip, from its :func:`face_track`.

    Args:
      track: :func:`face_track`'s result.
      frame_shape: (height, width) of the clip's frames.
      margin: growth of the box on each side, as a fraction of its larger side.

    Returns:
      {"box": [x, y, side] in the rotated frame, "angle": the eye line's angle in degrees
      (the frames are rotated by it about "centre", the eyes' midpoint (x, y), unless it is
      below :data:`MIN_ROTATION_DEGREES`)}.
    """
    height, width = frame_shape
    left, right = track["eyes"]
    centre = (float((left[0] + right[0]) / 2), float((left[1] + right[1]) / 2))
    matrix = cv2.getRotationMatrix2D(centre, track["angle"], 1.0)
    x, y, w, h = track["box"]
    cx, cy = matrix @ np.array([x + w / 2, y + h / 2, 1.0])
    side = int(round(min(max(w, h) * (1 + 2 * margin), height, width)))
    x0 = int(np.clip(round(cx - side / 2), 0, width - side))
    y0 = int(np.clip(round(cy - side / 2), 0, height - side))
    return {"box": [x0, y0, side], "angle": float(track["angle"]), "centre": list(centre)}


def apply_crop(frames: np.ndarray, geometry: dict) -> np.ndarray:
    """(T, S, S[, C]) crops of (T, H, W[, C]) frames with one :func:`crop_geometry`: each frame
    rotated about the eyes' midpoint (borders reflected) and cropped with the one box.

    The rotation and the crop are one affine warp into the box, the same pixels as rotating
    the whole frame and slicing it, at the cost of the box alone.
    """
    frames = np.asarray(frames)
    x0, y0, side = geometry["box"]
    if abs(geometry["angle"]) <= MIN_ROTATION_DEGREES:
        return np.ascontiguousarray(frames[:, y0 : y0 + side, x0 : x0 + side])
    matrix = cv2.getRotationMatrix2D(tuple(geometry["centre"]), geometry["angle"], 1.0)
    matrix[:, 2] -= (x0, y0)
    return np.stack(
        [cv2.warpAffine(f, matrix, (side, side), borderMode=cv2.BORDER_REFLECT_101) for f in frames]
    ).reshape(len(frames), side, side, *frames.shape[3:])


def align_and_crop(frames: np.ndarray, track: dict, margin: float = 0.2):
    """Every frame rotated so the eyes are level and cropped with one square box.

    Args:
      frames: (T, H, W, 3) uint8 clip.
      track: :func:`face_track`'s result on it.
      margin: growth of the box on each side, as a fraction of its larger side.

    Returns:
      ((T, S, S, 3) uint8 crops at the clip's resolution, {"box": [x, y, side] in the rotated
      frame, "angle": degrees}).
    """
    frames = np.asarray(frames)
    geometry = crop_geometry(track, frames.shape[1:3], margin)
    return apply_crop(frames, geometry), {"box": geometry["box"], "angle": geometry["angle"]}


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
