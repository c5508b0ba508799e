"""Losses of the AU detectors and of MER-auGCN's AU branch.

STAP (Li, Huang, Zhao, arXiv:1907.05023, Sec. III-C) trains each binary AU detector with the
softmax cross-entropy over its two logits; STAPF replaces it by the focal loss of Lin et al.
(ICCV 2017), the paper's eq. 2:

    FL(p_t) = -alpha_t (1 - p_t)^gamma log(p_t),

with p_t the probability of the true class and alpha_t = alpha for positives, 1 - alpha for
negatives. With two softmax logits (z0, z1), p(present) = sigmoid(z1 - z0) exactly, so the focal
loss is optax's ``sigmoid_focal_loss`` on the logit margin.

MER-auGCN (Zhou, Mao, Dong, Sec. III) trains its K sigmoid AU detectors jointly with the
classifier, L = CE + 0.75 L_detc, with a batch-balanced focal detection loss
(:func:`balanced_detection_loss`); its FocalLos ablation (Table IV) uses the plain multi-label
focal loss (:func:`sigmoid_focal_loss`, alpha .25, gamma 2) instead.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


def softmax_cross_entropy(logits: jnp.ndarray, labels: jnp.ndarray) -> jnp.ndarray:
    """Per-example softmax cross-entropy.

    Args:
      logits: (..., 2) logits (absent, present).
      labels: (...) integer labels in {0, 1}.

    Returns:
      (...) losses.
    """
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def focal_loss(
    logits: jnp.ndarray, labels: jnp.ndarray, alpha: float = 0.25, gamma: float = 2.0
) -> jnp.ndarray:
    """Per-example binary focal loss (eq. 2) on two softmax logits.

    Args:
      logits: (..., 2) logits (absent, present).
      labels: (...) integer labels in {0, 1}.
      alpha: weight of the positive class (negatives get 1 - alpha).
      gamma: focusing parameter; 0 gives alpha-weighted cross-entropy.

    Returns:
      (...) losses.
    """
    margin = logits[..., 1] - logits[..., 0]
    return optax.sigmoid_focal_loss(margin, labels.astype(margin.dtype), alpha=alpha, gamma=gamma)


LOSSES = {"softmax_ce": softmax_cross_entropy, "focal": focal_loss}


def _row_weights(labels: jnp.ndarray, mask: jnp.ndarray | None) -> jnp.ndarray:
    """(M,) float weights of the rows that count: ``mask`` or all ones."""
    if mask is None:
        return jnp.ones(labels.shape[:1], jnp.float32)
    return jnp.asarray(mask).astype(jnp.float32)


def balanced_detection_loss(
    logits: jnp.ndarray,
    labels: jnp.ndarray,
    gamma: float = 2.0,
    offset: float = 0.05,
    mask: jnp.ndarray | None = None,
) -> jnp.ndarray:
    """MER-auGCN's detection loss L_detc over a batch (Sec. III), exactly as printed:

        L_detc = -1/(K M) sum_j sum_i [ alpha_i (1 - p)^gamma y log((p + .05) / 1.05)
                                   + (1 - alpha_i) p^gamma (1 - y) log((1.05 - p) / 1.05) ],

    with p = p_ji the probability of AU i in example j, y = y_ji its label, M the examples and
    K the AUs, and alpha_i the fraction of positives of AU i in the batch, computed here from
    ``labels`` (over the counted rows). The offset keeps both logarithms finite at p = 0 and 1.

    As printed, alpha_i weights the *positive* term by the positives' own frequency, so a rare
    AU's positives are *down*-weighted (and an AU absent from the batch has no positive term);
    the inverse of the usual class balancing. This is implemented literally, not corrected.

    Args:
      logits: (M, K) detector logits; p = sigmoid(logits) (the detectors' sigmoid unit is
        applied here, so p always lies in [0, 1] and both logarithms stay finite; to evaluate
        given probabilities, pass ``log(p / (1 - p))``).
      labels: (M, K) labels in {0, 1} (bool or numbers).
      gamma: focusing exponent (2 in the paper).
      offset: the 0.05 inside the logarithms (1.05 = 1 + offset).
      mask: optional (M,), 1 for rows that count, 0 for padded or absent ones; M in the
        normaliser and in alpha_i is then the number of counted rows.

    Returns:
      The scalar loss (0 when no row counts).
    """
    logits = jnp.asarray(logits, jnp.float32)
    y = jnp.asarray(labels).astype(jnp.float32)
    rows = _row_weights(y, mask)
    count = jnp.sum(rows)
    safe_count = jnp.maximum(count, 1.0)
    alpha = jnp.sum(rows[:, None] * y, axis=0) / safe_count  # (K,)
    p = jax.nn.sigmoid(logits)
    positive = alpha * (1.0 - p) ** gamma * y * jnp.log((p + offset) / (1.0 + offset))
    negative = (1.0 - alpha) * p**gamma * (1.0 - y) * jnp.log((1.0 + offset - p) / (1.0 + offset))
    total = jnp.sum(rows[:, None] * (positive + negative))
    return -total / (safe_count * logits.shape[-1])


def sigmoid_focal_loss(
    logits: jnp.ndarray,
    labels: jnp.ndarray,
    alpha: float = 0.25,
    gamma: float = 2.0,
    mask: jnp.ndarray | None = None,
) -> jnp.ndarray:
    """Multi-label focal loss (Lin et al., ICCV 2017), the FocalLos ablation of MER-auGCN.

    optax's per-element ``sigmoid_focal_loss`` averaged like :func:`balanced_detection_loss`:
    over the K AUs and the counted rows.

    Args:
      logits: (M, K) detector logits.
      labels: (M, K) labels in {0, 1}.
      alpha: weight of positives (negatives get 1 - alpha).
      gamma: focusing exponent.
      mask: optional (M,) weights of the rows that count.

    Returns:
      The scalar loss (0 when no row counts).
    """
    logits = jnp.asarray(logits, jnp.float32)
    y = jnp.asarray(labels).astype(jnp.float32)
    rows = _row_weights(y, mask)
    per_element = optax.sigmoid_focal_loss(logits, y, alpha=alpha, gamma=gamma)
    total = jnp.sum(rows[:, None] * per_element)
    return total / (jnp.maximum(jnp.sum(rows), 1.0) * logits.shape[-1])
