"""SOFTNet spotting: window targets, training, per-frame scores and peak post-processing.

Liong, See, Wong, Phan, "Shallow Optical Flow Three-Stream CNN for Macro- and Micro-Expression
Spotting from Long Videos" (ICIP 2021), as the authors' code runs it (genbing99/SoftNet-SpotME,
``training.py``; SPECS-SPOT §4b). The network is :class:`mejax.models.softnet.SOFTNet`; its
input the features of :mod:`mejax.spotting.flow_features` (feature t = flow from position t to
t + k, the window [t, t + k)). One model per expression type (micro, macro), each with its own
k. Pure functions on arrays, without file I/O or the config system, so a leave-one-subject-out
runner can call them per fold:

* :func:`window_targets`: y_t = 1 when the window [t, t + k) shares a frame with an expression
  of the type (SOFTNet's "IoU > 0", ``pseudo_labeling``), else 0; binary, regressed with MSE.
  SOFTNet's own truth range starts one frame after the onset (``np.arange(ME[0]+1, ME[1]+1)``
  on 0-based onsets), so its first positive window starts one frame later than here; the rule
  here is the stated one, onset and offset included.
* :func:`fit`: SOFTNet's training recipe (``training()``), every number a field of
  :class:`SoftNetConfig`: a random half of the negative windows kept (``rem_count =
  int(max(count) / 2)``; here ``keep_negatives`` of the negatives), micro-expressions only:
  each positive window added three more times, flipped left-right, blurred (7x7 Gaussian,
  OpenCV's sigma for that size) and with Gaussian noise (variance 0.01, clipped, as
  ``skimage.util.random_noise``'s default); each sample min-max normalised per channel
  (``normalize``: ``cv2.NORM_MINMAX`` per channel); MSE, plain SGD at 5e-4, batch 12, 10
  epochs; the last epoch's weights are used (there is no validation-based selection: SOFTNet
  passes the test subject as ``validation_data`` for monitoring only).
  Departures, all documented: samples are gathered batch by batch from the (memory-mapped)
  features instead of being held in memory; the samples are reshuffled every epoch (SOFTNet
  shuffles once, then its generator reads in order); augmentations are applied to the
  normalised sample and the result normalised again (SOFTNet augments the raw flow, where
  ``random_noise`` clips flow vectors of more than 1 px to [-1, 1]); the noise is drawn afresh
  each epoch (SOFTNet draws it once).
  Speed on two shared CPU cores: about 7 ms per step of 12 windows at 42^2 (the batch is
  assembled on the host while the previous step runs), plus a few seconds of compilation.
* :func:`scores`: the network's score per feature position (what SOFTNet's ``predict`` gives).
* :func:`spot` (``spotting()``, SPECS-SPOT §4b): each score replaced by the mean of the 2k
  scores from it (trimmed by k at both ends, so value j covers windows j .. j + 2k - 1);
  threshold T = mean + p (max - mean) of the smoothed curve with p = 0.55 ("achieved the highest
  F1", ``training.py`` L186; Moilanen's rule); ``scipy.signal.find_peaks(height=T,
  distance=k)``; each peak j becomes the interval [j - k, j + k] in SOFTNet's shifted frame
  index (it compares against the truth shifted by -k), i.e. positions [j, j + 2k] of the video,
  returned in the video's frame numbers. A video without a peak gives **no** interval: SOFTNet
  adds a placeholder [0, 0] there only to get past its metric's empty-input case, which counts
  as a false positive (SPECS-SPOT §6); it is not reproduced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import cv2
import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy.signal import find_peaks

from mejax.models.softnet import FILTERS, HIDDEN, SOFTNet
from mejax.spotting.evaluation import Interval

P = 0.55  # SPECS-SPOT §4b: SOFTNet's threshold fraction


@dataclasses.dataclass(frozen=True)
class SoftNetConfig:
    """SOFTNet's hyper-parameters (defaults: the authors' code, SPECS-SPOT §4b).

    Attributes:
      epochs: passes over the training windows.
      batch_size: windows per SGD step.
      learning_rate: plain SGD's learning rate.
      keep_negatives: fraction of the negative windows kept (a random sample, per fit).
      augment: add each positive three times, flipped, blurred and noisy (SOFTNet: micro only).
      noise_variance: variance of the added Gaussian noise on [0, 1]-normalised samples.
      filters: the three streams' convolution filters.
      hidden: units of the hidden Dense layer.
    """

    epochs: int = 10
    batch_size: int = 12
    learning_rate: float = 5e-4
    keep_negatives: float = 0.5
    augment: bool = False
    noise_variance: float = 0.01
    filters: tuple[int, ...] = FILTERS
    hidden: int = HIDDEN

    @classmethod
    def for_type(cls, expression_type: str, **overrides) -> SoftNetConfig:
        """SOFTNet's setting for a type: positives augmented for ``micro`` only."""
        return cls(augment=expression_type == "micro", **overrides)

    def model(self) -> SOFTNet:
        return SOFTNet(filters=tuple(self.filters), hidden=self.hidden)


