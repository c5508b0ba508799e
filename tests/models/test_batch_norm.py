"""mejax.models.batch_norm against flax.linen.BatchNorm and against JAX's own differentiation."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mejax.models import batch_norm
from mejax.models.batch_norm import BatchNorm, column_sums, normalize_batch


def _inputs(shape=(4, 7, 9, 16), seed=0):
    # A mean of 3 against a spread of 2: where one-pass and two-pass variances part.
    return jnp.asarray(np.random.default_rng(seed).normal(3.0, 2.0, shape).astype(np.float32))


def _train_step(module, variables, x):
    def loss(variables, x):
        y, updates = module.apply(variables, x, mutable=["batch_stats"])
        return jnp.sum(jnp.sin(y.astype(jnp.float32))), (y, updates)

    (_, (y, updates)), grads = jax.value_and_grad(loss, (0, 1), has_aux=True)(variables, x)
    return y, updates, grads


def _assert_trees_close(a, b, atol):
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        assert u.shape == v.shape and u.dtype == v.dtype
        np.testing.assert_allclose(np.asarray(u, np.float32), np.asarray(v, np.float32), atol=atol)


@pytest.mark.parametrize("use_scale", [True, False])
def test_training_matches_flax_batch_norm(use_scale):
    x = _inputs()
    settings = dict(use_running_average=False, momentum=0.9, epsilon=1e-3, use_scale=use_scale)
    ours, flax_bn = BatchNorm(**settings), nn.BatchNorm(**settings)
    variables = ours.init(jax.random.key(0), x)
    expected_variables = flax_bn.init(jax.random.key(0), x)
    _assert_trees_close(variables, expected_variables, atol=0)  # same names, shapes, values
    y, updates, grads = _train_step(ours, variables, x)
    expected = _train_step(flax_bn, variables, x)
    np.testing.assert_allclose(y, expected[0], atol=1e-5)
    _assert_trees_close(updates, expected[1], atol=1e-5)  # running mean and variance
    _assert_trees_close(grads, expected[2], atol=5e-4)  # params and input
    assert float(jnp.max(jnp.abs(grads[0]["params"]["bias"]))) > 1.0  # not vacuous


def test_evaluation_matches_flax_batch_norm():
    x = _inputs()
    variables = {
        "params": {"scale": jnp.linspace(0.5, 2.0, 16), "bias": jnp.linspace(-1.0, 1.0, 16)},
        "batch_stats": {"mean": jnp.linspace(2.0, 4.0, 16), "var": jnp.linspace(1.0, 5.0, 16)},
    }
    y = BatchNorm(use_running_average=True).apply(variables, x)
    np.testing.assert_allclose(y, nn.BatchNorm(use_running_average=True).apply(variables, x),
                               rtol=1e-6, atol=1e-6)  # fmt: skip


def test_low_precision_output_keeps_float32_statistics():
    x = _inputs().astype(jnp.bfloat16)
    module = BatchNorm(use_running_average=False, dtype=jnp.bfloat16)
    variables = module.init(jax.random.key(0), x)
    y, updates = module.apply(variables, x, mutable=["batch_stats"])
    assert y.dtype == jnp.bfloat16
    assert updates["batch_stats"]["mean"].dtype == jnp.float32
    expected, _ = nn.BatchNorm(use_running_average=False, dtype=jnp.bfloat16).apply(
        variables, x, mutable=["batch_stats"])  # fmt: skip
    np.testing.assert_allclose(np.asarray(y, np.float32), np.asarray(expected, np.float32),
                               atol=0.05)  # fmt: skip


def _reference(x, scale, bias, epsilon):
    mean = x.mean(axis=(0, 1, 2))
    var = jnp.square(x - mean).mean(axis=(0, 1, 2))
    return (x - mean) * jax.lax.rsqrt(var + epsilon) * scale + bias, mean, var


def test_hand_written_gradient_equals_jax_differentiation_of_every_output():
    """Cotangents on y, on the batch mean and on the batch variance at once."""
    x = _inputs((3, 5, 6, 8))
    rng = np.random.default_rng(1)
    scale, bias = (jnp.asarray(rng.normal(size=8).astype(np.float32)) for _ in range(2))
    outputs, back = jax.vjp(lambda *a: normalize_batch(*a, 1e-5), x, scale, bias)
    expected_outputs, expected_back = jax.vjp(lambda *a: _reference(*a, 1e-5), x, scale, bias)
    cotangents = tuple(jnp.asarray(rng.normal(size=o.shape).astype(np.float32)) for o in outputs)
    for got, expected in zip(outputs, expected_outputs, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    for got, expected in zip(back(cotangents), expected_back(cotangents), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (4, 16, 16, 3), (128, 5)])  # 210, 1024, 128 rows
@pytest.mark.parametrize("backend", ["cpu", "gpu"])
def test_column_sums_equal_sums_over_all_but_the_last_axis(shape, backend, monkeypatch):
    monkeypatch.setattr(batch_norm.jax, "default_backend", lambda: backend)
    x = _inputs(shape)
    np.testing.assert_allclose(column_sums(x), x.reshape(-1, shape[-1]).sum(0), rtol=1e-5)
    if backend == "cpu":  # a matrix product, not XLA's reduction
        assert "dot" in jax.jit(column_sums).lower(x).as_text()
