import numpy as np
import pytest

from mejax import metrics


def test_f1_per_au_hand_example():
    labels = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
    predictions = np.array([[1, 1], [0, 1], [0, 1], [1, 0]])
    # AU a: tp 1, fp 1, fn 1 -> 0.5; AU b: tp 2, fp 1, fn 0 -> 0.8
    np.testing.assert_allclose(metrics.f1_per_au(labels, predictions), [0.5, 0.8])


def test_f1_of_a_single_au():
    labels = np.array([[1], [1], [0], [0]])
    predictions = np.array([[1], [0], [1], [0]])
    np.testing.assert_allclose(metrics.f1_per_au(labels, predictions), [0.5])


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


def test_recognition_metrics_hand_example():
    labels = ["neg", "neg", "neg", "pos", "pos", "sur"]
    predictions = ["neg", "neg", "pos", "pos", "neg", "neg"]
    m = metrics.recognition_metrics(labels, predictions, ["neg", "pos", "sur"])
    # neg: tp 2 fp 2 fn 1 -> P 1/2 R 2/3 F1 4/7; pos: tp 1 fp 1 fn 1 -> F1 1/2; sur: 0.
    np.testing.assert_allclose(m["uf1"], (4 / 7 + 1 / 2 + 0) / 3)
    np.testing.assert_allclose(m["uar"], (2 / 3 + 1 / 2 + 0) / 3)
    np.testing.assert_allclose(m["war"], 3 / 6)
    np.testing.assert_allclose(m["wf1"], (3 * 4 / 7 + 2 * 1 / 2) / 6)
    assert m["confusion"] == [[2, 1, 0], [1, 1, 0], [1, 0, 0]]


def test_pooled_uf1_differs_from_the_mean_of_fold_scores():
    # MEGC pools every fold's predictions before scoring.
    fold_a = ([0, 0, 1], [0, 0, 1])
    fold_b = ([1, 2, 2, 2], [2, 2, 2, 1])
    pooled = metrics.recognition_metrics(fold_a[0] + fold_b[0], fold_a[1] + fold_b[1], [0, 1, 2])
    means = np.mean([metrics.recognition_metrics(*f, [0, 1, 2])["uf1"] for f in (fold_a, fold_b)])
    assert pooled["num_samples"] == 7 and not np.isclose(pooled["uf1"], means)


def test_per_database_parts():
    result = metrics.per_database(
        [0, 1, 2, 0], [0, 1, 1, 0], ["casme2", "casme2", "smic", "smic"], [0, 1, 2]
    )
    assert set(result) == {"all", "casme2", "smic"}
    assert result["casme2"]["war"] == 1.0 and result["smic"]["num_samples"] == 2
    with pytest.raises(ValueError, match="not among the classes"):
        metrics.recognition_metrics([3], [0], [0, 1, 2])
