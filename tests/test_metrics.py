import numpy as np
import pytest

from mejax import metrics


def test_f1_per_au_hand_example():
    labels = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
    predictions = np.array([[1, 1], [0, 1], [0, 1], [1, 0]])
    # AU a: tp 1, fp 1, fn 1 -> 0.5; AU b: tp 2, fp 1, fn 0 -> 0.8
    np.testing.assert_allclose(metrics.f1_per_au(labels, predictions), [0.5, 0.8])


def test_all_positive_f1_is_2p_over_1_plus_p():
    labels = np.zeros((20, 2), int)
    labels[:5, 0] = 1
    labels[:10, 1] = 1
    p = np.array([0.25, 0.5])
    np.testing.assert_allclose(metrics.all_positive_f1(labels), 2 * p / (1 + p))


def test_f1_without_positives_is_zero_and_shapes_checked():
    assert metrics.f1_per_au(np.zeros((3, 1)), np.zeros((3, 1)))[0] == 0.0
    with pytest.raises(ValueError, match="must be"):
        metrics.f1_per_au(np.zeros((3, 2)), np.zeros((3, 1)))
