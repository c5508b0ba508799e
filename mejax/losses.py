"""Losses of the AU detectors.

STAP (Li, Huang, Zhao, arXiv:1907.05023, Sec. III-C) trains each binary AU detector with the
softmax cross-entropy over its two logits; STAPF replaces it by the focal loss of Lin et al.
(ICCV 2017), the paper's eq. 2:

    FL(p_t) = -alpha_t (1 - p_t)^gamma log(p_t),

with p_t the probability of the true class and alpha_t = alpha for positives, 1 - alpha for
negatives. With two softmax logits (z0, z1), p(present) = sigmoid(z1 - z0) exactly, so the focal
loss is optax's ``sigmoid_focal_loss`` on the logit margin.
"""

from __future__ import annotations

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
