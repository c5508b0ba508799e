"""Tests of the Temporal Interpolation Model against sequences with a closed form."""

from __future__ import annotations

import numpy as np
import pytest

from mejax.preprocess import temporal, tim


def _cosine_clip(n: int, k: int, size: int = 4) -> tuple[np.ndarray, callable]:
    """A clip whose every pixel follows the k-th DCT basis of time, and that function."""
    rng = np.random.default_rng(k)
    amplitude = rng.uniform(10, 60, size=(size, size, 3))
    base = rng.uniform(80, 160, size=(size, size, 3))

    def at(position):  # 0-based (fractional) frame position
        phase = np.cos(np.pi * k * (np.asarray(position)[:, None, None, None] + 0.5) / n)
        return base + amplitude * phase

    return at(np.arange(n)).astype(np.float32), at


@pytest.mark.parametrize(("n", "k", "num_out"), [(12, 3, 30), (23, 5, 10), (7, 1, 50), (40, 9, 10)])
def test_tim_is_exact_on_dct_sequences_where_linear_is_not(n, k, num_out):
    clip, at = _cosine_clip(n, k)
    positions = np.linspace(0, n - 1, num_out)  # TIM's [1/n, 1] in frame positions
    np.testing.assert_allclose(tim.output_times(n, num_out) * n - 1, positions, atol=1e-12)
    exact = at(positions)
    tim_error = np.abs(tim.tim(clip, num_out) - exact).max()
    linear_error = np.abs(temporal.resample_linear(clip, num_out) - exact).max()
    assert tim_error < 1e-3
    if (num_out - 1) % (n - 1):  # Linear resampling is exact only on the original frames.
        assert linear_error > 100 * tim_error


def test_tim_reproduces_the_original_frames():
    clip = np.random.default_rng(0).integers(0, 256, (9, 5, 6, 3), dtype=np.uint8)
    np.testing.assert_array_equal(tim.tim(clip, 9), clip)
    np.testing.assert_allclose(tim.tim_weights(9, 9), np.eye(9), atol=1e-12)


def test_tim_weights_are_affine_and_the_curve_matches_the_paper():
    weights = tim.tim_weights(11, 10)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-12)
    # Paper eq. 5 at the frames equals the DCT-II basis.
    n, i = 11, np.arange(1, 12)
    np.testing.assert_allclose(
        tim.curve(n, i / n)[:, 2], np.cos(np.pi * 3 * (i - 0.5) / n), atol=1e-12
    )


def test_tim_keeps_dtype_clips_and_handles_short_clips():
    step = np.zeros((6, 2, 2, 1), np.uint8)
    step[3:] = 255  # a temporal step rings under trigonometric interpolation
    out = tim.tim(step, 20)
    assert out.dtype == np.uint8 and out.shape == (20, 2, 2, 1)
    assert out[0].max() == 0 and out[-1].min() == 255
    single = np.full((1, 3, 3, 3), 7, np.uint8)
    np.testing.assert_array_equal(tim.tim(single, 10), np.repeat(single, 10, axis=0))


def test_tim_with_pca_truncation_keeps_a_rank_one_clip_exactly():
    clip, _ = _cosine_clip(10, 2)  # mean + one temporal component: rank one when centred
    np.testing.assert_allclose(
        tim.tim(clip, 15, num_components=1), tim.tim(clip, 15), rtol=0, atol=1e-3
    )
    noisy = clip + np.random.default_rng(1).normal(0, 1, clip.shape).astype(np.float32)
    assert not np.allclose(tim.tim(noisy, 15, num_components=1), tim.tim(noisy, 15), atol=1e-2)


def test_tim_then_sample_is_scas_fifty_then_ten():
    clip, at = _cosine_clip(30, 2)
    out = tim.tim_then_sample(clip, 50, 10)
    keep = np.rint(np.linspace(0, 49, 10)).astype(int)
    np.testing.assert_allclose(out, at(np.linspace(0, 29, 50)[keep]), atol=1e-3)


def test_tim_errors_name_the_sample():
    with pytest.raises(ValueError, match="sub01_ep02: empty clip"):
        tim.tim(np.zeros((0, 4, 4, 3), np.uint8), 10, sample="sub01_ep02")
    frames = [np.zeros((4, 4, 3), np.uint8), None, np.zeros((4, 4, 3), np.uint8)]
    with pytest.raises(ValueError, match="sub02_ep01: frame 1 is corrupt"):
        tim.tim(frames, 10, sample="sub02_ep01")
    bad = np.zeros((3, 4, 4, 3), np.float32)
    bad[2, 1, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"sub03_ep01: frame\(s\) \[2\] are corrupt"):
        tim.tim(bad, 10, sample="sub03_ep01")