# --------------------------------------------------------------------------------------
# Targets


def window_targets(
    frame_numbers: np.ndarray, events: Sequence, k: int, expression_type: str
) -> np.ndarray:
    """(max(T - k, 0),) float32: 1 where the window [t, t + k) overlaps an expression of the type.

    Args:
      frame_numbers: (T,) the video's frame numbers (increasing).
      events: annotated expressions with ``onset``, ``offset`` (frame numbers, included) and
        ``type`` (:class:`mejax.datasets.long_video.Event` or
        :class:`mejax.spotting.evaluation.Interval`).
      k: the window length.
      expression_type: ``"micro"`` or ``"macro"``.
    """
    frame_numbers = np.asarray(frame_numbers)
    count = max(len(frame_numbers) - k, 0)
    targets = np.zeros(count, np.float32)
    for event in events:
        if event.type != expression_type:
            continue
        first = int(np.searchsorted(frame_numbers, event.onset, side="left"))
        last = int(np.searchsorted(frame_numbers, event.offset, side="right")) - 1
        if last < first:  # no stored frame inside the expression
            continue
        targets[max(first - k + 1, 0) : min(last + 1, count)] = 1.0
    return targets


# --------------------------------------------------------------------------------------
# Samples


def normalize(x: np.ndarray) -> np.ndarray:
    """Min-max each sample's channels to [0, 1] over their pixels (a constant channel -> 0)."""
    x = np.asarray(x, np.float32)
    low = x.min(axis=(-3, -2), keepdims=True)
    span = x.max(axis=(-3, -2), keepdims=True) - low
    return np.where(span > 0, (x - low) / np.where(span > 0, span, 1), 0).astype(np.float32)


AUGMENTATIONS = ("none", "flip", "blur", "noise")


def augment(x: np.ndarray, kind: int, rng: np.random.Generator, noise_variance: float = 0.01):
    """One normalised (H, W, C) sample transformed by ``AUGMENTATIONS[kind]``, renormalised."""
    if kind == 0:
        return x
    if kind == 1:
        out = np.ascontiguousarray(x[:, ::-1])
    elif kind == 2:
        out = cv2.GaussianBlur(x, (7, 7), 0)
    else:
        out = np.clip(x + rng.normal(0, np.sqrt(noise_variance), x.shape), 0, 1)
    return normalize(out.astype(np.float32))


def training_samples(
    train_targets: Sequence[np.ndarray], config: SoftNetConfig, rng: np.random.Generator
) -> np.ndarray:
    """(N, 3) int rows (video, position, augmentation) of SOFTNet's training set, unshuffled."""
    videos, positions = [], []
    for index, targets in enumerate(train_targets):
        positions.append(np.arange(len(targets)))
        videos.append(np.full(len(targets), index))
    videos, positions = np.concatenate(videos), np.concatenate(positions)
    labels = np.concatenate([np.asarray(t) for t in train_targets]) > 0.5
    negatives = np.flatnonzero(~labels)
    kept = rng.choice(negatives, int(len(negatives) * config.keep_negatives), replace=False)
    chosen = np.sort(np.concatenate([np.flatnonzero(labels), kept]))
    rows = np.stack([videos[chosen], positions[chosen], np.zeros_like(chosen)], axis=1)
    if config.augment:
        positive = rows[labels[chosen]]
        rows = np.concatenate(
            [rows]
            + [
                np.column_stack([positive[:, :2], np.full(len(positive), kind)])
                for kind in (1, 2, 3)
            ]
        )
    return rows


def _batch(features, targets, rows, rng, config):
    x = np.stack(
        [
            augment(normalize(features[video][position]), kind, rng, config.noise_variance)
            for video, position, kind in rows
        ]
    )
    y = np.array([targets[video][position] for video, position, _ in rows], np.float32)
    return x, y


# --------------------------------------------------------------------------------------
# Training and scores


def init_params(config: SoftNetConfig, shape: tuple[int, int, int], seed: int = 0):
    """Fresh parameters of ``config``'s model for (H, W, 3) features (Keras's initialisers)."""
    # One compiled program: an eager init compiles every layer's operations one by one.
    init = jax.jit(config.model().init)
    return init(jax.random.key(seed), jnp.zeros((1, *shape), jnp.float32))


