"""Micro-expression augmentation: enriched apex frames, paired rotations, colour, crops, flips.

MER-auGCN (Zhou, Mao and Dong, 2020; the data augmentation of its experimental setup): the
apex frame is "enriched" with the frames at
``onset + (apex - onset) * r`` for r in 0.6, 0.7, 0.8, 0.9 and at
``apex + (offset - apex) * r`` for r in 0.1 ... 0.5 (intensity near the apex's), and each
(onset, apex') pair is rotated by -15 ... 15 degrees in 5-degree steps, the same rotation
for both frames, before the optical flow is computed: 10 apex frames x 7 angles = 70 pairs
per clip.

Choices the paper leaves open (arguments here): positions are rounded to the nearest frame
(on short clips two ratios can land on one frame; the duplicate is kept so every clip yields
the same count); the apex itself is one of the 10; rotation is about the image centre with a
reflected border (``cv2.BORDER_REFLECT_101``; a black border would create flow edges).

The generic augmentations (colour shift, rotation, smoothing: :func:`random_photometric`,
Micro-Attention's; torchvision's colour jitter, :func:`color_jitter`, which the public code of
the MEGC2019 recogniser of Liu, Du, Zheng, Gedeon applies to its flow images; random and corner
crops, flips) run on NumPy images with OpenCV; flipping a flow field also negates its
horizontal component (:func:`flip_flow`).
"""

from __future__ import annotations

import cv2
import numpy as np

from mejax.preprocess import validate

BEFORE_APEX = (0.6, 0.7, 0.8, 0.9)
AFTER_APEX = (0.1, 0.2, 0.3, 0.4, 0.5)
ANGLES = tuple(range(-15, 16, 5))


def enriched_apex_indices(
    onset: int,
    apex: int,
    offset: int,
    *,
    before: tuple[float, ...] = BEFORE_APEX,
    after: tuple[float, ...] = AFTER_APEX,
    include_apex: bool = True,
    num_frames: int | None = None,
    sample: str = "clip",
) -> list[int]:
    """Frame indices of the enriched apex frames (MER-auGCN), in temporal order.

    Args:
      onset, apex, offset: the clip's phase frames (0-based).
      before: ratios r of ``onset + (apex - onset) * r``.
      after: ratios r of ``apex + (offset - apex) * r``.
      include_apex: also return the apex itself.
      num_frames: clip length, to check the indices against.
      sample: clip name for error messages.
    """
    validate.check_phases(
        onset, apex, offset, offset + 1 if num_frames is None else num_frames, sample
    )
    positions = [onset + (apex - onset) * r for r in before]
    positions += [apex] if include_apex else []
    positions += [apex + (offset - apex) * r for r in after]
    return [int(np.floor(p + 0.5)) for p in positions]


