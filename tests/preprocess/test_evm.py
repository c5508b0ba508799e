"""Tests of Eulerian video magnification and macro-expression reduction."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from mejax.preprocess import evm

FPS, HZ, SIZE, FRAMES, WAVELENGTH = 30.0, 2.0, 64, 60, 20.0


def _moving_grating(delta: float) -> tuple[np.ndarray, np.ndarray]:
    """A vertical grating translated by delta * sin(2 pi HZ t) px, and that motion."""
    t = np.arange(FRAMES) / FPS
    motion = delta * np.sin(2 * np.pi * HZ * t)
    x = np.arange(SIZE)[None, None, :]
    k = 2 * np.pi / WAVELENGTH
    rows = 128 + 60 * np.sin(k * (x + motion[:, None, None]))  # (T, 1, W)
    frames = np.broadcast_to(rows[..., None], (FRAMES, SIZE, SIZE, 3))
    return frames.astype(np.float32), motion


def _measured_motion(frames: np.ndarray) -> np.ndarray:
    """Per-frame translation of the grating from the phase of its Fourier component."""
    centre = frames[:, SIZE // 2, 12:52, 0]  # 2 whole periods away from the border
    k = 2 * np.pi / WAVELENGTH
    x = np.arange(12, 52)
    phase = np.angle((centre - centre.mean(1, keepdims=True)) @ np.exp(-1j * k * x))
    return np.unwrap(phase - phase[0]) / k


def test_evm_magnifies_subpixel_motion_by_one_plus_alpha():
    frames, motion = _moving_grating(0.1)
    np.testing.assert_allclose(_measured_motion(frames), motion - motion[0], atol=1e-3)
    alpha = 9.0
    options = dict(alpha=alpha, lambda_c=1.0, low=1.0, high=3.0, fps=FPS, levels=5)
    out = evm.magnify(frames, skip_extreme_levels=False, **options)
    assert out.shape == frames.shape and out.dtype == np.float32
    gain = np.ptp(_measured_motion(out)) / np.ptp(motion)
    assert abs(gain - (1 + alpha)) < 0.05 * (1 + alpha), gain
    # The reference code leaves the finest level (here ~10% of the grating) unamplified.
    gain = np.ptp(_measured_motion(evm.magnify(frames, **options))) / np.ptp(motion)
    assert 0.85 * (1 + alpha) < gain < 1 + alpha, gain
    # Outside the pass band nothing moves more.
    still = evm.magnify(frames, **{**options, "low": 5.0, "high": 8.0})
    assert abs(np.ptp(_measured_motion(still)) / np.ptp(motion) - 1) < 0.05


def test_evm_wavelength_cutoff_and_iir():
    gains = evm.level_gains((64, 64), 4, alpha=20.0, lambda_c=16.0)
    assert gains[0] == 0 and gains[-1] == 0  # finest and coarsest levels are left alone
    assert 0 < gains[1] < gains[2] <= 20.0  # short wavelengths are attenuated
    frames, motion = _moving_grating(0.1)
    iir = evm.magnify(frames, alpha=9.0, lambda_c=1.0, temporal_filter="iir", r1=0.4, r2=0.05)
    gain = np.ptp(_measured_motion(iir)[FRAMES // 2 :]) / np.ptp(motion[FRAMES // 2 :])
    assert 2.0 < gain < 10.0  # amplified, less than the ideal filter (IIR passes less)


def test_bandpass_iir_matches_its_recursion():
    x = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    low1 = low2 = x[0]
    expected = [np.zeros(3)]
    for frame in x[1:]:
        low1 = 0.6 * low1 + 0.4 * frame
        low2 = 0.9 * low2 + 0.1 * frame
        expected.append(low1 - low2)
    np.testing.assert_allclose(evm.bandpass_iir(x, 0.4, 0.1), np.stack(expected), atol=1e-5)


def test_laplacian_pyramid_reconstructs_exactly():
    image = np.random.default_rng(1).uniform(0, 255, (2, 37, 50, 3)).astype(np.float32)
    pyramid = jax.jit(evm.laplacian_pyramid, static_argnums=1)(image, 4)
    assert [p.shape[1:3] for p in pyramid] == [(37, 50), (19, 25), (10, 13), (5, 7)]
    np.testing.assert_allclose(jax.jit(evm.reconstruct)(pyramid), image, atol=1e-3)
    assert np.abs(pyramid[0]).mean() > 1  # the bands are not trivially empty


def test_reduce_expression_and_errors():
    frames = np.arange(10)[:, None, None, None] * np.ones((1, 4, 4, 3), np.uint8)
    # Liu et al. take frame len // 2 of onset..apex: 2..7 (6 frames) -> 2 + 3, one frame
    # later than onset + (apex - onset) // 2; 2..8 (7 frames) -> 2 + 3, the exact middle.
    assert evm.reduce_expression(frames, 2, 7)[0, 0, 0] == 5
    assert evm.reduce_expression(frames, 2, 8)[0, 0, 0] == 5
    assert evm.reduce_expression(frames, 0, 9)[0, 0, 0] == 5  # CK+: 10 frames, frames[10 // 2]
    assert evm.reduce_expression(frames, 0, 8)[0, 0, 0] == 4  # 9 frames, frames[9 // 2]
    assert evm.reduce_expression(frames, 3, 3)[0, 0, 0] == 3
    assert evm.reduce_expression(frames, 3, 4)[0, 0, 0] == 4  # 2 frames: the apex
    with pytest.raises(ValueError, match="ck_S005_001: onset > apex"):
        evm.reduce_expression(frames, 8, 7, sample="ck_S005_001")
    with pytest.raises(ValueError, match="s1: empty clip"):
        evm.magnify(frames[:0], sample="s1")
    with pytest.raises(ValueError, match="s2: 1 frame"):
        evm.magnify(frames[:1], sample="s2")


def test_butterworth_is_the_averaged_iir_filter():
    # MATLAB's butter(1, 10 / 30): b = [0.3660, 0.3660], a = [1, -0.2679].
    r = evm.butter_r(10.0, 30.0)
    assert abs(r - 2 * 0.3660254) < 1e-6 and abs((1 - r) - 0.2679492) < 1e-6
    r1, r2 = r, evm.butter_r(0.5, 30.0)
    x = np.random.default_rng(2).normal(size=(25, 3)).astype(np.float32)
    low1 = low2 = previous = x[0]
    expected = [np.zeros(3)]
    for frame in x[1:]:  # the reference's recursion, started at the first frame
        low1 = (1 - r1) * low1 + r1 * (frame + previous) / 2
        low2 = (1 - r2) * low2 + r2 * (frame + previous) / 2
        previous = frame
        expected.append(low1 - low2)
    iir = np.asarray(evm.bandpass_iir(x, r1, r2))
    averaged = np.concatenate([iir[:1], (iir[1:] + iir[:-1]) / 2])
    np.testing.assert_allclose(averaged, np.stack(expected), atol=1e-5)
    assert [evm.lpyr_auto_height(n, n) for n in (4, 5, 9, 10, 64, 320)] == [1, 2, 2, 3, 5, 8]
    with pytest.raises(ValueError, match="cut-off 40"):
        evm.butter_r(40.0, 30.0)


def test_magnify_butter_magnifies_causally():
    frames, motion = _moving_grating(0.1)
    options = dict(alpha=9.0, lambda_c=1.0, levels=5)
    out = evm.magnify_butter(frames, **options)
    assert out.shape == frames.shape and out.dtype == np.float32
    # The filter starts at the first frame (float: up to the colour conversion's rounding).
    np.testing.assert_allclose(out[0], frames[0], atol=1e-3)
    gain = np.ptp(_measured_motion(out)[FRAMES // 2 :]) / np.ptp(motion[FRAMES // 2 :])
    assert 2.0 < gain < 10.0, gain
    # Causal: a shorter clip (padded to another length) gives the same first frames.
    np.testing.assert_allclose(evm.magnify_butter(frames[:20], **options), out[:20], atol=1e-2)
    clip = np.rint(frames[:3]).astype(np.uint8)
    uint8 = evm.magnify_butter(clip)
    assert uint8.dtype == np.uint8
    np.testing.assert_array_equal(uint8[0], clip[0])
    with pytest.raises(ValueError, match="s3: expected 0 < low < high < fps"):
        evm.magnify_butter(frames, low=5.0, high=1.0, sample="s3")
