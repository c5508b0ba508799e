"""Spotting flow features: known motion, streaming, the cache, SOFTNet's k."""

from __future__ import annotations

import numpy as np
import pytest

from mejax.datasets.long_video import Event
from mejax.spotting import flow_features as ff

from .conftest import make_video, moving_pattern


@pytest.mark.parametrize("method", ["farneback", "dis", "tvl1"])
def test_known_shift_gives_u(method):
    # 1 px per frame to the right; k = 2 -> u ~ 2, v ~ 0 away from the borders.
    video = make_video(moving_pattern(6, 64, shift=1))
    config = ff.FeatureConfig(k=2, method=method, work_size=64, size=64, stabilise=False)
    features = ff.video_features(video, config)
    assert features.shape == (4, 64, 64, 3)
    inner = features[:, 12:-12, 12:-12].astype(np.float32)
    assert np.median(inner[..., 0]) == pytest.approx(2.0, abs=0.2)
    assert abs(np.median(inner[..., 1])) < 0.2
    # A translation has no strain.
    assert np.median(inner[..., 2]) < 0.2


def test_stabilise_removes_a_global_translation():
    video = make_video(moving_pattern(5, 64, shift=1))
    config = ff.FeatureConfig(k=2, work_size=64, size=42)
    features = ff.video_features(video, config).astype(np.float32)
    assert features.shape == (3, 42, 42, 3)
    assert np.median(features[:, 8:-8, 8:-8, :2]) < 0.2


def test_regions_layout_shape():
    video = make_video(moving_pattern(4, 64, shift=1))
    config = ff.FeatureConfig(k=1, work_size=64, size=42, layout="regions")
    assert ff.video_features(video, config).shape == (3, 42, 42, 3)


def test_frame_pairs_stream_every_position_reading_bounded_windows():
    # Frame t is the constant image t: the pairs must be (t, t + o).
    length, chunk = 50, 8
    frames = np.repeat(np.arange(length, dtype=np.uint8)[:, None, None], 16, 1).repeat(16, 2)
    video = make_video(frames)
    starts = []
    for start, base, shifted in ff.frame_pairs(video, (3, 6), 16, chunk=chunk):
        positions = np.arange(start, start + len(base))
        np.testing.assert_array_equal(base[:, 0, 0], positions)
        np.testing.assert_array_equal(shifted[3][:, 0, 0], positions + 3)
        np.testing.assert_array_equal(shifted[6][:, 0, 0], positions + 6)
        starts.extend(positions)
    assert starts == list(range(length - 6))
    assert max(stop - start for start, stop in video.reads) <= chunk
    # Each frame decoded once: the windows tile the video.
    assert [w for w in video.reads] == [
        (s, min(s + chunk, length)) for s in range(0, length, chunk)
    ]


def test_short_video_gives_no_features():
    video = make_video(moving_pattern(3, 32, shift=1))
    assert ff.video_features(video, ff.FeatureConfig(k=3, work_size=32)).shape == (0, 42, 42, 3)


def test_cache_is_reused(tmp_path):
    videos = [
        make_video(moving_pattern(6, 32, shift=1, seed=seed), name=f"v{seed}") for seed in (0, 1)
    ]
    config = ff.FeatureConfig(k=2, work_size=32, size=16)
    first = ff.cached_features(videos, config, tmp_path, progress=False)
    assert set(first) == {"s1/v0", "s1/v1"}
    assert first["s1/v0"].shape == (4, 16, 16, 3) and first["s1/v0"].dtype == np.float16
    reads = [len(video.reads) for video in videos]
    assert all(reads)
    files = sorted(tmp_path.rglob("*.npy"))
    assert len(files) == 2 and all("farneback_k2_w32_s16" in f.name for f in files)
    assert not list(tmp_path.rglob("*.tmp"))
    second = ff.cached_features(videos, config, tmp_path, progress=False)
    assert [len(video.reads) for video in videos] == reads  # nothing decoded again
    np.testing.assert_array_equal(first["s1/v1"], second["s1/v1"])
    # Another k is another file.
    ff.cached_features(
        videos, ff.FeatureConfig(k=3, work_size=32, size=16), tmp_path, progress=False
    )
    assert len(list(tmp_path.rglob("*.npy"))) == 4


def test_softnet_k_rule_uses_the_given_events_only():
    events = [
        Event(onset=10, apex=12, offset=21, type="micro"),  # offset - onset = 11
        Event(onset=40, apex=45, offset=53, type="micro"),  # 13
        Event(onset=60, apex=70, offset=99, type="macro"),
    ]
    video = make_video(np.zeros((2, 8, 8), np.uint8), events)
    assert ff.softnet_k([video], "micro") == int((12 + 1) / 2)
    assert ff.softnet_k([video], "macro") == 20
    # An onset before the first stored frame (SAMM-LV's onset 0) is left out.
    zero = make_video(np.zeros((2, 8, 8), np.uint8), [Event(0, 5, 300, "macro")])
    assert ff.softnet_k([video, zero], "macro") == 20
    with pytest.raises(ValueError, match="no micro"):
        ff.softnet_k([zero], "micro")


def test_config_is_checked():
    with pytest.raises(ValueError, match="method"):
        ff.FeatureConfig(k=2, method="rlof")
    with pytest.raises(ValueError, match="k = 0"):
        ff.FeatureConfig(k=0)
