"""HOOF (Chaudhry et al.): bins symmetric about the vertical, magnitude weights, flow."""

import cv2
import numpy as np
import pytest

from mejax.baselines import hoof


def test_bins_are_symmetric_about_the_vertical_axis():
    angles = np.linspace(-np.pi / 2 + 0.01, np.pi / 2 - 0.01, 50)
    right = np.stack([np.cos(angles), np.sin(angles)], -1)
    left = right * [-1, 1]
    np.testing.assert_array_equal(hoof.orientation_bins(right, 8), hoof.orientation_bins(left, 8))
    # Bin b holds -pi/2 + pi b / B <= theta < -pi/2 + pi (b + 1) / B (0-based b).
    expected = np.floor((angles + np.pi / 2) / (np.pi / 8)).astype(int)
    np.testing.assert_array_equal(hoof.orientation_bins(right, 8), expected)
    assert hoof.orientation_bins(np.array([0.0, 1.0]), 8) == 7  # straight down closes bin 7


def test_histograms_are_magnitude_weighted_and_sum_to_one():
    flow = np.zeros((1, 4, 4, 2))
    flow[0, :2, :, :] = [0.0, 3.0]  # 8 vectors straight down, magnitude 3
    flow[0, 2:, :, :] = [0.0, -1.0]  # 8 vectors straight up, magnitude 1
    features = hoof.hoof_from_flow(flow, num_bins=4, grid=(1, 1, 1))
    np.testing.assert_allclose(features, [0.25, 0, 0, 0.75])
    assert hoof.hoof_from_flow(np.zeros((2, 10, 10, 2)), 8, (5, 5, 1)).shape == (200,)


def texture(size=48, seed=0):
    noise = np.random.default_rng(seed).integers(0, 256, (size, size)).astype(np.uint8)
    return cv2.GaussianBlur(noise, (7, 7), 2)


def test_translation_lands_in_the_right_bins():
    base = texture()
    down = np.stack([np.roll(base, i, axis=0) for i in range(3)])  # y grows downwards
    features = hoof.hoof(down, num_bins=4, grid=(1, 1, 1))
    assert features[3] > 0.8  # theta near +pi/2
    sideways = np.stack([np.roll(base, i, axis=1) for i in range(3)])
    features = hoof.hoof(sideways, num_bins=4, pairs="onset", grid=(1, 1, 1))
    assert features[1] + features[2] > 0.8  # theta near 0


def test_tvl1_gets_the_pairs(monkeypatch):
    # The JAX TV-L1 itself is tested in tests/preprocess (its compilation takes ~20 s on a
    # CPU); here only what HOOF hands it: the first and second frames of every pair, batched.
    from mejax.preprocess import flow

    calls = []

    def fake_tvl1(first, second):
        calls.append((np.asarray(first).copy(), np.asarray(second).copy()))
        return np.ones((*np.shape(first), 2), np.float32)

    monkeypatch.setattr(flow, "tvl1", fake_tvl1)
    frames = np.arange(4)[:, None, None].repeat(8, 1).repeat(8, 2).astype(np.uint8)
    assert hoof.clip_flow(frames, "tvl1", "consecutive").shape == (3, 8, 8, 2)
    assert hoof.clip_flow(frames, "tvl1", "onset").shape == (3, 8, 8, 2)
    (first, second), (onset, later) = calls
    np.testing.assert_array_equal(first[:, 0, 0], [0, 1, 2])
    np.testing.assert_array_equal(second[:, 0, 0], [1, 2, 3])
    np.testing.assert_array_equal(onset[:, 0, 0], [0, 0, 0])
    np.testing.assert_array_equal(later[:, 0, 0], [1, 2, 3])


def test_errors():
    with pytest.raises(ValueError, match="uint8"):
        hoof.hoof(np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match="T >= 2"):
        hoof.hoof(np.zeros((1, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="flow method"):
        hoof.hoof(np.zeros((2, 8, 8), np.uint8), method="lk")
