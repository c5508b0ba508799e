"""Image pairs for validating optical flow: synthetic pairs with known flow, and real pairs.

Synthetic pairs imitate a micro-expression: a textured image (random blobs and gratings at
several scales, so that every pixel has gradient) moved by a smooth field made of a small
global translation plus a few localized Gaussian bumps (the shape of an AU's skin
displacement), with magnitudes in a chosen range (0.2-2 px by default, the size of ME motion
at 100-200 px face widths). The frames are evaluated analytically, ``I1(x) = f(x)`` and
``I0(x) = f(x + flow(x))``, so the ground truth is exact up to the uint8 quantisation both
flow methods see.

Real pairs come from scikit-image's bundled data (no download): the Middlebury "motorcycle"
stereo pair with its ground-truth disparity (flow = (-disparity, 0), inf where occluded).
"""

from __future__ import annotations

import cv2
import numpy as np


def _texture(rng: np.random.Generator, size: int):
    """A random smooth texture as a function of continuous (x, y) pixel coordinates."""
    blobs = []
    for sigma_range, count in (((1.2, 2.5), 6 * size), ((2.5, 6.0), size), ((6.0, 14.0), 12)):
        sigma = rng.uniform(*sigma_range, count)
        blobs.append(
            (
                rng.uniform(-5, size + 5, count),
                rng.uniform(-5, size + 5, count),
                sigma,
                rng.normal(0, 60 if sigma_range[0] > 2 else 45, count),
            )
        )
    cx, cy, sigma, weight = (np.concatenate(parts) for parts in zip(*blobs, strict=True))
    frequency = rng.uniform(0.15, 0.6, (3, 2)) * rng.choice([-1, 1], (3, 2))
    phase = rng.uniform(0, 2 * np.pi, 3)

    def f(x, y):
        value = np.full(x.shape, 128.0)
        for i in range(len(cx)):  # one blob at a time keeps memory at one image
            value += weight[i] * np.exp(
                -((x - cx[i]) ** 2 + (y - cy[i]) ** 2) / (2 * sigma[i] ** 2)
            )
        for (fx, fy), ph in zip(frequency, phase, strict=True):
            value += 12 * np.sin(fx * x + fy * y + ph)
        return value

    return f


def smooth_flow(
    rng: np.random.Generator, size: int, max_motion: float = 2.0, min_motion: float = 0.2
) -> np.ndarray:
    """(size, size, 2) smooth flow: a translation plus Gaussian bumps, |flow| in range."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    flow = np.zeros((size, size, 2))
    for _ in range(4):
        centre = rng.uniform(0.2 * size, 0.8 * size, 2)
        radius = rng.uniform(0.12, 0.3) * size
        direction = rng.normal(size=2)
        bump = np.exp(-((x - centre[0]) ** 2 + (y - centre[1]) ** 2) / (2 * radius**2))
        flow += bump[..., None] * direction / np.linalg.norm(direction)
    angle = rng.uniform(0, 2 * np.pi)
    flow += np.array([np.cos(angle), np.sin(angle)])  # keeps |flow| away from 0
    mag = np.hypot(flow[..., 0], flow[..., 1])
    lo, hi = mag.min(), mag.max()
    target = min_motion + (mag - lo) / max(hi - lo, 1e-9) * (max_motion - min_motion)
    return (flow * (target / np.maximum(mag, 1e-9))[..., None]).astype(np.float32)


def synthetic_pair(
    size: int = 64, seed: int = 0, max_motion: float = 2.0, min_motion: float = 0.2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(I0, I1, flow): uint8 (size, size) frames and the float32 flow with I0(x) = I1(x + flow)."""
    rng = np.random.default_rng(seed)
    f = _texture(rng, size)
    flow = smooth_flow(rng, size, max_motion, min_motion)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    i1 = f(x, y)
    i0 = f(x + flow[..., 0], y + flow[..., 1])
    to_uint8 = lambda image: np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return to_uint8(i0), to_uint8(i1), flow


def motorcycle_pair(scale: float = 0.25) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(I0, I1, flow) of the Middlebury motorcycle stereo pair (scikit-image), resized.

    ``flow`` is (-disparity, 0) scaled with the images, NaN where the disparity is unknown.
    Needs scikit-image (test extra).
    """
    from skimage import data  # only the validation needs scikit-image

    left, right, disparity = data.stereo_motorcycle()
    size = (round(left.shape[1] * scale), round(left.shape[0] * scale))
    gray = [
        cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA)
        for image in (left, right)
    ]
    disparity = np.where(np.isfinite(disparity), disparity, np.nan)
    disparity = cv2.resize(disparity, size, interpolation=cv2.INTER_NEAREST) * scale
    flow = np.stack([-disparity, np.zeros_like(disparity)], axis=-1).astype(np.float32)
    return gray[0], gray[1], flow
