"""The descriptors by name, as functions of an RGB clip.

``config.baseline.descriptor`` holds a descriptor's ``name`` and its keyword arguments (the
parameters of the function below); ``config.baseline.blocks`` the block grid. Every
descriptor sees the clip as gray frames (OpenCV's RGB -> gray, the papers' MATLAB
``rgb2gray`` weights), uint8.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from mejax.baselines import hog3d, hoof, lbp_top, lpq_top

DESCRIPTORS: dict[str, Callable[..., np.ndarray]] = {
    "lbp_top": lbp_top.lbp_top,
    "lbp_sip": lbp_top.lbp_sip,
    "lpq_top": lpq_top.lpq_top,
    "hog3d": hog3d.hog3d,
    "hog3d_polikovsky": hog3d.hog3d_polikovsky,
    "hoof": hoof.hoof,
}


def to_gray(clip: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB (or (T, H, W) gray) -> (T, H, W) uint8 gray."""
    clip = np.asarray(clip)
    if clip.ndim == 3:
        return clip.astype(np.uint8)
    if clip.ndim != 4 or clip.shape[-1] != 3:
        raise ValueError(f"expected a (T, H, W, 3) RGB clip, got shape {clip.shape}")
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in clip.astype(np.uint8)])


def make(descriptor: dict, grid: Sequence[int]) -> Callable[[np.ndarray], np.ndarray]:
    """A function mapping an RGB (or gray) clip to the descriptor of ``descriptor``.

    Args:
      descriptor: ``{"name": ..., **keyword arguments of the descriptor function}``.
      grid: block grid (rows, columns, temporal segments).
    """
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in dict(descriptor).items()}
    name = kwargs.pop("name", None)
    if name not in DESCRIPTORS:
        raise ValueError(f"baseline.descriptor.name {name!r} not in {tuple(DESCRIPTORS)}")
    function = DESCRIPTORS[name]
    accepted = set(inspect.signature(function).parameters) - {"volume", "frames", "grid"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(
            f"baseline.descriptor: {name} takes no {unknown}; its parameters: {sorted(accepted)}"
        )

    def describe(clip: np.ndarray) -> np.ndarray:
        return function(to_gray(clip), grid=tuple(grid), **kwargs)

    return describe
