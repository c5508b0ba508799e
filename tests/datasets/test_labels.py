"""Label sets: every database's emotions in MEGC2019's three classes, objective classes."""

import numpy as np
import pytest

from mejax.datasets import labels

# The emotion labels as each builder stores them (lower case).
CASME2 = ["happiness", "surprise", "disgust", "repression", "others", "fear", "sadness"]
SAMM = ["anger", "contempt", "disgust", "fear", "happiness", "sadness", "surprise", "other"]
SMIC = ["negative", "positive", "surprise"]
CKPLUS = ["neutral", "anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise"]


@pytest.mark.parametrize(
    "emotions, expected",
    [
        (CASME2, [1, 2, 0, 0, -1, 0, 0]),
        (SAMM, [0, 0, 0, 0, 1, 0, 2, -1]),
        (SMIC, [0, 1, 2]),
        # Sadness is negative (the reference code of the MEGC2019 recogniser says positive).
        (CKPLUS, [-1, 0, 0, 0, 0, 1, 0, 2]),
    ],
)
def test_megc2019_classes_of_every_database(emotions, expected):
    got = labels.class_labels(
        "megc2019", labels.MEGC2019_CLASSES, emotions, np.zeros(len(emotions))
    )
    assert got.tolist() == expected


def test_objective_and_emotion_label_sets():
    objective = np.array([0, 4, 5, 6, -1])
    five = labels.class_labels("objective_5", labels.OBJECTIVE_5, [""] * 5, objective)
    assert five.tolist() == [0, 4, -1, -1, -1]
    seven = labels.class_names("objective", [], objective)
    assert labels.class_labels("objective", seven, [""] * 5, objective).tolist() == [0, 4, 5, 6, -1]
    classes = labels.class_names("emotion", ["Disgust", "happiness", "", "disgust"], objective)
    assert classes == ("disgust", "happiness")
    with pytest.raises(ValueError, match="lacks the emotions \\['fear'\\]"):
        labels.class_labels("emotion", classes, ["fear"], objective[:1])
    with pytest.raises(ValueError, match="task.label_set 'mood' not in"):
        labels.class_names("mood", [], objective)


def test_casme2_five_classes_leave_fear_and_sadness_out():
    emotions = ["Happiness", "fear", "others", "sadness", "repression", "disgust", "surprise"]
    classes = labels.class_names("casme2_5", emotions, np.zeros(7))
    assert classes == ("disgust", "happiness", "others", "repression", "surprise")
    got = labels.class_labels("casme2_5", classes, emotions, np.zeros(7))
    assert got.tolist() == [1, -1, 2, -1, 3, 0, 4]
