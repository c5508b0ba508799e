"""The gradient-reversal layer of domain-adversarial training.

Ganin & Lempitsky, "Unsupervised Domain Adaptation by Backpropagation" (ICML 2015), Sec. 3.2:
the identity in the forward pass; in the backward pass the incoming gradient is multiplied by
``-lambda``, so the features below it are trained to *maximise* the domain classifier's loss
while the classifier above it minimises it. The MEGC2019 neural micro-expression recogniser
(Liu, Du, Zheng, Gedeon, Sec. 3) puts one between its part features and its macro/micro domain
discriminator.

``lambda`` is an ordinary (traced) argument, so a schedule can change it every step without
recompiling; it receives a zero cotangent (it is a hyperparameter, not something trained).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


@jax.custom_vjp
def _reverse(x, lam):
    return x


def _reverse_fwd(x, lam):
    return x, lam


def _reverse_bwd(lam, g):
    return (-lam * g).astype(g.dtype), jnp.zeros_like(lam)


_reverse.defvjp(_reverse_fwd, _reverse_bwd)


def reverse_gradient(x: jnp.ndarray, lam) -> jnp.ndarray:
    """Identity on ``x``; its gradient is multiplied by ``-lam`` on the way back.

    Args:
      x: any array (its dtype is kept for the cotangent).
      lam: scalar reversal factor (Python number or traced array); no gradient flows into it.
    """
    return _reverse(x, jnp.asarray(lam, jnp.float32))
