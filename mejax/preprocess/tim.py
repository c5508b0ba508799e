"""Temporal Interpolation Model (TIM): resample a clip of any length to N frames.

Zhou, Zhao and Pietikainen, "Towards a Practical Lipreading System", CVPR 2011, section 3
(the graph-embedding interpolation); used for micro-expressions by Pfister et al. (ICCV 2011)
and by STAP (10 frames) and SCA (50 frames, then 10 sampled).

The model. The n frames of a clip are the n vertices of a path graph P_n. The eigenvectors
of its Laplacian, with the trivial constant one dropped, embed frame i at
``y_i = F_n(i / n)`` where ``F_n(t) = [f_1(t), ..., f_{n-1}(t)]`` and

    f_k(t) = sin(pi k t + pi (n - k) / (2 n)),   t in [1/n, 1]          (paper, eq. 5)

a continuous curve through the embedded frames. A linear map (the linear extension of the
graph embedding, learnt in closed form from the mean-removed frames X by SVD) sends the
frames onto the curve; its pseudo-inverse sends any curve point back to image space:

    x(t) = mean + X Y^+ F_n(t),   Y = [y_1 ... y_n]

which reproduces every original frame at t = i/n, and N new frames are read at N points
spread evenly over [1/n, 1]. Since ``f_k(i/n) = cos(pi k (i - 1/2) / n)``, Y holds the DCT-II
basis and ``Y^+ = (2/n) Y^T``: TIM is trigonometric (DCT) interpolation of every pixel's time
series. That is what this module computes, as an (N, n) weight matrix applied to the frames.

Choices the paper leaves open:

- PCA. The paper reduces the frames with PCA before the embedding for speed; keeping every
  component (``num_components=None``, the default) loses nothing and is what the closed form
  above computes. ``num_components=r`` keeps the top r principal components of the
  mean-removed frames, which also denoises (plausible reading of the paper's PCA step).
- Output range. Trigonometric interpolation can overshoot between frames (ringing at sharp
  temporal changes); integer outputs are rounded and clipped to the dtype's range.
- A one-frame clip has no curve; it is repeated N times.

TIM versus linear resampling (:func:`mejax.preprocess.temporal.resample_linear`):

- both keep the first and last frame; linear resampling keeps every frame only when
  N - 1 is a multiple of n - 1, TIM lies on every original frame's curve point but its
  output times (evenly spread over [1/n, 1]) generally fall between frames too;
- on motion that is a sum of low temporal frequencies (a raised-cosine onset-apex-offset,
  the shape of a micro-expression) TIM is exact up to the n-th harmonic while linear
  resampling cuts corners between samples (second-order error); on a discontinuity TIM
  rings where linear resampling does not;
- linear resampling costs 2 frame reads per output frame, TIM n (negligible at ME lengths).

The tests check TIM against sequences with a known closed form (each pixel a DCT basis
function of time) where it is exact and linear resampling is not.
"""

from __future__ import annotations

import numpy as np

from mejax.preprocess import validate


def curve(num_frames: int, t: np.ndarray) -> np.ndarray:
    """The TIM curve F_n at times ``t``: (len(t), n - 1), column k-1 is f_k (paper eq. 5)."""
    k = np.arange(1, num_frames)
    t = np.asarray(t, np.float64)[:, None]
    return np.sin(np.pi * k * t + np.pi * (num_frames - k) / (2 * num_frames))


def output_times(num_frames: int, num_out: int) -> np.ndarray:
    """The N curve positions TIM samples: evenly spread over [1/n, 1], the span of the frames."""
    if num_out == 1:
        return np.array([(1 + 1 / num_frames) / 2])
    return np.linspace(1 / num_frames, 1.0, num_out)


def tim_weights(num_frames: int, num_out: int) -> np.ndarray:
    """(num_out, num_frames) weights: output frame j = sum_i w[j, i] * input frame i.

    Rows sum to 1 (the mean is kept). Valid when no PCA truncation is applied.
    """
    if num_frames < 1 or num_out < 1:
        raise ValueError(f"need at least one input and output frame, got {num_frames}, {num_out}")
    if num_frames == 1:
        return np.ones((num_out, 1))
    embedding = curve(num_frames, np.arange(1, num_frames + 1) / num_frames)  # (n, n-1) = Y^T
    pinv = (2.0 / num_frames) * embedding  # Y^+ (n, n-1): Y's rows are orthogonal, norm n/2
    targets = curve(num_frames, output_times(num_frames, num_out))  # (N, n-1)
    return 1.0 / num_frames + targets @ pinv.T


def tim(
    frames,
    num_out: int,
    *,
    num_components: int | None = None,
    sample: str = "clip",
) -> np.ndarray:
    """Interpolates a clip to ``num_out`` frames with the Temporal Interpolation Model.

    Args:
      frames: (T, H, W) or (T, H, W, C) clip, T >= 1, any numeric dtype.
      num_out: number of output frames N (10 for STAP, 50 for SCA).
      num_components: keep only the top principal components of the mean-removed frames
        (the paper's PCA step); None keeps all of them (exact TIM).
      sample: name of the clip for error messages.

    Returns:
      (num_out, H, W[, C]) clip with the input dtype (integers rounded and clipped).
    """
    frames = validate.check_clip(frames, sample)
    if num_out < 1:
        raise ValueError(f"{sample}: num_out={num_out}; expected at least 1")
    n = len(frames)
    flat = frames.reshape(n, -1).astype(np.float64)
    if num_components is not None and n > 1:
        if not 1 <= num_components:
            raise ValueError(f"{sample}: num_components={num_components}; expected >= 1")
        mean = flat.mean(axis=0)
        centered = flat - mean
        # Thin SVD of the (n, pixels) centred frames: cost linear in the pixels.
        left, singular, right = np.linalg.svd(centered, full_matrices=False)
        r = min(num_components, len(singular))
        flat = mean + (left[:, :r] * singular[:r]) @ right[:r]
    out = tim_weights(n, num_out) @ flat
    out = out.reshape(num_out, *frames.shape[1:])
    if np.issubdtype(frames.dtype, np.integer):
        info = np.iinfo(frames.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    return out.astype(frames.dtype)


def tim_then_sample(
    frames, interpolate_to: int = 50, num_out: int = 10, *, sample: str = "clip"
) -> np.ndarray:
    """SCA's input: TIM to ``interpolate_to`` frames, then ``num_out`` frames evenly sampled.

    The frames kept are ``round(linspace(0, interpolate_to - 1, num_out))`` (a fixed, evenly
    spaced sampling; the training-time random offset, if any, belongs to the input pipeline).
    """
    dense = tim(frames, interpolate_to, sample=sample)
    keep = np.rint(np.linspace(0, interpolate_to - 1, num_out)).astype(int)
    return dense[keep]
