"""Tests of synth_me's long videos for spotting, ``synth_me_long``."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import tensorflow_datasets as tfds

from mejax.datasets import long_video
from mejax.datasets.synth_me import long, render

TINY = long.SynthMeLong.builder_configs["tiny"]
NAMED = [long.SynthMeLong.builder_configs[name] for name in ("tiny", "tiny_200fps", "small")]
NAMED.append(long.SynthMeLong.builder_configs["small_200fps"])


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    data_dir = str(tmp_path_factory.mktemp("tfds"))
    tfds.builder("synth_me_long/tiny", data_dir=data_dir).download_and_prepare()
    return data_dir


@pytest.fixture(scope="module")
def videos(data_dir):
    return long_video.load_videos("synth_me_long/tiny", data_dir=data_dir)


def _specs(config):
    return [
        long.sample_video_spec(
            config.seed,
            subject,
            video,
            fps=config.fps,
            num_frames=config.num_frames,
            image_size=config.image_size,
        )
        for subject in range(config.num_subjects)
        for video in range(config.videos_per_subject)
    ]


def test_tiny_builds_one_split_per_subject_in_the_long_video_schema(data_dir):
    builder = tfds.builder("synth_me_long/tiny", data_dir=data_dir)
    assert sorted(builder.info.splits) == ["sub01", "sub02", "sub03"]
    for split in builder.info.splits.values():
        assert split.num_examples == TINY.videos_per_subject
    expected = long_video.video_features((TINY.image_size, TINY.image_size))
    assert builder.info.features.to_json() == expected.to_json()


def test_frames_decode_with_the_right_shape(videos):
    assert [video.key for video in videos] == [
        "sub01/sub01_v01",
        "sub02/sub02_v01",
        "sub03/sub03_v01",
    ]
    for video in videos:
        assert video.database == "synth_me_long"
        assert video.fps == TINY.fps
        assert len(video) == TINY.num_frames == 180
        np.testing.assert_array_equal(video.frame_numbers, np.arange(1, 181))
        assert video.window(0, 4).shape == (4, 32, 32, 3)
        chunks = list(video.frames(chunk=64))
        assert sum(len(frames) for _, frames in chunks) == len(video)
        assert chunks[-1][1].dtype == np.uint8


@pytest.mark.parametrize("config", NAMED, ids=lambda c: c.name)
def test_events_are_inside_disjoint_and_as_long_as_their_type(config):
    types = set()
    for spec in _specs(config):
        ends = []
        for event in spec.events:
            annotation = event.event()
            assert 1 <= annotation.onset < annotation.apex <= annotation.offset <= spec.num_frames
            seconds = annotation.length / spec.fps
            if event.type == "micro":
                assert seconds <= 0.5
            else:
                assert event.type == "macro"
                assert 0.5 < (annotation.offset - annotation.onset) / spec.fps
                assert seconds <= 4.0
            assert len(event.intensity) == annotation.length
            assert event.intensity[0] == event.intensity[-1] == 0
            assert event.intensity[event.apex - event.onset] == 1
            labels = render.labels_for_code(annotation.au_code)
            assert annotation.emotion == labels.emotion
            ends.append((annotation.onset, annotation.offset))
            types.add(event.type)
        # By onset, and at least a second of rest between two events.
        for (_, offset), (onset, _) in zip(ends, ends[1:], strict=False):
            assert onset - offset >= spec.fps
    assert types == {"micro", "macro"}


def test_built_events_and_frames_are_the_rendered_video(videos):
    for subject, video in enumerate(videos):
        spec, renderer = long.generate_video(TINY, subject, 0)
        assert video.events == [event.event() for event in spec.events]
        # A frame does not depend on the chunk it was rendered in.
        np.testing.assert_array_equal(video.window(50, 60), renderer.window(50, 60))


def test_deterministic_for_a_seed_and_different_for_another():
    first, renderer = long.generate_video(TINY, 1, 0)
    again, renderer_again = long.generate_video(TINY, 1, 0)
    assert [e.event() for e in first.events] == [e.event() for e in again.events]
    np.testing.assert_array_equal(first.blink, again.blink)
    np.testing.assert_array_equal(first.head, again.head)
    np.testing.assert_array_equal(renderer.window(0, 30), renderer_again.window(0, 30))
    other = long.SynthMeLongConfig(
        name="other", num_subjects=3, videos_per_subject=1, seconds=6.0, image_size=32, seed=1
    )
    changed, _ = long.generate_video(other, 1, 0)
    assert [e.event() for e in changed.events] != [e.event() for e in first.events]
    # Another frame rate draws another video, not the same timeline resampled.
    at_200 = long.sample_video_spec(0, 1, 0, fps=200.0, num_frames=1200, image_size=32)
    assert [e.onset / 200 for e in at_200.events] != [e.onset / 30 for e in first.events]


def _gray(frames: np.ndarray) -> np.ndarray:
    return np.stack([cv2.GaussianBlur(f.astype(np.float32).mean(-1), (0, 0), 1.0) for f in frames])


def test_the_face_moves_more_inside_events_than_outside(videos):
    moved = {"micro": [], "macro": []}
    baseline = []
    for video in videos:
        gray = _gray(video.window(0, len(video)))
        inside = np.zeros(len(video), bool)
        for event in video.events:
            inside[event.onset - 1 : event.offset] = True
        for event in video.events:
            onset, apex = event.onset - 1, event.apex - 1
            lag = apex - onset
            moved[event.type].append(np.abs(gray[apex] - gray[onset]).mean())
            # The same lag between frames outside every event (blinks and head motion included).
            rest = [t for t in range(len(video) - lag) if not inside[t : t + lag + 1].any()]
            baseline.append(np.mean([np.abs(gray[t + lag] - gray[t]).mean() for t in rest]))
    base = float(np.mean(baseline))
    assert np.mean(moved["micro"]) > 1.3 * base
    assert np.mean(moved["macro"]) > 1.6 * base
    assert min(moved["macro"]) > max(baseline)


def test_macro_amplitudes_are_several_times_the_micro_ones():
    assert long.MACRO_AMPLITUDE[0] > long.MICRO_AMPLITUDE[1]
    assert np.mean(long.MACRO_AMPLITUDE) >= 3 * np.mean(long.MICRO_AMPLITUDE)
    for spec in _specs(long.SynthMeLong.builder_configs["small"]):
        for event in spec.events:
            low, high = long.MICRO_AMPLITUDE if event.type == "micro" else long.MACRO_AMPLITUDE
            assert all(low <= a <= high for a in event.amplitudes.values())


def test_blinks_happen_outside_events_and_close_the_eyes():
    outside = 0
    for subject, spec in enumerate(_specs(TINY)):
        blinking = (spec.blink > 0.5) & ~spec.in_event()
        outside += int(blinking.sum())
        if not blinking.any():
            continue
        _, renderer = long.generate_video(TINY, subject, 0)
        shut = int(np.argmax(np.where(blinking, spec.blink, 0)))
        # The nearest frame at rest: no blink, no event.
        rest = np.flatnonzero((spec.blink == 0) & ~spec.in_event())
        open_ = int(rest[np.argmin(np.abs(rest - shut))])
        face = long.subject_face(TINY.seed, subject, TINY.image_size)
        eye = face.geometry.eye(1)
        x, y = int(eye[0]), int(eye[1])
        frames = _gray(renderer.window(0, spec.num_frames))
        around = slice(max(y - 3, 0), y + 4), slice(max(x - 4, 0), x + 5)
        assert np.abs(frames[shut][around] - frames[open_][around]).mean() > 3.0
    assert outside > 0


def test_blinks_are_independent_of_the_events():
    config = long.SynthMeLongConfig(name="many", num_subjects=40, seconds=30.0)
    starts, time_in_events = [], []
    for spec in _specs(config):
        blink = spec.blink > 0
        first = np.flatnonzero(blink & ~np.r_[False, blink[:-1]])
        starts.extend(spec.in_event()[first])
        time_in_events.append(spec.in_event().mean())
    assert len(starts) > 500  # about 15 a minute
    assert abs(np.mean(starts) - np.mean(time_in_events)) < 0.06


@pytest.mark.parametrize(
    "field, value",
    [
        ("num_subjects", 1),
        ("videos_per_subject", 0),
        ("seconds", 1.0),
        ("fps", 5.0),
        ("image_size", 16),
        ("seed", -1),
        ("fps", True),
    ],
)
def test_config_rejects_out_of_range_values(field, value):
    with pytest.raises(ValueError, match=field):
        long.SynthMeLongConfig(name="bad", **{field: value})


def test_videos_read_their_frames_from_disk_when_first_windowed(videos):
    """A database's videos are listed without their frames; a window reads its video's frames,
    and only the last few videos read stay in memory."""
    assert all(callable(video.encoded) for video in videos)
    long_video._kept.cache_clear()
    for video in videos:
        assert video.window(0, 2).shape == (2, TINY.image_size, TINY.image_size, 3)
        assert video.window(len(video) - 1, len(video)).shape[0] == 1
    info = long_video._kept.cache_info()
    assert (info.misses, info.hits) == (len(videos), len(videos))
    assert info.currsize == long_video.KEPT_VIDEOS < len(videos)
