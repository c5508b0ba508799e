"""SOFTNet: the network's size, window targets, training on a toy problem, post-processing."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mejax.datasets.long_video import Event
from mejax.models.softnet import SOFTNet, tiny
from mejax.spotting import softnet
from mejax.spotting.evaluation import Interval


def _count(variables) -> int:
    return sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(variables))


def test_parameter_count_is_the_papers():
    variables = jax.eval_shape(lambda: SOFTNet().init(jax.random.key(0), jnp.zeros((1, 42, 42, 3))))
    assert _count(variables["params"]) == 314_817
    out = SOFTNet().apply(
        jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), variables),
        jnp.zeros((5, 42, 42, 3)),
    )
    assert out.shape == (5,)


def test_tiny_variant_runs():
    model = tiny()
    variables = model.init(jax.random.key(0), jnp.zeros((1, 42, 42, 3)))
    assert _count(variables) < 20_000
    assert model.apply(variables, jnp.ones((2, 42, 42, 3))).shape == (2,)


def test_window_targets_mark_windows_overlapping_the_type():
    numbers = np.arange(1, 21)  # frames 1..20, positions 0..19
    events = [
        Event(onset=8, apex=9, offset=10, type="micro"),  # positions 7..9
        Event(onset=15, apex=16, offset=18, type="macro"),
    ]
    targets = softnet.window_targets(numbers, events, k=3, expression_type="micro")
    assert targets.shape == (17,)
    # Window [t, t + 3) overlaps positions 7..9 for t = 5..9.
    np.testing.assert_array_equal(np.flatnonzero(targets), [5, 6, 7, 8, 9])
    macro = softnet.window_targets(numbers, events, k=3, expression_type="macro")
    np.testing.assert_array_equal(np.flatnonzero(macro), [12, 13, 14, 15, 16])


def test_window_targets_follow_frame_numbers_with_gaps():
    numbers = np.array([8, 9, 10, 12, 13, 14, 15])  # frame 11 missing
    events = [Interval(onset=11, offset=12, type="micro")]
    targets = softnet.window_targets(numbers, events, k=2, expression_type="micro")
    # Only frame 12 (position 3) is stored inside the expression: windows t = 2, 3.
    np.testing.assert_array_equal(np.flatnonzero(targets), [2, 3])
    assert softnet.window_targets(numbers[:2], events, k=2, expression_type="micro").shape == (0,)


def test_training_samples_halve_negatives_and_augment_positives():
    targets = [np.array([0] * 10 + [1] * 2, np.float32), np.zeros(6, np.float32)]
    rng = np.random.default_rng(0)
    rows = softnet.training_samples(targets, softnet.SoftNetConfig(), rng)
    assert len(rows) == 2 + 8  # both positives, half of the 16 negatives
    rows = softnet.training_samples(targets, softnet.SoftNetConfig.for_type("micro"), rng)
    assert len(rows) == 2 * 4 + 8
    assert sorted(np.bincount(rows[:, 2])) == [2, 2, 2, 10]


def test_augmentations_keep_the_shape_and_range():
    rng = np.random.default_rng(0)
    x = softnet.normalize(rng.uniform(0, 3, (42, 42, 3)))
    for kind in range(4):
        out = softnet.augment(x, kind, rng)
        assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    np.testing.assert_allclose(softnet.augment(x, 1, rng), softnet.normalize(x[:, ::-1]))


def _toy(rng, length, positive):
    x = rng.uniform(0, 1, (length, 42, 42, 3)).astype(np.float32)
    x[positive, 5:15, 5:15, :] += 3.0  # a bright square marks the positive windows
    y = np.zeros(length, np.float32)
    y[positive] = 1
    return x, y


def test_fit_learns_a_separable_toy_problem():
    rng = np.random.default_rng(0)
    data = [_toy(rng, 80, slice(30, 50)), _toy(rng, 80, slice(10, 25))]
    config = softnet.SoftNetConfig(
        epochs=6, learning_rate=0.05, filters=(1, 1, 2), hidden=16, augment=True
    )
    losses = []
    params = softnet.fit(
        [d[0] for d in data], [d[1] for d in data], config, seed=0,
        on_epoch=lambda epoch, loss: losses.append(loss),
    )  # fmt: skip
    assert len(losses) == 6 and losses[-1] < 0.5 * losses[0]
    test_x, test_y = _toy(rng, 60, slice(20, 40))
    predicted = softnet.scores(params, test_x, config, batch_size=32)
    assert predicted.shape == (60,)
    assert predicted[test_y == 1].mean() > predicted[test_y == 0].mean() + 0.5


def test_spot_turns_peaks_into_intervals():
    k = 3
    scores = np.zeros(60)
    scores[20:26] = 1.0  # smoothed (mean of scores j .. j + 5) peaks at j = 20
    scores[44:50] = 0.4  # a lower bump, under the threshold at p = 0.55 ...
    numbers = np.arange(101, 101 + 63)  # T = n + k frames, numbered from 101
    intervals = softnet.spot(scores, k, numbers, "micro", p=0.55)
    assert [(i.onset, i.offset, i.type) for i in intervals] == [(121, 127, "micro")]
    assert intervals[0].score == pytest.approx(1.0)  # positions [20, 26]
    # ... and above it at p = 0.1.
    low = softnet.spot(scores, k, numbers, "micro", p=0.1)
    assert [(i.onset, i.offset) for i in low] == [(121, 127), (145, 151)]
    assert low[1].score == pytest.approx(0.4)


def test_spot_peaks_are_k_apart_and_flat_curves_give_nothing():
    k = 4
    scores = np.zeros(80)
    scores[30:38] = 1.0
    scores[40:48] = 1.0  # two equal peaks 10 windows apart (more than k)
    numbers = np.arange(84)
    intervals = softnet.spot(scores, k, numbers, "macro")
    onsets = [i.onset for i in intervals]
    assert onsets == [30, 40] and all(i.offset - i.onset == 2 * k for i in intervals)
    assert softnet.spot(np.ones(80), k, numbers, "macro") == []  # no peak: no placeholder
    assert softnet.spot(np.ones(5), k, numbers, "macro") == []  # too short


def test_smooth_and_threshold():
    np.testing.assert_allclose(softnet.smooth(np.arange(8.0), 1), [0.5, 1.5, 2.5, 3.5, 4.5, 5.5])
    assert softnet.threshold(np.array([0.0, 0.0, 0.0, 4.0]), 0.5) == pytest.approx(2.5)
