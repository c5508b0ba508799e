"""Small in-memory long videos for the spotting tests."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mejax.datasets.long_video import Event, LongVideo, encode


class CountingVideo(LongVideo):
    """A :class:`LongVideo` that records the [start, stop) of every window it decodes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reads: list[tuple[int, int]] = []

    def window(self, start: int, stop: int) -> np.ndarray:
        self.reads.append((start, stop))
        return super().window(start, stop)


def texture(size: int, seed: int = 0) -> np.ndarray:
    """A smooth random grey texture (size, size) uint8 with structure at every direction."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, (size, size)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 2.0)
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min()) * 255
    return smooth.astype(np.uint8)


def make_video(
    frames: np.ndarray,
    events: list[Event] = (),
    *,
    name: str = "v1",
    subject: str = "s1",
    database: str = "toy",
    fps: float = 30.0,
    first_number: int = 1,
) -> CountingVideo:
    """A video of (T, H, W) grey or (T, H, W, 3) RGB uint8 frames, frame numbers from 1."""
    frames = np.asarray(frames, np.uint8)
    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=-1)
    encoded = np.empty(len(frames), dtype=object)
    encoded[:] = [encode(frame) for frame in frames]
    return CountingVideo(
        video=name,
        subject=subject,
        database=database,
        fps=fps,
        frame_numbers=np.arange(first_number, first_number + len(frames)),
        events=list(events),
        encoded=encoded,
    )


def moving_pattern(length: int, size: int, shift: int, seed: int = 0) -> np.ndarray:
    """(length, size, size) frames of a texture translated by ``shift`` pixels per frame along x
    (the content moves right: frame t + k = frame t moved by k * shift)."""
    canvas = texture(size + shift * length + 8, seed)
    start = shift * length
    return np.stack(
        [canvas[4 : 4 + size, start - shift * t : start - shift * t + size] for t in range(length)]
    )


@pytest.fixture
def video_factory():
    return make_video
