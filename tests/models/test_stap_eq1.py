"""STAP's eq. 1 with one temporal softmax per class (``temporal_pooling="softmax_per_class"``)
against NumPy, and how it differs from the default margin softmax."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mejax.models.stap import TEMPORAL_POOLINGS, STAPHead, temporal_pool
from tests import tiny_configs


def numpy_per_class(step_logits):
    """Per class k: weights softmax over t of p_k(t) = softmax_k(z_t), pooled logit sum_t w z."""
    b, t, k = step_logits.shape
    out = np.zeros((b, k))
    for i in range(b):
        p = np.exp(step_logits[i]) / np.exp(step_logits[i]).sum(axis=1, keepdims=True)
        for c in range(k):
            w = np.exp(p[:, c]) / np.exp(p[:, c]).sum()
            out[i, c] = sum(w[s] * step_logits[i, s, c] for s in range(t))
    return out


def test_per_class_softmax_matches_numpy():
    logits = np.random.default_rng(0).normal(size=(3, 10, 2)) * 3
    got = temporal_pool(jnp.asarray(logits, jnp.float32), "softmax_per_class")
    np.testing.assert_allclose(got, numpy_per_class(logits), rtol=1e-5, atol=1e-5)


def test_per_class_weights_differ_by_class_and_stay_near_uniform():
    # Step 0 clearly present, the rest clearly absent: the margin softmax puts almost all weight
    # on step 0 for both logits; the per-class softmax weighs each class's steps by its own
    # probability, within a factor e of uniform.
    logits = np.zeros((1, 5, 2), np.float32)
    logits[0, 0] = (-4.0, 4.0)
    logits[0, 1:] = (4.0, -4.0)
    margin = np.asarray(temporal_pool(jnp.asarray(logits), "softmax"))[0]
    per_class = np.asarray(temporal_pool(jnp.asarray(logits), "softmax_per_class"))[0]
    np.testing.assert_allclose(margin, logits[0, 0], atol=1e-3)
    # present logit: step 0 weight e^1 / (e^1 + 4 e^0) (probabilities ~1 and ~0)
    w0 = np.e / (np.e + 4)
    np.testing.assert_allclose(per_class[1], 4 * w0 - 4 * (1 - w0), atol=1e-2)
    # absent logit: step 0 weight e^0 / (e^0 + 4 e^1)
    v0 = 1 / (1 + 4 * np.e)
    np.testing.assert_allclose(per_class[0], -4 * v0 + 4 * (1 - v0), atol=1e-2)


def test_stap_head_takes_the_option_and_the_default_stays_the_margin():
    assert "softmax_per_class" in TEMPORAL_POOLINGS
    assert tiny_configs.config("stapf", "casme2").model.temporal_pooling == "softmax"
    features = jnp.asarray(np.random.default_rng(1).normal(size=(2, 3, 4, 5, 6)), jnp.float32)
    outputs = {}
    for pooling in ("softmax", "softmax_per_class"):
        head = STAPHead(temporal_pooling=pooling)
        variables = head.init(jax.random.PRNGKey(0), features, train=False)
        outputs[pooling] = head.apply(variables, features, train=False)
        assert outputs[pooling].shape == (2, 2)
    assert not np.allclose(outputs["softmax"], outputs["softmax_per_class"])


def test_per_class_softmax_has_finite_gradients():
    logits = jnp.asarray(np.random.default_rng(2).normal(size=(2, 4, 2)), jnp.float32)
    grad = jax.grad(lambda z: temporal_pool(z, "softmax_per_class").sum())(logits)
    assert np.all(np.isfinite(grad))
    with pytest.raises(ValueError, match="not in"):
        temporal_pool(logits, "softmax_per_step")
