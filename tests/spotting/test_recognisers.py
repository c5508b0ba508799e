"""The recognisers of spot-then-recognise: trained on the training videos' annotated expressions,
they label spotted intervals; a model recogniser learns what tells the emotions apart."""

import ml_collections
import numpy as np
import pytest

from mejax.datasets.long_video import Event
from mejax.spotting import recognisers
from mejax.spotting.evaluation import Interval
from tests.spotting.conftest import make_video


def _videos(count: int, seed: int):
    """Videos whose 'happiness' expressions brighten the face and 'sadness' ones darken it."""
    rng = np.random.default_rng(seed)
    videos = []
    for index in range(count):
        frames = np.full((60, 32, 32), 128, np.uint8) + rng.integers(0, 20, (60, 32, 32), np.uint8)
        events = []
        for start, emotion in ((5, "happiness"), (25, "sadness"), (45, "happiness")):
            if (index + start) % 2:
                emotion = "sadness" if emotion == "happiness" else "happiness"
            frames[start : start + 8] += np.uint8(60) if emotion == "happiness" else np.uint8(0)
            frames[start : start + 8] -= np.uint8(0) if emotion == "happiness" else np.uint8(60)
            events.append(Event(start + 1, start + 4, start + 8, "micro", emotion))
        videos.append(make_video(frames, events, name=f"v{index}", subject=f"s{index}"))
    return videos


def test_model_recogniser_learns_the_emotions_and_labels_spotted_intervals():
    config = ml_collections.ConfigDict(
        {
            "kind": "model",
            "model": {"name": "i3d_classifier_tiny", "head": "i3d", "bn_momentum": 0.9},
            "num_frames": 4,
            "image_size": 32,
            "train": {"learning_rate": 3e-3, "batch_size": 6, "epochs": 15},
        }
    )
    train, test = _videos(6, 0), _videos(2, 1)
    recogniser = recognisers.make(config, train, seed=0)
    assert recogniser.classes == ["happiness", "sadness"]
    spotted = {v.key: [Interval(e.onset, e.offset, "micro") for e in v.events] for v in test}
    labelled = recogniser.label(test, spotted)
    predicted = [i.emotion for v in test for i in labelled[v.key]]
    truth = [e.emotion for v in test for e in v.events]
    assert [(i.onset, i.offset) for v in test for i in labelled[v.key]] == [
        (i.onset, i.offset) for v in test for i in spotted[v.key]
    ]
    assert np.mean(np.asarray(predicted) == np.asarray(truth)) >= 5 / 6


def test_a_model_without_clips_as_input_is_refused():
    config = ml_collections.ConfigDict(
        {"kind": "model", "model": {"name": "resnet_classifier_tiny"}, "train": {}}
    )
    with pytest.raises(ValueError, match="no annotated apex"):
        recognisers.make(config, _videos(2, 0))


def test_one_emotion_in_training_is_refused():
    video = make_video(np.zeros((20, 8, 8), np.uint8), [Event(2, 3, 5, "micro", "happiness")])
    config = ml_collections.ConfigDict({"kind": "descriptor"})
    with pytest.raises(ValueError, match="two emotions"):
        recognisers.make(config, [video])
