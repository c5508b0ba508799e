"""Checks shared by the preprocessing functions: every error names the sample it is about.

Preprocessing runs over whole databases inside dataset builders, where an error that says
only "index out of range" costs an afternoon. Each public function of
:mod:`mejax.preprocess` takes a ``sample`` name (a clip name or file path) and raises
:class:`ValueError` with that name and what was expected.
"""

from __future__ import annotations

import cv2
import numpy as np


def check_clip(frames, sample: str = "clip", *, min_frames: int = 1) -> np.ndarray:
    """Validates a clip of frames and returns it as an array.

    Args:
      frames: (T, H, W) or (T, H, W, C) array (or a sequence of equally shaped frames).
      sample: name of the clip, used in the error messages.
      min_frames: the least number of frames the caller can work with.

    Returns:
      The clip as a NumPy array.

    Raises:
      ValueError: the clip is empty or too short, frames differ in shape (a frame that
        failed to decode is usually ``None`` or empty), the array is not 3-D/4-D, or it
        holds NaN/inf values.
    """
    if frames is None or len(frames) == 0:
        raise ValueError(f"{sample}: empty clip (0 frames); expected at least {min_frames}")
    if not isinstance(frames, np.ndarray):
        shapes = [None if f is None else np.shape(f) for f in frames]
        reference = shapes[0]
        for index, shape in enumerate(shapes):
            if shape is None or shape != reference or 0 in shape:
                raise ValueError(
                    f"{sample}: frame {index} is corrupt (shape {shape}; expected {reference}, "
                    "the shape of frame 0)"
                )
        frames = np.stack(frames)
    if frames.ndim not in (3, 4) or 0 in frames.shape:
        raise ValueError(
            f"{sample}: expected frames of shape (T, H, W) or (T, H, W, C), got {frames.shape}"
        )
    if len(frames) < min_frames:
        raise ValueError(f"{sample}: {len(frames)} frame(s); expected at least {min_frames}")
    if np.issubdtype(frames.dtype, np.floating):
        bad = ~np.isfinite(frames).reshape(len(frames), -1).all(axis=1)
        if bad.any():
            raise ValueError(
                f"{sample}: frame(s) {np.flatnonzero(bad).tolist()} are corrupt "
                "(hold NaN or inf values)"
            )
    return frames


def check_phases(
    onset: int, apex: int, offset: int | None, num_frames: int, sample: str = "clip"
) -> None:
    """Checks 0 <= onset <= apex (<= offset) < num_frames.

    Raises:
      ValueError: naming the sample and the offending indices.
    """
    phases = f"onset {onset}, apex {apex}" + ("" if offset is None else f", offset {offset}")
    last = apex if offset is None else offset
    if onset > apex:
        raise ValueError(f"{sample}: onset > apex ({phases}); expected onset <= apex")
    if offset is not None and apex > offset:
        raise ValueError(f"{sample}: apex > offset ({phases}); expected apex <= offset")
    if onset < 0 or last >= num_frames:
        raise ValueError(f"{sample}: {phases} outside the clip's {num_frames} frames")


def read_image(path: str, *, grayscale: bool = False) -> np.ndarray:
    """Reads an image file with OpenCV as RGB (or gray) uint8.

    Raises:
      ValueError: the file is missing or cannot be decoded, naming the file.
    """
    flag = cv2.IMREAD_GRAYSCALE if grayscale else cv2.IMREAD_COLOR
    image = cv2.imread(str(path), flag)
    if image is None or image.size == 0:
        raise ValueError(f"{path}: cannot read the image (missing, corrupt or not an image)")
    return image if grayscale else image[..., ::-1].copy()
