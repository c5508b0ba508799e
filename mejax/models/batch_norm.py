"""BatchNorm over the last axis, with a hand-written gradient: ``flax.linen.BatchNorm``'s
variables, defaults and results, faster on a CPU.

The normalisation is Ioffe & Szegedy's (ICML 2015, Algorithm 1 and section 3): in training, each
channel is normalised with the mean and biased variance of the batch (all axes but the last),
then scaled and shifted; the running averages ``momentum * running + (1 - momentum) * batch``
(Flax's convention: ``momentum`` is the decay) are used at evaluation.

Why not ``flax.linen.BatchNorm``: differentiated by JAX, its training step on XLA's CPU backend
writes four full-size products in the backward pass and sums each with a windowed reduction that
is not fused with its producer. :func:`normalize_batch` has the textbook gradient

    dx = scale / sigma * (dy - mean(dy) - x_hat * mean(dy * x_hat))

which needs two per-channel sums of full-size tensors; on CPU every per-channel sum is a matrix
product with a block of ones (``column_sums``), which XLA gives to its multithreaded matrix
kernel. A BatchNorm + ReLU forward and backward of 10 x 112^2 x 64 values (``python
benchmarks/batch_norm.py``, 2 CPU cores, three runs) took 51-68 ms in Flax and 27-36 ms here,
flax/mejax 1.48-2.15; PyTorch's channels-first BatchNorm2d took 20-25 ms, pytorch/mejax
0.64-0.74. Whole training steps: ``benchmarks/train_step.py``. On other backends the sums are
ordinary reductions, which XLA fuses with their operands there.

Differences from Flax, all within float rounding: the variance is computed in two passes,
``mean((x - mean)^2)`` (Flax's default ``use_fast_variance`` takes ``mean(x^2) - mean^2``,
which loses digits when a channel's mean is large against its spread), and sums are added in
another order. Statistics and normalisation compute in float32 at least, whatever the input's
dtype; the result has ``dtype`` (default: the input's, promoted with float32).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp


def column_sums(x: jax.Array) -> jax.Array:
    """Sums of ``x`` over all axes but the last, shape ``x.shape[-1:]``.

    On CPU a matrix product with ones in full float32 precision: XLA's CPU reduction of a tall
    column (rewritten into windowed partial sums) reads memory at a third of the speed of its
    matrix kernel. The n rows are taken ``group`` at a time as ``(n / group, group * C)``, so
    the block of ones XLA writes each step is ``group`` times smaller; its eight rows rather than
    one keep XLA from turning the product back into a reduction."""
    channels = x.shape[-1]
    if jax.default_backend() != "cpu":
        return x.reshape(-1, channels).sum(axis=0)
    group = math.gcd(x.size // channels, 64)
    rows = x.reshape(-1, group * channels)
    ones = jnp.ones((8, rows.shape[0]), rows.dtype)
    sums = jnp.dot(ones, rows, precision=jax.lax.Precision.HIGHEST)[0]
    return sums.reshape(group, channels).sum(axis=0)


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def normalize_batch(x, scale, bias, epsilon: float):
    """``(x - mean) / sqrt(var + epsilon) * scale + bias`` with the batch's per-channel mean and
    biased variance over all axes but the last; returns ``(y, mean, var)``. All in ``x``'s
    dtype (call with float32 or wider)."""
    return _forward(x, scale, bias, epsilon)[0]


def _forward(x, scale, bias, epsilon):
    count = x.size // x.shape[-1]
    mean = column_sums(x) / count
    centred = x - mean
    var = column_sums(centred * centred) / count
    inv_std = jax.lax.rsqrt(var + epsilon)
    y = centred * (inv_std * scale) + bias
    return (y, mean, var), (centred, inv_std, scale)


def _backward(epsilon, residuals, cotangents):
    centred, inv_std, scale = residuals
    dy, d_mean, d_var = cotangents
    count = centred.size // centred.shape[-1]
    sum_dy = column_sums(dy)
    sum_dy_x_hat = column_sums(dy * centred) * inv_std
    x_hat = centred * inv_std
    dx = (scale * inv_std) * (dy - sum_dy / count - x_hat * (sum_dy_x_hat / count))
    # The returned statistics: d mean / dx = 1 / n, d var / dx = 2 (x - mean) / n.
    dx = dx + d_mean / count + centred * (2 * d_var / count)
    return dx, sum_dy_x_hat, sum_dy


normalize_batch.defvjp(_forward, _backward)


class BatchNorm(nn.Module):
    """Drop-in for ``flax.linen.BatchNorm`` over the last axis (same variables: params
    ``scale``/``bias``, batch_stats ``mean``/``var``; so checkpoints and converted weights load
    unchanged), differentiated by :func:`normalize_batch`."""

    use_running_average: bool
    momentum: float = 0.99
    epsilon: float = 1e-5
    use_scale: bool = True
    use_bias: bool = True
    dtype: Any = None

    @nn.compact
    def __call__(self, x):
        features = (x.shape[-1],)
        running_mean = self.variable("batch_stats", "mean", jnp.zeros, features, jnp.float32)
        running_var = self.variable("batch_stats", "var", jnp.ones, features, jnp.float32)
        scale = jnp.ones(features, jnp.float32)
        bias = jnp.zeros(features, jnp.float32)
        if self.use_scale:
            scale = self.param("scale", nn.initializers.ones, features, jnp.float32)
        if self.use_bias:
            bias = self.param("bias", nn.initializers.zeros, features, jnp.float32)
        compute = jnp.promote_types(x.dtype, jnp.float32)
        x32 = x.astype(compute)
        if self.use_running_average:
            inv_std = jax.lax.rsqrt(running_var.value + self.epsilon)
            y = (x32 - running_mean.value) * (inv_std * scale) + bias
        else:
            scale, bias = scale.astype(compute), bias.astype(compute)
            y, mean, var = normalize_batch(x32, scale, bias, self.epsilon)
            if not self.is_initializing():
                decay = self.momentum
                running_mean.value = decay * running_mean.value + (1 - decay) * mean
                running_var.value = decay * running_var.value + (1 - decay) * var
        return y.astype(self.dtype or compute)
