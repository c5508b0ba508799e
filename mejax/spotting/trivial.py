"""A trivial spotter for comparison: fixed-length windows at a fixed stride over every video.

It looks at nothing but the video's length: per expression type, windows of the training
expressions' mean length (offset - onset + 1, rounded; at least 1 frame) tile each video from
its first frame, ``stride`` frames apart. With the default stride equal to the length the
windows do not overlap; a truth of the mean length then meets a window with IoU >= 1/3 (>= 0.5
when it starts within a sixth of a length of a window's start), so the spotter's F1 is the
level any spotter that looks at the faces must beat. A smaller ``stride_fraction`` trades
precision for recall: at 2/3 or less every truth of the mean length has a window with IoU >=
0.5. Only whole windows are given (the last frames of a video may be left out). Training
expressions whose onset lies before the video's first stored frame (unannotated onsets, such
as SAMM-LV's onset 0) are left out of the mean, as
:func:`mejax.spotting.flow_features.softnet_k` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from mejax.datasets.long_video import LongVideo
from mejax.spotting.evaluation import Interval


@dataclasses.dataclass(frozen=True)
class TrivialParams:
    """Window length and stride, in frames (positions)."""

    length: int
    stride: int

    def __post_init__(self):
        if self.length < 1 or self.stride < 1:
            raise ValueError(f"TrivialParams: {self}; expected length, stride >= 1")


def trivial_params(
    train_videos: Sequence[LongVideo], expression_type: str, stride_fraction: float = 1.0
) -> TrivialParams:
    """Length = the training expressions' mean length, stride = ``stride_fraction`` of it."""
    lengths = [
        event.length
        for video in train_videos
        for event in video.events
        if event.type == expression_type
        and (len(video.frame_numbers) == 0 or event.onset >= video.frame_numbers[0])
    ]
    if not lengths:
        raise ValueError(f"trivial_params: no {expression_type} expression in the given videos")
    length = max(1, round(float(np.mean(lengths))))
    return TrivialParams(length, max(1, round(length * stride_fraction)))


def spot(frame_numbers: np.ndarray, expression_type: str, params: TrivialParams) -> list[Interval]:
    """The windows of one video of these frame numbers, as intervals (score 1)."""
    frame_numbers = np.asarray(frame_numbers)
    starts = range(0, len(frame_numbers) - params.length + 1, params.stride)
    return [
        Interval(
            int(frame_numbers[start]),
            int(frame_numbers[start + params.length - 1]),
            expression_type,
        )
        for start in starts
    ]