def rotate(image: np.ndarray, angle: float, border: int = cv2.BORDER_REFLECT_101) -> np.ndarray:
    """Rotates an (H, W[, C]) image by ``angle`` degrees (counter-clockwise) about its centre."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), angle, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=border)


def augmented_pairs(
    frames,
    onset: int,
    apex: int,
    offset: int,
    *,
    angles: tuple[float, ...] = ANGLES,
    sample: str = "clip",
    **index_options,
) -> tuple[np.ndarray, list[tuple[int, float]]]:
    """The (onset, enriched apex) pairs of a clip under every paired rotation.

    Args:
      frames: (T, H, W[, C]) clip.
      onset, apex, offset: the clip's phase frames.
      angles: rotations in degrees, applied identically to both frames of a pair.
      sample: clip name for error messages.
      **index_options: passed to :func:`enriched_apex_indices`.

    Returns:
      ((P, 2, H, W[, C]) pairs, [(apex' index, angle)] for each), P = 10 x 7 = 70 by default;
      feed ``pairs[:, 0], pairs[:, 1]`` to :func:`mejax.preprocess.flow.tvl1` in one call.
    """
    frames = validate.check_clip(frames, sample)
    indices = enriched_apex_indices(
        onset, apex, offset, num_frames=len(frames), sample=sample, **index_options
    )
    pairs, keys = [], []
    for index in indices:
        for angle in angles:
            pairs.append([rotate(frames[onset], angle), rotate(frames[index], angle)])
            keys.append((index, float(angle)))
    return np.asarray(pairs), keys


def color_shift(image: np.ndarray, rng: np.random.Generator, max_shift: float = 20.0):
    """Adds a uniform random offset in [-max_shift, max_shift] to each channel (uint8 clipped).

    For a clip, pass the clip: the same shift applies to every frame.
    """
    shift = rng.uniform(-max_shift, max_shift, image.shape[-1])
    return np.clip(image.astype(np.float32) + shift, 0, 255).astype(image.dtype)


# ITU-R 601 luma weights (PIL's ``convert("L")``, torchvision's ``rgb_to_grayscale``).
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def color_jitter(images: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """torchvision's ``ColorJitter(strength, strength, strength, strength)`` on uint8 RGB
    images: brightness, contrast and saturation factors drawn uniformly from
    [1 - strength, 1 + strength] and a hue shift from [-strength, strength] of a turn, applied
    in a random order (:func:`adjust_colors`), the same to every frame of (..., H, W, 3)
    images. A grey image (one channel) gets brightness and contrast only.
    """
    if images.shape[-1] not in (1, 3):
        raise ValueError(f"color_jitter: 1 or 3 channels, got {images.shape[-1]}")
    brightness, contrast, saturation = rng.uniform(1 - strength, 1 + strength, 3)
    hue = rng.uniform(-strength, strength)
    return adjust_colors(images, brightness, contrast, saturation, hue, rng.permutation(4))


def adjust_colors(images, brightness=1.0, contrast=1.0, saturation=1.0, hue=0.0,
                  order=(0, 1, 2, 3)) -> np.ndarray:  # fmt: skip
    """The four adjustments of torchvision's ``ColorJitter`` on uint8 (..., H, W, C) images, in
    ``order`` (0 brightness, 1 contrast, 2 saturation, 3 hue), as PIL's ``ImageEnhance`` and
    torchvision's ``adjust_hue`` define them: brightness scales the pixels; contrast blends
    them with their mean grey level, saturation with their grey image (ITU-R 601 luma); hue
    turns the HSV hue circle by ``hue`` turns. Each result is clipped to [0, 255]; computed in
    float and rounded once at the end (PIL rounds after each step). Saturation and hue leave a
    one-channel image as it is.
    """
    factors = {0: brightness, 1: contrast, 2: saturation}
    x = images.astype(np.float32)
    for op in order:
        rgb = x.shape[-1] == 3
        grey = x @ LUMA if rgb else x[..., 0]
        if op == 0:
            x = x * factors[0]
        elif op == 1:
            mean = grey.mean(axis=(-2, -1), keepdims=True)[..., None]
            x = factors[1] * x + (1 - factors[1]) * mean
        elif op == 2 and rgb:
            x = factors[2] * x + (1 - factors[2]) * grey[..., None]
        elif op == 3 and rgb and hue:
            x = _shift_hue(x, hue)
        x = np.clip(x, 0, 255)
    return np.round(x).astype(images.dtype)


def _shift_hue(x: np.ndarray, turns: float) -> np.ndarray:
    """Float RGB (..., H, W, 3) in [0, 255] with its HSV hue turned by ``turns``."""

    def shift(frame):
        hsv = cv2.cvtColor(frame / 255.0, cv2.COLOR_RGB2HSV)  # hue in degrees [0, 360)
        hsv[..., 0] = (hsv[..., 0] + 360.0 * turns) % 360.0
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255.0

    return _per_frame(x.astype(np.float32), shift)


def _per_frame(images: np.ndarray, function) -> np.ndarray:
    """``function`` of every (H, W, C) frame of (..., H, W, C) images, channels kept (OpenCV
    drops a single channel)."""
    frames = images.reshape(-1, *images.shape[-3:])
    out = np.stack([function(f).reshape(f.shape) for f in frames])
    return out.reshape(images.shape)


def smooth(images: np.ndarray, window: int) -> np.ndarray:
    """Box-filter smoothing of (..., H, W, C) images with a ``window`` x ``window`` mean."""
    return _per_frame(images, lambda f: cv2.blur(f, (window, window)))


def random_photometric(
    images: np.ndarray,
    rng: np.random.Generator,
    *,
    max_color_shift: float = 0.0,
    max_rotation: float = 0.0,
    max_smoothing: int = 0,
    jitter: float = 0.0,
    probability: float = 0.5,
) -> np.ndarray:
    """Micro-Attention's training augmentation (Wang, Peng, Bi, Chen, Neurocomputing 2020,
    Sec. 4.1): each enabled transform applied with ``probability``, the same to every frame of
    a clip: a colour shift of at most ``max_color_shift`` per channel, a rotation by a uniform
    angle in [-``max_rotation``, ``max_rotation``] degrees, a box smoothing with a window
    drawn from 2 .. ``max_smoothing``. The paper gives the maxima (20, 10 degrees, 6) and
    "randomly", not the distributions: uniform draws are a choice. ``jitter`` adds
    torchvision's colour jitter of that strength after the rotation (:func:`color_jitter`; the
    MEGC2019 recogniser's reference code: rotation <= 10 degrees, then ``ColorJitter(.2, .2,
    .2, .2)``, both always applied: ``probability=1``).

    Args:
      images: (..., H, W, C) uint8 image or clip.
      rng: the draw.
      max_color_shift, max_rotation, max_smoothing, jitter: 0 disables a transform.
      probability: of each transform.
    """
    if max_color_shift and rng.random() < probability:
        images = color_shift(images, rng, max_color_shift)
    if max_rotation and rng.random() < probability:
        angle = rng.uniform(-max_rotation, max_rotation)
        images = _per_frame(images, lambda f: rotate(f, angle))
    if jitter and rng.random() < probability:
        images = color_jitter(images, rng, jitter)
    if max_smoothing >= 2 and rng.random() < probability:
        images = smooth(images, int(rng.integers(2, max_smoothing + 1)))
    return images


def random_crop(images: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """The same random size x size crop of (..., H, W, C) images."""
    height, width = images.shape[-3:-1]
    if size > min(height, width):
        raise ValueError(f"crop {size} larger than the {height}x{width} images")
    top, left = rng.integers(0, height - size + 1), rng.integers(0, width - size + 1)
    return images[..., top : top + size, left : left + size, :]


def corner_crops(images: np.ndarray, size: int) -> np.ndarray:
    """The four corner crops and the centre crop of (..., H, W, C) images: (5, ..., s, s, C)."""
    height, width = images.shape[-3:-1]
    if size > min(height, width):
        raise ValueError(f"crop {size} larger than the {height}x{width} images")
    top, left = (height - size) // 2, (width - size) // 2
    corners = [(0, 0), (0, width - size), (height - size, 0), (height - size, width - size)]
    return np.stack(
        [images[..., y : y + size, x : x + size, :] for y, x in [*corners, (top, left)]]
    )


def flip(images: np.ndarray) -> np.ndarray:
    """Horizontal flip of (..., H, W, C) images."""
    return images[..., ::-1, :]


def flip_flow(flow: np.ndarray) -> np.ndarray:
    """Horizontal flip of (..., H, W, 2) flow: mirrored, and the x component negated."""
    flipped = np.array(flow[..., ::-1, :], copy=True)
    flipped[..., 0] *= -1
    return flipped
