"""Temporal resampling of a clip to a fixed number of frames.

STAP and SCA interpolate each clip with the Temporal Interpolation Model (Zhou, Zhao,
Pietikainen 2011), :func:`mejax.preprocess.tim.tim`. ``linear`` resampling (frame positions
spread evenly from the first to the last frame, each a blend of its two neighbours) is the
cheap alternative; it samples the same positions as TIM and differs from it between frames
(see :mod:`mejax.preprocess.tim` for the comparison).
"""

from __future__ import annotations

import numpy as np


def resample_linear(frames: np.ndarray, num_frames: int) -> np.ndarray:
    """Resamples (T, H, W, C) frames to (num_frames, H, W, C) by linear interpolation in time.

    Args:
      frames: the clip, T >= 1.
      num_frames: the output length.

    Returns:
      The resampled clip, dtype of the input (rounded for integer types).
    """
    if len(frames) == 0:
        raise ValueError("cannot resample an empty clip")
    positions = np.linspace(0, len(frames) - 1, num_frames)
    lower = np.floor(positions).astype(int)
    upper = np.minimum(lower + 1, len(frames) - 1)
    weight = (positions - lower)[:, None, None, None]
    blended = (1 - weight) * frames[lower].astype(np.float32) + weight * frames[upper]
    if np.issubdtype(frames.dtype, np.integer):
        blended = np.rint(blended)
    return blended.astype(frames.dtype)
