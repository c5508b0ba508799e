"""Per-frame optical-flow features of long videos for spotting, streamed and cached per video.

The input of SOFTNet (Liong, See, Wong, Phan, "Shallow Optical Flow Three-Stream CNN for Macro-
and Micro-Expression Spotting from Long Videos", ICIP 2021; SPECS-SPOT §4b) and of the other
sliding-window spotters: for each frame position t of a video, the optical flow from frame t to
frame t + k, encoded as three channels (u, v, optical strain) of a small image. A video of T
frames gives T - k features; feature t describes the window [t, t + k).

**k** is per expression type and database. SOFTNet's rule (SPECS-SPOT §2, ``load_label.py``
L93-101) is k = int((mean(offset - onset) + 1) / 2) over the type's annotated expressions, which
must be the **training** videos' only (:func:`softnet_k`); a fixed k is simply passed as
:attr:`FeatureConfig.k`. Reference values (SPECS-SPOT §2, :data:`SOFTNET_K`): CAS(ME)² 6 / 18
(micro / macro), SAMM-LV 37 / 174. Expressions whose onset lies before the video's first stored
frame are left out of the rule: SAMM-LV's onset-0 rows are unannotated onsets, which SOFTNet
drops (``load_label.py`` L63; with them SAMM-LV macro would give 217).

**Frames.** The long-video builders store face crops (:mod:`mejax.datasets.long_video`), so the
face box is theirs, not SOFTNet's first-frame dlib box (``load_images.py`` L39-51). Each frame
is converted to grey and area-resized to ``work_size``^2 (SOFTNet: 128^2 and TV-L1 there; the
default here is 64^2, see below), where the flow is computed.

**Channels** (SOFTNet ``extraction_preprocess.py``): u, v in pixels of the ``work_size`` frame
(not rescaled when resized to the output size, as in SOFTNet, whose per-sample min-max
normalisation at training time makes the scale irrelevant), and the optical strain
sqrt(u_x^2 + v_y^2 + (u_y + v_x)^2 / 2) (:func:`mejax.preprocess.flow.optical_strain`, with
central differences where SOFTNet takes forward ones, L11-17). With ``stabilise`` (SOFTNet's
"remove global head movement", L103-108) the mean of an 11/128-of-the-side square patch at the
face's centre is subtracted from each channel and u, v are then taken in absolute value, as
SOFTNet does with its 11x11 patch at landmark 28 (the nose); without landmarks the patch is at
the centre of the crop, where a face crop puts the nose.

**Layout** (SOFTNet takes landmark ROIs; no landmarks are stored here):

- ``"face"`` (default): the whole face area-resized to ``size``^2 (42^2 by default, SOFTNet's
  input size). The simplest option and what MTSN did (SOFTNet's features without the ROI crop,
  at 28^2; SPECS-SPOT §4c).
- ``"regions"``: SOFTNet's two-ROI picture with fixed boxes instead of landmark ones: the eyes
  and brows (rows 10-55 %, columns 10-90 % of the crop) over the mouth (rows 60-95 %, columns
  20-80 %), each resized to ``size`` x ``size / 2`` and stacked into ``size``^2. SOFTNet's eye
  mask (landmarks 36-47, +15 px) is not reproduced.

**Flow method** (:data:`FLOW_METHODS`), chosen by measuring (``benchmarks/spotting_flow.py``,
64^2 pairs of known sub-pixel flow, 2 shared CPU cores, all methods in one run; time per pair
relative to OpenCV's TV-L1 and end-point error):

- ``"farneback"`` (default): OpenCV's Farneback with its sample parameters
  (:func:`mejax.preprocess.flow.farneback`);
- ``"dis"``: OpenCV's DIS at its MEDIUM preset;
- ``"tvl1"``: the JAX TV-L1 of :mod:`mejax.preprocess.flow` (SOFTNet's flow; OpenCV's
  defaults), pairs run on one thread per core;
- ``"tvl1_opencv"``: OpenCV's ``DualTVL1OpticalFlow``, exactly SOFTNet's call.

Flow alone per 64^2 pair: Farneback 0.50 ms (EPE 0.12 px), DIS 0.18 ms (0.14 px), JAX TV-L1
5.9 ms (0.11 px), OpenCV TV-L1 58 ms (0.11 px). End to end (PNG decoding, grey, flow,
features) on 600-frame 64^2 videos, two shared cores: Farneback 0.6-0.7 s a video and type, so
a synthetic run of 16 videos x 600 frames x 2 types takes about 20 s; DIS 0.35 s; JAX TV-L1
6-10 s (about 4 minutes for that run). Farneback is the default: within 0.02 px of TV-L1 on
the benchmark's pairs at a twelfth of the JAX TV-L1's time; ``"tvl1"`` is the option that
matches SOFTNet.

**Streaming and cache.** :func:`frame_pairs` reads a video through
:meth:`~mejax.datasets.long_video.LongVideo.window` in chunks of at most ``chunk`` frames,
decoding each frame once and holding at most about two chunks plus the largest offset of small
grey frames. :func:`cached_features` stores each video's features as one ``.npy`` file under
``cache_dir/<database>/``, named by the video and every option that changes them
(:func:`cache_path`), written atomically and reused when present; one tqdm bar runs over the
videos. Features are stored as float16 by default (flow to ~1e-3 relative precision; a 600-frame
video at 42^2 is 6 MB) and returned memory-mapped, so a database's features never need to sit
in memory together.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from mejax import reporting
from mejax.datasets.long_video import LongVideo
from mejax.preprocess import flow as flow_lib

FLOW_METHODS = ("farneback", "dis", "tvl1", "tvl1_opencv")
LAYOUTS = ("face", "regions")

# SOFTNet's k (frames) per database and type, SPECS-SPOT §2 (the rule on the whole sheets).
SOFTNET_K = {
    ("CAS(ME)^2", "micro"): 6,
    ("CAS(ME)^2", "macro"): 18,
    ("SAMM-LV", "micro"): 37,
    ("SAMM-LV", "macro"): 174,
}

# The centre patch subtracted by ``stabilise``: SOFTNet's 11 x 11 pixels at 128^2.
_PATCH_FRACTION = 11 / 128
# ``"regions"``: (row start, row stop, column start, column stop) as fractions of the crop.
_UPPER_BOX = (0.10, 0.55, 0.10, 0.90)
_MOUTH_BOX = (0.60, 0.95, 0.20, 0.80)


@dataclasses.dataclass(frozen=True)
class FeatureConfig:
    """What the features of a video are made of (every field is part of the cache name).

    Attributes:
      k: the flow runs from frame t to frame t + k (positions in the video).
      method: the flow method (:data:`FLOW_METHODS`).
      work_size: side of the grey frames the flow is computed on.
      size: side of the stored features.
      layout: ``"face"`` or ``"regions"`` (module docstring).
      stabilise: subtract the centre patch's mean and take |u|, |v| (SOFTNet's head-motion
        removal).
      dtype: storage dtype of the cached features.
    """

    k: int
    method: str = "farneback"
    work_size: int = 64
    size: int = 42
    layout: str = "face"
    stabilise: bool = True
    dtype: str = "float16"

    def __post_init__(self):
        if self.k < 1:
            raise ValueError(f"FeatureConfig: k = {self.k}; expected k >= 1")
        if self.method not in FLOW_METHODS:
            raise ValueError(f"FeatureConfig: method {self.method!r} not in {FLOW_METHODS}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"FeatureConfig: layout {self.layout!r} not in {LAYOUTS}")
        if self.work_size < 16 or self.size < 2:
            raise ValueError(
                f"FeatureConfig: work_size {self.work_size}, size {self.size}; expected "
                "work_size >= 16 and size >= 2"
            )

    @property
    def tag(self) -> str:
        """The options as a file-name part."""
        return (
            f"{self.method}_k{self.k}_w{self.work_size}_s{self.size}_{self.layout}"
            f"{'_stab' if self.stabilise else ''}_{np.dtype(self.dtype).name}"
        )


# --------------------------------------------------------------------------------------
# k


def softnet_k(videos: Sequence[LongVideo], expression_type: str) -> int:
    """SOFTNet's k = int((mean(offset - onset) + 1) / 2) over the videos' expressions of a type.

    Pass the **training** videos only. Expressions whose onset precedes the video's first
    stored frame (unannotated onsets such as SAMM-LV's onset 0) are left out.
    """
    lengths = [
        event.offset - event.onset
        for video in videos
        for event in video.events
        if event.type == expression_type
        and (len(video.frame_numbers) == 0 or event.onset >= video.frame_numbers[0])
    ]
    if not lengths:
        raise ValueError(f"softnet_k: no {expression_type} expression in the given videos")
    return max(1, int((np.mean(lengths) + 1) / 2))


# --------------------------------------------------------------------------------------
# Frames and flow


def grey_frames(frames: np.ndarray, work_size: int) -> np.ndarray:
    """(n, H, W, 3) uint8 RGB -> (n, work_size, work_size) uint8 grey (area resize)."""
    out = np.empty((len(frames), work_size, work_size), np.uint8)
    for index, frame in enumerate(frames):
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
        out[index] = cv2.resize(grey, (work_size, work_size), interpolation=cv2.INTER_AREA)
    return out


def frame_pairs(
    video: LongVideo,
    offsets: Sequence[int],
    work_size: int,
    *,
    chunk: int = 256,
) -> Iterator[tuple[int, np.ndarray, dict[int, np.ndarray]]]:
    """The video's grey frames at positions t and t + o, streamed in chunks.

    Args:
      video: the long video; read only through ``window`` calls of at most ``chunk`` frames,
        each frame decoded once.
      offsets: the offsets o >= 1 (SOFTNet: (k,); MDMD: (k, 2k)).
      work_size: side of the grey frames.
      chunk: frames per window read and per yielded block.

    Yields:
      (start, base, shifted): ``base`` (n, S, S) uint8 the frames at positions start ..
      start + n - 1, ``shifted[o]`` the frames o positions later; over all blocks, start runs
      through 0 .. T - max(offsets) - 1 (nothing when the video is not longer than that).
    """
    if not offsets or min(offsets) < 1:
        raise ValueError(f"frame_pairs: offsets {offsets}; expected offsets >= 1")
    if chunk < 1:
        raise ValueError(f"frame_pairs: chunk {chunk}; expected chunk >= 1")
    length, reach = len(video), max(offsets)
    total = length - reach
    buffer = np.empty((0, work_size, work_size), np.uint8)
    buffer_start = read = start = 0
    while start < total:
        stop = min(start + chunk, total)
        while read < stop + reach:
            window_stop = min(read + chunk, length)
            buffer = np.concatenate(
                [buffer, grey_frames(video.window(read, window_stop), work_size)]
            )
            read = window_stop
        at = start - buffer_start
        n = stop - start
        yield start, buffer[at : at + n], {o: buffer[at + o : at + o + n] for o in offsets}
        buffer, buffer_start, start = buffer[stop - buffer_start :], stop, stop


def _opencv_pairs(first: np.ndarray, second: np.ndarray, calc: Callable) -> np.ndarray:
    return np.stack([calc(a, b) for a, b in zip(first, second, strict=True)]).astype(np.float32)


def compute_flow(first: np.ndarray, second: np.ndarray, method: str = "farneback") -> np.ndarray:
    """Flow from ``first`` to ``second`` ((n, H, W) uint8 grey each): (n, H, W, 2) float32.

    The convention of :func:`mejax.preprocess.flow.tvl1` and OpenCV: first(x) ~ second(x +
    flow(x)), u along x (columns), v along y (rows).
    """
    if len(first) == 0:
        return np.zeros((*first.shape, 2), np.float32)
    if method == "farneback":
        return _opencv_pairs(first, second, flow_lib.farneback)
    if method == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        return _opencv_pairs(first, second, lambda a, b: dis.calc(a, b, None))
    if method == "tvl1":
        return np.asarray(flow_lib.tvl1(first, second))
    if method == "tvl1_opencv":
        tvl1 = flow_lib.TVL1Params().opencv()
        return _opencv_pairs(first, second, lambda a, b: tvl1.calc(a, b, None))
    raise ValueError(f"unknown flow method {method!r}; expected one of {FLOW_METHODS}")


# --------------------------------------------------------------------------------------
# Features


def _box(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    height, width = image.shape[:2]
    r0, r1, c0, c1 = box
    return image[round(r0 * height) : round(r1 * height), round(c0 * width) : round(c1 * width)]


def flow_features(flows: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """(n, S, S, 2) flows -> (n, size, size, 3) float32 features (u, v, strain).

    See the module docstring for ``stabilise`` and ``layout``.
    """
    flows = np.asarray(flows, np.float32)
    strain = np.asarray(flow_lib.optical_strain(flows))
    channels = np.concatenate([flows, strain[..., None]], axis=-1)
    if config.stabilise:
        side = flows.shape[1]
        half = max(1, round(_PATCH_FRACTION * side)) // 2
        centre = side // 2
        patch = channels[:, centre - half : centre + half + 1, centre - half : centre + half + 1]
        channels = channels - patch.mean(axis=(1, 2), keepdims=True)
        channels[..., :2] = np.abs(channels[..., :2])
    size = config.size
    out = np.empty((len(channels), size, size, 3), np.float32)
    for index, image in enumerate(channels):
        if config.layout == "face":
            out[index] = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
        else:
            upper = _box(image, _UPPER_BOX)
            mouth = _box(image, _MOUTH_BOX)
            half = size // 2
            out[index, :half] = cv2.resize(upper, (size, half), interpolation=cv2.INTER_AREA)
            out[index, half:] = cv2.resize(mouth, (size, size - half), interpolation=cv2.INTER_AREA)
    return out


def video_features(video: LongVideo, config: FeatureConfig, *, chunk: int = 256) -> np.ndarray:
    """The features of one video, streamed: (max(T - k, 0), size, size, 3) in ``config.dtype``.

    Feature t is the flow from position t to t + k (the window [t, t + k)).
    """
    out = np.zeros((max(len(video) - config.k, 0), config.size, config.size, 3), config.dtype)
    for start, base, shifted in frame_pairs(video, (config.k,), config.work_size, chunk=chunk):
        flows = compute_flow(base, shifted[config.k], config.method)
        out[start : start + len(base)] = flow_features(flows, config)
    return out


# --------------------------------------------------------------------------------------
# Cache


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "_"


def cache_path(cache_dir: str | Path, video: LongVideo, tag: str) -> Path:
    """``cache_dir/<database>/<subject>_<video>.<tag>.npy`` (names made file-safe)."""
    name = f"{_safe(video.subject)}__{_safe(video.video)}.{tag}.npy"
    return Path(cache_dir) / _safe(video.database) / name


def cached_per_video(
    videos: Sequence[LongVideo],
    cache_dir: str | Path,
    tag: str | Callable[[LongVideo], str],
    compute: Callable[[LongVideo], np.ndarray],
    *,
    progress: bool = True,
    description: str = "features",
    mmap: bool = True,
) -> dict[str, np.ndarray]:
    """``compute(video)`` per video, each stored once as ``.npy`` (atomic) and reused.

    Args:
      videos: the videos.
      cache_dir: the cache's root directory.
      tag: the options of ``compute`` as a file-name part (every option that changes the
        result must be in it), or a function of the video giving it.
      compute: the per-video computation (an array).
      progress: one tqdm bar over the videos.
      description: the bar's label.
      mmap: return the arrays memory-mapped (read-only) rather than loaded.

    Returns:
      ``{video.key: array}`` in the order of ``videos``.
    """
    results = {}
    for video in tqdm(videos, desc=description, unit="video", disable=not progress):
        path = cache_path(cache_dir, video, tag(video) if callable(tag) else tag)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            array = np.asarray(compute(video))
            reporting.write_atomic(path, lambda file, a=array: np.save(file, a), binary=True)
        results[video.key] = np.load(path, mmap_mode="r" if mmap else None)
    return results


def cached_features(
    videos: Sequence[LongVideo],
    config: FeatureConfig,
    cache_dir: str | Path,
    *,
    chunk: int = 256,
    progress: bool = True,
    mmap: bool = True,
) -> dict[str, np.ndarray]:
    """:func:`video_features` of every video, cached per video under ``cache_dir``.

    Returns ``{video.key: (T - k, size, size, 3) array}``, memory-mapped unless ``mmap`` is
    False.
    """
    return cached_per_video(
        videos,
        cache_dir,
        config.tag,
        lambda video: video_features(video, config, chunk=chunk),
        progress=progress,
        description=f"flow features k={config.k}",
        mmap=mmap,
    )
