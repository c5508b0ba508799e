"""MDMD: the MEGC2020 organisers' training-free spotting baseline (main directional maximal
difference).

He, Wang, Wang, Li, Huang and Zhao's baseline of the MEGC2020 spotting challenge, as its public
code runs it (HeyingGithub/Baseline-project-for-MEGC2020_spotting: ``MDMD_codes/MDMD.m``,
``cmd.m``, ``MDMD_results/MDMDmat_to_txt.m`` and ``evaluation_all_p.py``; SPECS-SPOT §4a):

1. **Feature** (``MDMD.m``): for each frame i with k <= i < T - k (positions), the flows
   F_{i-k} -> F_i ("near") and F_{i-k} -> F_{i+k} ("far"); the face cut into 6 x 6 blocks
   (``floor`` of the side over 6 pixels each, the remainder left out). Per block, each pixel's
   direction theta = atan(u / v) in degrees falls in one of 4 bins, [0, 90), [90, 180),
   [-180, -90), [-90, 0), counted from the near flow; atan spans only (-90, 90), so the second
   bin holds only v = 0, u > 0 and the third none (reproduced as written). In the majority bin
   (first one on ties, MATLAB's ``max``) each pixel gives rho_near - rho_far (flow
   magnitudes); the block's value is the mean of the largest third (``round(m / 3)`` of its m
   pixels), the frame's value F_i the mean of the largest third of its 36 blocks.
2. **Contrast** (``cmd.m`` L61-66): C_i = F_i - (F_{i-m} + F_{i+m}) / 2 with m = k - 1. As in
   ``cmd.m`` the loop stops at position l - k - m (l = T - 2k, 1-based), 2k frames before the
   last frame whose contrast exists; ``full_range=True`` runs it to the end.
3. **Threshold** (L71-72): T = mean(C) + p (max(C) - mean(C)), p = 0.01 (the README's
   setting); frames with C_i > T are marked, each run of marked frames is an interval
   (``MDMDmat_to_txt.m``), kept when its length (offset - onset + 1) is within the type's
   limits (``evaluation_all_p.py`` L14-25, :data:`REFERENCE`).
4. **Short videos** (``cmd.m`` L47-51): k is halved (rounded half up) while T - 2k < 4k.

Parameters (SPECS-SPOT §2, :data:`REFERENCE`): CAS(ME)² micro k 12, lengths 7-16, macro k 39,
lengths >= 17; SAMM-LV micro k 80, lengths 47-105, macro k 260, lengths >= 106 (CAS(ME)² is
30 fps, SAMM-LV 200 fps: SAMM-LV's k are exactly CAS(ME)²'s scaled by 200 / 30).
:func:`mdmd_params` gives these for the two databases and, for any other (CAS(ME)³ at 30 fps,
the synthetic long videos), CAS(ME)²'s values scaled by fps / 30, rounded (k at least 1).

Departures, documented:

* flow: RLOF (``RLOF_fun.m``) is not available here; the flow is one of
  :data:`mejax.spotting.flow_features.FLOW_METHODS` (Farneback by default), on the grey face
  crops the long-video builders store, area-resized to ``work_size``^2 (64^2 by default; the
  baseline crops with dlib landmarks and resizes to 227^2, ``preprocess.py`` L16-33);
* a block whose majority bin holds one pixel (``round(1 / 3) = 0``: MATLAB's mean of nothing is
  NaN and spoils the frame) takes that pixel's value; a block without any direction (zero flow
  everywhere: 0 / 0) is 0;
* lengths are counted in frame numbers (a video with missing frames, CAS(ME)³, counts the
  missing ones too, as MEGC's metric does); the baseline counts positions;
* each interval is scored with its largest contrast (the baseline writes 1.0), for the
  confidence-ordered matching rule.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mejax.datasets.long_video import LongVideo
from mejax.spotting import flow_features
from mejax.spotting.evaluation import Interval

P = 0.01  # SPECS-SPOT §4a: the baseline's README setting
BLOCKS = 6  # cmd.m: blocks = [6]


@dataclasses.dataclass(frozen=True)
class MDMDParams:
    """MDMD's setting for one database and expression type.

    Attributes:
      k: the frame distance of the flows (before any halving for short videos).
      min_length: shortest interval kept (frames, both ends included).
      max_length: longest interval kept; None for no limit.
      p: the threshold fraction.
      blocks: blocks per side of the face.
    """

    k: int
    min_length: int = 1
    max_length: int | None = None
    p: float = P
    blocks: int = BLOCKS


# SPECS-SPOT §2: cmd.m L23-31 (k) and evaluation_all_p.py L14-25 (lengths).
REFERENCE = {
    ("CAS(ME)^2", "micro"): MDMDParams(k=12, min_length=7, max_length=16),
    ("CAS(ME)^2", "macro"): MDMDParams(k=39, min_length=17),
    ("SAMM-LV", "micro"): MDMDParams(k=80, min_length=47, max_length=105),
    ("SAMM-LV", "macro"): MDMDParams(k=260, min_length=106),
}
REFERENCE_FPS = {"CAS(ME)^2": 30.0, "SAMM-LV": 200.0}
_ALIASES = {
    "casmesq": "CAS(ME)^2",
    "casmesquare": "CAS(ME)^2",
    "sammlv": "SAMM-LV",
    "sammlongvideos": "SAMM-LV",
    "sammmegc": "SAMM-LV",
}


def _canonical(database: str | None) -> str | None:
    if database is None:
        return None
    key = re.sub(r"[^a-z0-9]", "", database.lower())
    return _ALIASES.get(key)


def mdmd_params(expression_type: str, fps: float, database: str | None = None) -> MDMDParams:
    """The baseline's parameters for a database (by name), else CAS(ME)²'s scaled by fps / 30.

    Names recognised (case and punctuation ignored): CAS(ME)^2, casme_sq (the builder's name);
    SAMM-LV, samm_lv, SAMM_MEGC. ``casme3`` (30 fps) gets CAS(ME)²'s values through the scaling.
    """
    name = _canonical(database)
    if name is not None:
        return REFERENCE[(name, expression_type)]
    base = REFERENCE[("CAS(ME)^2", expression_type)]
    scale = fps / REFERENCE_FPS["CAS(ME)^2"]
    return dataclasses.replace(
        base,
        k=max(1, round(base.k * scale)),
        min_length=max(1, round(base.min_length * scale)),
        max_length=None if base.max_length is None else max(1, round(base.max_length * scale)),
    )


def effective_k(length: int, k: int) -> int:
    """``cmd.m``'s k for a video of ``length`` frames: halved (half up) while length - 2k < 4k."""
    while k > 1 and length - 2 * k - 4 * k < 0:
        k = int(k / 2 + 0.5)
    return k


# --------------------------------------------------------------------------------------
# Feature


def _bins(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """MDMD.m's direction bin (0-3) of each pixel, -1 where atan(u / v) is undefined (0 / 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.degrees(np.arctan(u / v))
    bins = np.full(theta.shape, -1, np.int8)
    bins[(theta >= 0) & (theta < 90)] = 0
    bins[(theta >= 90) & (theta < 180)] = 1
    bins[(theta >= -180) & (theta < -90)] = 2
    bins[(theta >= -90) & (theta < 0)] = 3
    return bins


def _top_third_mean(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mean of the largest round(count / 3) (at least 1) of each row's first ``count`` values
    sorted in descending order; ``values`` (..., P) holds -inf beyond the counted ones."""
    ordered = -np.sort(-values, axis=-1)
    take = np.maximum(np.rint(counts / 3), 1).astype(int)
    sums = np.take_along_axis(
        np.cumsum(np.where(np.isfinite(ordered), ordered, 0), axis=-1),
        np.minimum(take, values.shape[-1])[..., None] - 1,
        axis=-1,
    )[..., 0]
    return np.where(counts > 0, sums / take, 0.0)


def frame_values(near: np.ndarray, far: np.ndarray, blocks: int = BLOCKS) -> np.ndarray:
    """MDMD's feature F of each frame from its near and far flows ((n, H, W, 2) each): (n,)."""
    n, height, width = near.shape[:3]
    bh, bw = height // blocks, width // blocks
    if bh < 1 or bw < 1:
        raise ValueError(f"frame_values: {height}x{width} flow is smaller than {blocks} blocks")

    def split(x):  # (n, H, W) -> (n, blocks^2, bh * bw)
        x = x[:, : blocks * bh, : blocks * bw].reshape(n, blocks, bh, blocks, bw)
        return x.transpose(0, 1, 3, 2, 4).reshape(n, blocks * blocks, bh * bw)

    bins = split(_bins(near[..., 0], near[..., 1]))
    counts = np.stack([(bins == b).sum(-1) for b in range(4)], axis=-1)
    majority = np.argmax(counts, axis=-1)  # the first bin on ties
    selected = bins == majority[..., None]
    difference = split(np.hypot(near[..., 0], near[..., 1]) - np.hypot(far[..., 0], far[..., 1]))
    block = _top_third_mean(
        np.where(selected, difference, -np.inf),
        np.take_along_axis(counts, majority[..., None], -1)[..., 0],
    )
    return _top_third_mean(block, np.full(n, blocks * blocks))


def video_signal(
    video: LongVideo,
    k: int,
    *,
    method: str = "farneback",
    work_size: int = 64,
    blocks: int = BLOCKS,
    chunk: int = 256,
) -> np.ndarray:
    """MDMD's feature of one video, streamed: (max(T - 2k, 0),) float32, value n for position
    n + k (pass :func:`effective_k`'s k to follow the baseline on short videos)."""
    out = np.zeros(max(len(video) - 2 * k, 0), np.float32)
    for start, base, shifted in flow_features.frame_pairs(
        video, (k, 2 * k), work_size, chunk=chunk
    ):
        near = flow_features.compute_flow(base, shifted[k], method)
        far = flow_features.compute_flow(base, shifted[2 * k], method)
        out[start : start + len(base)] = frame_values(near, far, blocks)
    return out


def signals(
    videos: Sequence[LongVideo],
    params: MDMDParams,
    cache_dir: str | Path,
    *,
    method: str = "farneback",
    work_size: int = 64,
    chunk: int = 256,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """:func:`video_signal` of every video at its :func:`effective_k`, cached per video."""

    def k_of(video):
        return effective_k(len(video), params.k)

    return flow_features.cached_per_video(
        videos,
        cache_dir,
        lambda video: f"mdmd_{method}_k{k_of(video)}_w{work_size}_b{params.blocks}",
        lambda video: video_signal(
            video,
            k_of(video),
            method=method,
            work_size=work_size,
            blocks=params.blocks,
            chunk=chunk,
        ),
        progress=progress,
        description=f"MDMD k={params.k}",
        mmap=False,
    )


# --------------------------------------------------------------------------------------
# Intervals


def contrast(signal: np.ndarray, k: int, full_range: bool = False) -> tuple[int, np.ndarray]:
    """C_i = F_i - (F_{i-m} + F_{i+m}) / 2, m = k - 1, over ``cmd.m``'s range of positions.

    Args:
      signal: (T - 2k,) MDMD's feature, value n for position n + k.
      k: its k.
      full_range: run to the last position whose contrast exists instead of ``cmd.m``'s
        bound, 2k frames earlier.

    Returns:
      (first position, C): C[j] is the contrast of position first + j.
    """
    m = k - 1
    length = len(signal)
    # 0-based positions j from k + m to l - k - m - 1 (cmd.m: zz = 1 + k + m .. l - k - m).
    first = k + m
    stop = length + k - m if full_range else length - k - m
    if stop <= first:
        return first, np.zeros(0)
    positions = np.arange(first, stop)
    f = np.asarray(signal, np.float64)
    return first, f[positions - k] - (f[positions - k - m] + f[positions - k + m]) / 2


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True values."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1, strict=True))


def spot(
    signal: np.ndarray,
    k: int,
    frame_numbers: np.ndarray,
    expression_type: str,
    params: MDMDParams,
    *,
    full_range: bool = False,
) -> list[Interval]:
    """MDMD's intervals of one video from its feature.

    Args:
      signal: (T - 2k,) :func:`video_signal` of the video.
      k: the k it was computed with (:func:`effective_k` of ``params.k``).
      frame_numbers: (T,) the video's frame numbers.
      expression_type: the intervals' type.
      params: p and the length limits (its k is not used here).
      full_range: see :func:`contrast`.

    Returns:
      The intervals (frame numbers), each scored with its largest contrast.
    """
    frame_numbers = np.asarray(frame_numbers)
    if len(signal) != max(len(frame_numbers) - 2 * k, 0):
        raise ValueError(
            f"mdmd.spot: {len(signal)} feature values for {len(frame_numbers)} frames and k = {k}"
        )
    first, values = contrast(signal, k, full_range)
    if len(values) == 0:
        return []
    mean = float(values.mean())
    above = values > mean + params.p * (float(values.max()) - mean)
    intervals = []
    for a, b in runs(above):
        onset, offset = int(frame_numbers[first + a]), int(frame_numbers[first + b])
        length = offset - onset + 1
        if length < params.min_length or (
            params.max_length is not None and length > params.max_length
        ):
            continue
        intervals.append(
            Interval(onset, offset, expression_type, score=float(values[a : b + 1].max()))
        )
    return intervals


def spot_videos(
    videos: Sequence[LongVideo],
    expression_type: str,
    cache_dir: str | Path,
    params: MDMDParams | None = None,
    *,
    method: str = "farneback",
    work_size: int = 64,
    full_range: bool = False,
    progress: bool = True,
) -> dict[str, list[Interval]]:
    """MDMD on every video (no training): ``{video.key: intervals}``.

    ``params`` defaults to :func:`mdmd_params` of the videos' database and fps (all videos must
    share them then).
    """
    if params is None:
        settings = {(video.database, video.fps) for video in videos}
        if len(settings) > 1:
            raise ValueError(f"spot_videos: videos of several databases / fps {sorted(settings)}")
        if not settings:
            return {}
        database, fps = settings.pop()
        params = mdmd_params(expression_type, fps, database)
    features = signals(
        videos, params, cache_dir, method=method, work_size=work_size, progress=progress
    )
    return {
        video.key: spot(
            features[video.key],
            effective_k(len(video), params.k),
            video.frame_numbers,
            expression_type,
            params,
            full_range=full_range,
        )
        for video in videos
    }
