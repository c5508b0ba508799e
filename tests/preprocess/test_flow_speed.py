"""Tests of the building blocks that make TV-L1 fast: the median network and the CPU path."""

from __future__ import annotations

import itertools

import cv2
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mejax.preprocess import flow, flow_data


@pytest.mark.parametrize("n", range(2, 13))
def test_merge_exchange_sorts_every_zero_one_input(n):
    # The 0-1 principle: a comparator network that sorts every 0-1 input sorts every input.
    network = flow._merge_exchange(n)
    values = np.array(list(itertools.product((0, 1), repeat=n)), np.uint8).T.copy()
    for i, j in network:
        values[i], values[j] = np.minimum(values[i], values[j]), np.maximum(values[i], values[j])
    assert np.all(np.diff(values, axis=0) >= 0)


@pytest.mark.parametrize("n", [3, 9, 25, 49])
def test_median_network_picks_the_middle_value_ties_included(n):
    rng = np.random.default_rng(n)
    # Few distinct values (most sets have ties), an infinity, and continuous values.
    values = np.concatenate([rng.integers(-3, 4, (n, 2000)), rng.normal(size=(n, 5000))], 1)
    values = values.astype(np.float32)
    values[0, :10] = np.inf
    wires = list(values)
    network = flow.median_network(n)
    for i, j in network:
        wires[i], wires[j] = np.minimum(wires[i], wires[j]), np.maximum(wires[i], wires[j])
    np.testing.assert_array_equal(wires[n // 2], np.median(values, axis=0))
    if n > 3:  # pruned to the comparators that reach the median wire
        assert len(network) < len(flow._merge_exchange(n))
    with pytest.raises(ValueError, match="odd"):
        flow.median_network(4)


@pytest.mark.parametrize("size", [3, 5])
def test_median_filter_equals_opencv_with_ties(size):
    rng = np.random.default_rng(size)
    images = (rng.integers(0, 6, (2, 23, 17)) * 0.25 - 0.5).astype(np.float32)
    ours = np.asarray(flow.median_filter(jnp.asarray(images), size))  # leading batch axis
    for k in range(2):
        np.testing.assert_array_equal(ours[k], cv2.medianBlur(images[k], size))


def test_pairwise_and_vectorised_flows_agree():
    """The CPU path (one call per pair, threads) and the vmapped batch give the same flows."""
    pairs = [flow_data.synthetic_pair(24, seed) for seed in range(3)]
    i0, i1, _ = (np.stack(parts) for parts in zip(*pairs, strict=True))
    params = flow.TVL1Params(num_scales=1, num_warps=2, outer_iterations=3)
    vectorised = np.asarray(flow.tvl1(i0, i1, params, vectorize=True))
    pairwise = np.asarray(flow.tvl1(i0, i1, params, vectorize=False, threads=2))
    alone = np.asarray(flow.tvl1(i0[1], i1[1], params, vectorize=False))
    assert pairwise.shape == (3, 24, 24, 2) and alone.shape == (24, 24, 2)
    assert np.abs(vectorised).max() > 0.1  # the pairs move
    np.testing.assert_allclose(pairwise, vectorised, atol=1e-5)
    np.testing.assert_allclose(alone, vectorised[1], atol=1e-5)
    # Inside jit the frames are traced: tvl1 falls back on the vmapped program.
    jitted = jax.jit(lambda a, b: flow.tvl1(a, b, params))(i0, i1)
    np.testing.assert_allclose(jitted, vectorised, atol=1e-5)
    with pytest.raises(ValueError, match="vectorize=False needs concrete frames"):
        jax.jit(lambda a, b: flow.tvl1(a, b, params, vectorize=False))(i0, i1)
    empty = np.zeros((0, 24, 24), np.uint8)
    assert flow.tvl1(empty, empty).shape == (0, 24, 24, 2)
