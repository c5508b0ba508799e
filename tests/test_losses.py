import numpy as np
import pytest

from mejax import losses

# logits (z0, z1) = (0, 1): p(present) = sigmoid(1) = 0.7310586.
LOGITS = np.array([[0.0, 1.0], [0.0, 1.0]], np.float32)
LABELS = np.array([1, 0])


def test_softmax_cross_entropy_golden():
    # -log p_t: -log(0.7310586) = 0.3132617, -log(0.2689414) = 1.3132617
    got = losses.softmax_cross_entropy(LOGITS, LABELS)
    np.testing.assert_allclose(got, [0.3132617, 1.3132617], rtol=1e-6)


def test_focal_loss_golden():
    # eq. 2: positive 0.25 * (1 - 0.7310586)^2 * 0.3132617 = 0.0056645;
    #        negative 0.75 * (1 - 0.2689414)^2 * 1.3132617 = 0.5264194
    got = losses.focal_loss(LOGITS, LABELS, alpha=0.25, gamma=2.0)
    np.testing.assert_allclose(got, [0.0056645, 0.5264194], rtol=1e-4)


def test_focal_loss_gamma_zero_is_weighted_cross_entropy():
    logits = np.random.default_rng(0).normal(size=(16, 2)).astype(np.float32)
    labels = np.arange(16) % 2
    ce = np.asarray(losses.softmax_cross_entropy(logits, labels))
    got = np.asarray(losses.focal_loss(logits, labels, alpha=0.3, gamma=0.0))
    np.testing.assert_allclose(got, np.where(labels == 1, 0.3, 0.7) * ce, rtol=1e-5)


@pytest.mark.parametrize("gamma", [1.0, 2.0, 5.0])
def test_focal_loss_down_weights_easy_examples(gamma):
    easy, hard = np.array([[0.0, 4.0]]), np.array([[0.0, 0.5]])
    ratio_focal = losses.focal_loss(easy, np.array([1]), gamma=gamma) / losses.focal_loss(
        hard, np.array([1]), gamma=gamma
    )
    ratio_ce = losses.softmax_cross_entropy(easy, np.array([1])) / losses.softmax_cross_entropy(
        hard, np.array([1])
    )
    assert float(ratio_focal[0]) < float(ratio_ce[0])