def fit(
    train_features: Sequence[np.ndarray],
    train_targets: Sequence[np.ndarray],
    config: SoftNetConfig = SoftNetConfig(),
    seed: int = 0,
    *,
    on_epoch: Callable[[int, float], None] | None = None,
):
    """Trains SOFTNet from scratch on the training videos' windows; returns its parameters.

    Args:
      train_features: per training video, its (T_i - k, H, W, 3) features (arrays or memory
        maps; read batch by batch).
      train_targets: per video, its (T_i - k,) window targets (:func:`window_targets`).
      config: hyper-parameters.
      seed: seeds the initialisation, the negatives kept, the order and the noise.
      on_epoch: called after each epoch with (epoch, mean training loss).

    Returns:
      The Flax variables of ``config.model()`` after the last epoch.
    """
    if len(train_features) != len(train_targets):
        raise ValueError(
            f"fit: {len(train_features)} feature arrays but {len(train_targets)} target arrays"
        )
    for index, (features, targets) in enumerate(zip(train_features, train_targets, strict=True)):
        if len(features) != len(targets):
            raise ValueError(
                f"fit: video {index} has {len(features)} features but {len(targets)} targets"
            )
    rng = np.random.default_rng(seed)
    rows = training_samples(train_targets, config, rng)
    if len(rows) == 0:
        raise ValueError("fit: no training window")
    shape = tuple(np.shape(train_features[int(rows[0, 0])])[1:])
    model = config.model()
    params = init_params(config, shape, seed)
    optimizer = optax.sgd(config.learning_rate)
    state = optimizer.init(params)

    @jax.jit
    def step(params, state, x, y):
        def loss_fn(params):
            return jnp.mean((model.apply(params, x) - y) ** 2)

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    for epoch in range(config.epochs):
        order = rows[rng.permutation(len(rows))]
        losses = []
        for start in range(0, len(order), config.batch_size):
            chunk = order[start : start + config.batch_size]
            x, y = _batch(train_features, train_targets, chunk, rng, config)
            params, state, loss = step(params, state, x, y)
            losses.append(loss * len(chunk))  # no host sync per step
        if on_epoch is not None:
            on_epoch(epoch, float(sum(losses)) / len(order))
    return params


def scores(
    params, features: np.ndarray, config: SoftNetConfig = SoftNetConfig(), batch_size: int = 256
) -> np.ndarray:
    """(n,) float32 score of each of a video's (n, H, W, 3) features (normalised as in training).

    Batches are padded to ``batch_size`` so that one compiled program serves every video.
    """
    model = config.model()
    apply = _apply(model)
    out = np.empty(len(features), np.float32)
    for start in range(0, len(features), batch_size):
        x = normalize(features[start : start + batch_size])
        n = len(x)
        if n < batch_size:
            x = np.concatenate([x, np.zeros((batch_size - n, *x.shape[1:]), np.float32)])
        out[start : start + n] = np.asarray(apply(params, x))[:n]
    return out


_APPLY_CACHE: dict = {}


def _apply(model: SOFTNet):
    key = (tuple(model.filters), model.hidden)
    if key not in _APPLY_CACHE:
        _APPLY_CACHE[key] = jax.jit(model.apply)
    return _APPLY_CACHE[key]


# --------------------------------------------------------------------------------------
# Post-processing


def smooth(scores: np.ndarray, k: int) -> np.ndarray:
    """SOFTNet's aggregation: value j = mean of scores j .. j + 2k - 1, for j < n - 2k."""
    scores = np.asarray(scores, np.float64)
    count = len(scores) - 2 * k
    if count <= 0:
        return np.zeros(0)
    return np.convolve(scores, np.full(2 * k, 1 / (2 * k)), mode="valid")[:count]


def threshold(values: np.ndarray, p: float) -> float:
    """Moilanen's threshold T = mean + p (max - mean)."""
    mean = float(np.mean(values))
    return mean + p * (float(np.max(values)) - mean)


def spot(
    scores: np.ndarray,
    k: int,
    frame_numbers: np.ndarray,
    expression_type: str,
    p: float = P,
) -> list[Interval]:
    """SOFTNet's intervals of one video from its per-window scores.

    Args:
      scores: (n,) score of the windows [t, t + k), t = 0 .. n - 1 (n = T - k).
      k: the type's k.
      frame_numbers: (T,) the video's frame numbers, T >= n.
      expression_type: the type of the intervals.
      p: the threshold fraction (0.55).

    Returns:
      One :class:`~mejax.spotting.evaluation.Interval` per peak, positions [j, j + 2k] as frame
      numbers, scored by the smoothed peak value; none when the video has no peak or fewer than
      2k + 1 scores.
    """
    frame_numbers = np.asarray(frame_numbers)
    if len(scores) > len(frame_numbers):
        raise ValueError(f"spot: {len(scores)} scores for {len(frame_numbers)} frames")
    smoothed = smooth(scores, k)
    if len(smoothed) == 0:
        return []
    peaks, _ = find_peaks(smoothed, height=threshold(smoothed, p), distance=k)
    last = len(frame_numbers) - 1
    return [
        Interval(
            int(frame_numbers[peak]),
            int(frame_numbers[min(peak + 2 * k, last)]),
            expression_type,
            score=float(smoothed[peak]),
        )
        for peak in peaks
    ]
