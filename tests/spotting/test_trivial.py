"""The trivial spotter: window length and stride from the training events, whole windows."""

from __future__ import annotations

import numpy as np
import pytest

from mejax.datasets.long_video import Event
from mejax.spotting import trivial

from .conftest import make_video


def test_parameters_from_the_training_events():
    events = [
        Event(10, 12, 19, "micro"),  # 10 frames
        Event(30, 33, 41, "micro"),  # 12
        Event(50, 60, 99, "macro"),
    ]
    video = make_video(np.zeros((2, 8, 8), np.uint8), events)
    assert trivial.trivial_params([video], "micro") == trivial.TrivialParams(11, 11)
    assert trivial.trivial_params([video], "micro", 0.5) == trivial.TrivialParams(11, 6)
    assert trivial.trivial_params([video], "macro") == trivial.TrivialParams(50, 50)
    unannotated = make_video(np.zeros((2, 8, 8), np.uint8), [Event(0, 3, 9, "micro")])
    with pytest.raises(ValueError, match="no micro"):
        trivial.trivial_params([unannotated], "micro")


def test_windows_tile_the_video_in_frame_numbers():
    numbers = np.arange(5, 5 + 23)  # positions 0..22
    intervals = trivial.spot(numbers, "macro", trivial.TrivialParams(length=5, stride=5))
    assert [(i.onset, i.offset) for i in intervals] == [(5, 9), (10, 14), (15, 19), (20, 24)]
    assert all(i.type == "macro" for i in intervals)
    overlapping = trivial.spot(numbers, "micro", trivial.TrivialParams(length=10, stride=6))
    assert [(i.onset, i.offset) for i in overlapping] == [(5, 14), (11, 20), (17, 26)]
    assert trivial.spot(numbers[:3], "micro", trivial.TrivialParams(length=5, stride=5)) == []
