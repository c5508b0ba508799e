import jax
import jax.numpy as jnp
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
    easy, hard = np.array([[0.0, 4.0]], np.float32), np.array([[0.0, 0.5]], np.float32)
    ratio_focal = losses.focal_loss(easy, np.array([1]), gamma=gamma) / losses.focal_loss(
        hard, np.array([1]), gamma=gamma
    )
    ratio_ce = losses.softmax_cross_entropy(easy, np.array([1])) / losses.softmax_cross_entropy(
        hard, np.array([1])
    )
    assert float(ratio_focal[0]) < float(ratio_ce[0])


# --- MER-auGCN's detection losses ------------------------------------------------------------

# M = 2 examples, K = 2 AUs; alpha = fraction of positives per AU = (0.5, 1.0).
DET_LOGITS = np.array([[0.5, -1.0], [2.0, 0.0]], np.float32)
DET_LABELS = np.array([[1, 1], [0, 1]])


def _balanced_by_hand():
    p = 1.0 / (1.0 + np.exp(-DET_LOGITS.astype(np.float64)))
    a0, a1 = 0.5, 1.0
    terms = [
        a0 * (1 - p[0, 0]) ** 2 * np.log((p[0, 0] + 0.05) / 1.05),  # j=0, AU 0, positive
        a1 * (1 - p[0, 1]) ** 2 * np.log((p[0, 1] + 0.05) / 1.05),  # j=0, AU 1, positive
        (1 - a0) * p[1, 0] ** 2 * np.log((1.05 - p[1, 0]) / 1.05),  # j=1, AU 0, negative
        a1 * (1 - p[1, 1]) ** 2 * np.log((p[1, 1] + 0.05) / 1.05),  # j=1, AU 1, positive
    ]
    return -sum(terms) / (2 * 2)


def test_balanced_detection_loss_by_hand():
    expected = _balanced_by_hand()
    got = losses.balanced_detection_loss(DET_LOGITS, DET_LABELS)
    assert got.shape == ()
    np.testing.assert_allclose(float(got), expected, rtol=1e-5)
    np.testing.assert_allclose(expected, 0.3845804, rtol=1e-6)
    # Bool labels and an explicit all-ones mask give the same.
    np.testing.assert_allclose(
        losses.balanced_detection_loss(DET_LOGITS, DET_LABELS.astype(bool), mask=np.ones(2)),
        expected,
        rtol=1e-5,
    )


def test_balanced_detection_loss_gamma_and_offset():
    p = 1.0 / (1.0 + np.exp(-DET_LOGITS.astype(np.float64)))
    y = DET_LABELS
    alpha = y.mean(axis=0)
    gamma, offset = 1.0, 0.1
    terms = alpha * (1 - p) ** gamma * y * np.log((p + offset) / (1 + offset)) + (1 - alpha) * (
        p**gamma
    ) * (1 - y) * np.log((1 + offset - p) / (1 + offset))
    got = losses.balanced_detection_loss(DET_LOGITS, y, gamma=gamma, offset=offset)
    np.testing.assert_allclose(float(got), -terms.mean(), rtol=1e-5)


def test_balanced_detection_loss_down_weights_rare_positives_as_printed():
    # AU 0 is positive in 1 of 4 rows (alpha .25), AU 1 in 3 of 4 (alpha .75). Only row 0, a
    # positive at p = .5 in both, contributes: every other row is saturated and right.
    labels = np.array([[1, 1], [0, 1], [0, 1], [0, 0]])
    logits = np.array([[0.0, 0.0], [-50.0, 50.0], [-50.0, 50.0], [-50.0, -50.0]], np.float32)
    loss = lambda col: float(losses.balanced_detection_loss(logits[:, [col]], labels[:, [col]]))
    row0 = lambda alpha: -alpha * 0.5**2 * np.log(0.55 / 1.05) / 4  # K = 1, M = 4
    np.testing.assert_allclose(loss(0), row0(0.25), rtol=1e-5)
    np.testing.assert_allclose(loss(1), row0(0.75), rtol=1e-5)
    # The same error costs 3x less on the rarer AU.
    np.testing.assert_allclose(loss(1) / loss(0), 3.0, rtol=1e-5)


def test_balanced_detection_loss_mask():
    padded_logits = np.concatenate([DET_LOGITS, [[5.0, -5.0]]]).astype(np.float32)
    padded_labels = np.concatenate([DET_LABELS, [[0, 0]]])
    got = losses.balanced_detection_loss(padded_logits, padded_labels, mask=np.array([1, 1, 0]))
    np.testing.assert_allclose(float(got), _balanced_by_hand(), rtol=1e-5)
    # The padded row would change both alpha and the normaliser.
    unmasked = losses.balanced_detection_loss(padded_logits, padded_labels)
    assert abs(float(unmasked) - _balanced_by_hand()) > 1e-3
    # No counted row: zero, not NaN.
    empty = losses.balanced_detection_loss(padded_logits, padded_labels, mask=np.zeros(3))
    assert float(empty) == 0.0


def test_balanced_detection_loss_gradient_is_finite():
    logits = jnp.asarray([[0.5, -40.0, 1.0], [60.0, -60.0, 0.0]], jnp.float32)
    labels = np.array([[1, 1, 0], [0, 0, 1]])
    grad = jax.grad(losses.balanced_detection_loss)(logits, labels)
    assert np.all(np.isfinite(grad))
    # Raising a positive's logit lowers the loss, raising a negative's raises it.
    assert grad[0, 0] < 0 and grad[1, 2] < 0 and grad[0, 2] > 0
    masked = jax.grad(lambda z: losses.balanced_detection_loss(z, labels, mask=np.zeros(2)))(logits)
    assert np.all(np.isfinite(masked)) and not np.any(masked)


def test_multilabel_sigmoid_focal_loss():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 4)).astype(np.float32)
    labels = rng.integers(0, 2, size=(3, 4))
    p = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    p_t = np.where(labels == 1, p, 1 - p)
    alpha_t = np.where(labels == 1, 0.25, 0.75)
    per_element = -alpha_t * (1 - p_t) ** 2 * np.log(p_t)
    got = losses.sigmoid_focal_loss(logits, labels)
    np.testing.assert_allclose(float(got), per_element.mean(), rtol=1e-5)
    masked = losses.sigmoid_focal_loss(logits, labels, mask=np.array([1, 0, 1]))
    np.testing.assert_allclose(float(masked), per_element[[0, 2]].mean(), rtol=1e-5)
