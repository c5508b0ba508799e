"""MDMD: the block feature, contrast and threshold on hand-built signals, parameters, a video."""

from __future__ import annotations

import numpy as np
import pytest

from mejax.spotting import mdmd

from .conftest import make_video, texture


def _flow(n, size, u, v):
    flow = np.zeros((n, size, size, 2), np.float32)
    flow[..., 0], flow[..., 1] = u, v
    return flow


def test_frame_value_of_uniform_flows():
    near = _flow(2, 12, 1.0, 1.0)  # 45 degrees: the first bin
    far = _flow(2, 12, 0.0, 0.0)
    np.testing.assert_allclose(mdmd.frame_values(near, far), [np.sqrt(2)] * 2, rtol=1e-6)
    # No motion at all: atan(0 / 0) is undefined everywhere, every block 0.
    np.testing.assert_array_equal(mdmd.frame_values(far, far), [0.0, 0.0])


def test_majority_direction_decides_not_magnitude():
    # One 12x12 face, 6x6 blocks of 2x2 pixels; in every block 3 pixels point to 45 degrees
    # with magnitude 1 and 1 pixel to -45 degrees with magnitude 10.
    near = _flow(1, 12, 1 / np.sqrt(2), 1 / np.sqrt(2))
    near[0, ::2, ::2] = [10 / np.sqrt(2), -10 / np.sqrt(2)]
    far = _flow(1, 12, 0.0, 0.0)
    np.testing.assert_allclose(mdmd.frame_values(near, far), [1.0], rtol=1e-6)


def test_top_thirds():
    # Blocks of 3x3 = 9 pixels, all in one bin; block b's pixels have magnitudes b + 0..8, so
    # its top third (3 pixels) averages b + 7; the frame keeps the top 12 of 36 blocks.
    size = 18
    magnitude = np.zeros((size, size), np.float32)
    for b in range(36):
        row, col = divmod(b, 6)
        magnitude[3 * row : 3 * row + 3, 3 * col : 3 * col + 3] = b + np.arange(9).reshape(3, 3)
    near = np.stack([magnitude, magnitude], axis=-1)[None] / np.sqrt(2)  # 45 degrees
    far = np.zeros_like(near)
    expected = np.mean([b + 7 for b in range(24, 36)])
    np.testing.assert_allclose(mdmd.frame_values(near, far), [expected], rtol=1e-5)


def test_contrast_threshold_and_runs_give_the_expected_intervals():
    k = 3  # m = 2
    length = 46  # l = 40 feature values, for positions 3..42
    signal = np.zeros(length - 2 * k)
    signal[[18, 19]] = 1.0  # positions 21, 22
    numbers = np.arange(1001, 1001 + length)
    params = mdmd.MDMDParams(k=k, min_length=1, max_length=5)
    first, values = mdmd.contrast(signal, k)
    assert first == 5 and len(values) == 30  # cmd.m: zz = 1 + k + m .. l - k - m
    intervals = mdmd.spot(signal, k, numbers, "micro", params)
    assert [(i.onset, i.offset, i.type) for i in intervals] == [(1022, 1023, "micro")]
    assert intervals[0].score == pytest.approx(1.0)
    # The length filter.
    assert mdmd.spot(signal, k, numbers, "micro", mdmd.MDMDParams(k=k, min_length=3)) == []
    # Near the end only the full range sees it (cmd.m stops 2k frames early).
    late = np.zeros_like(signal)
    late[36] = 1.0  # position 39
    assert mdmd.spot(late, k, numbers, "micro", params) == []
    found = mdmd.spot(late, k, numbers, "micro", params, full_range=True)
    assert [(i.onset, i.offset) for i in found] == [(1040, 1040)]
    with pytest.raises(ValueError, match="feature values"):
        mdmd.spot(signal[:-1], k, numbers, "micro", params)


def test_runs():
    mask = np.array([0, 1, 1, 0, 1, 0, 0, 1], bool)
    assert mdmd.runs(mask) == [(1, 2), (4, 4), (7, 7)]


def test_parameters_per_database_and_fps():
    assert mdmd.mdmd_params("micro", 30, "CAS(ME)^2") == mdmd.MDMDParams(12, 7, 16)
    assert mdmd.mdmd_params("macro", 30, "casme_sq") == mdmd.MDMDParams(39, 17, None)
    assert mdmd.mdmd_params("micro", 200, "SAMM-LV") == mdmd.MDMDParams(80, 47, 105)
    assert mdmd.mdmd_params("macro", 200, "samm_lv") == mdmd.MDMDParams(260, 106, None)
    assert mdmd.mdmd_params("micro", 30, "casme3") == mdmd.MDMDParams(12, 7, 16)
    # Other databases: CAS(ME)^2's values scaled by fps / 30.
    assert mdmd.mdmd_params("micro", 30, "synth_me_long") == mdmd.MDMDParams(12, 7, 16)
    assert mdmd.mdmd_params("macro", 200, "synth_me_long") == mdmd.MDMDParams(260, 113, None)
    assert mdmd.mdmd_params("micro", 15, None) == mdmd.MDMDParams(6, 4, 8)


def test_effective_k_halves_for_short_videos():
    assert mdmd.effective_k(1000, 39) == 39
    assert mdmd.effective_k(100, 39) == 10  # 39 -> 20 -> 10 (T - 2k >= 4k)
    assert mdmd.effective_k(3, 5) == 1


def test_spots_a_local_movement_in_a_video(tmp_path):
    # A static face whose central 32x32 square moves 2 px right during frames 51..56
    # (positions 50..55) and back: MDMD finds an interval there.
    base = texture(64, seed=3)
    moved = base.copy()
    moved[16:48, 18:50] = base[16:48, 16:48]
    frames = np.stack([moved if 50 <= t <= 55 else base for t in range(120)])
    video = make_video(frames, fps=30)
    params = mdmd.MDMDParams(k=4, min_length=2, max_length=16)
    found = mdmd.spot_videos([video], "micro", tmp_path, params, progress=False)
    intervals = found[video.key]
    assert intervals and all(48 <= i.onset and i.offset <= 62 for i in intervals)
    reads = len(video.reads)
    again = mdmd.spot_videos([video], "micro", tmp_path, params, progress=False)
    assert again == found and len(video.reads) == reads  # the cached feature is reused
