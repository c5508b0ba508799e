"""Tests of ``mejax.models.layers``: its convolutions and max-pool against lax and Flax."""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from mejax.models import layers
from mejax.models.layers import conv_general_dilated

DN = ("NDHWC", "DHWIO", "NDHWC")
DN_2D = ("NHWC", "HWIO", "NHWC")
# jit without XLA's CPU optimisations: they only slow compilation down here.
_jit = functools.partial(
    jax.jit,
    compiler_options={
        "xla_backend_optimization_level": 0,
        "xla_llvm_disable_expensive_passes": True,
    },
)

# (input shape, kernel shape, strides, padding). Odd or even sizes with even kernels or strides
# make TensorFlow's SAME padding asymmetric (the extra pixel goes after).
CASES = {
    # I3D stem: time 10 -> pads (2, 3), width 16 -> pads (2, 3); height 15 -> (3, 3).
    "7x7x7_stride2_same": ((1, 10, 15, 16, 3), (7, 7, 7, 3, 4), (2, 2, 2), "SAME"),
    "3x3x3_stride1_same": ((2, 5, 7, 6, 4), (3, 3, 3, 4, 5), (1, 1, 1), "SAME"),
    "1x1x1": ((2, 3, 5, 5, 6), (1, 1, 1, 6, 3), (1, 1, 1), "SAME"),
    "even_kernel_odd_strides_same": ((1, 5, 9, 10, 2), (2, 4, 3, 2, 3), (1, 2, 3), "SAME"),
    "time_stride3_same": ((1, 8, 6, 6, 2), (2, 3, 3, 2, 3), (3, 1, 2), "SAME"),
    "3x3x3_valid": ((1, 7, 8, 9, 2), (3, 3, 3, 2, 3), (2, 1, 2), "VALID"),
    "explicit_padding": ((1, 6, 5, 7, 2), (3, 2, 2, 2, 3), (1, 1, 2), [(1, 0), (2, 1), (0, 2)]),
    # One frame (Res3D's layer4): the first and last kernel time steps meet only padding.
    "one_frame_same": ((2, 1, 4, 4, 3), (3, 3, 3, 3, 4), (1, 1, 1), "SAME"),
    # Two frames at stride 2: one output time; of four kernel time steps the first and last read
    # padding only.
    "time_stride2_padding_only_tap": (
        (1, 2, 5, 5, 2),
        (4, 3, 3, 2, 3),
        (2, 1, 1),
        [(1, 2), (1, 1), (1, 1)],
    ),
    "negative_time_padding": (
        (1, 6, 5, 5, 2),
        (3, 3, 3, 2, 2),
        (1, 1, 1),
        [(-1, 2), (1, 1), (0, 0)],
    ),
    # 2D: the ResNets' stem, 3x3 and 1x1 (strided shortcut) convolutions.
    "2d_7x7_stride2": ((2, 15, 16, 3), (7, 7, 3, 4), (2, 2), [(3, 3), (3, 3)]),
    "2d_3x3_same": ((2, 9, 8, 3), (3, 3, 3, 4), (1, 1), "SAME"),
    "2d_1x1_stride2": ((2, 9, 8, 5), (1, 1, 5, 4), (2, 2), "VALID"),
    "2d_1x1_same": ((2, 7, 7, 5), (1, 1, 5, 4), (1, 1), "SAME"),
}
# 1x1 kernels without padding: a matrix product, no convolution.
MATRIX_PRODUCTS = {"1x1x1", "2d_1x1_stride2", "2d_1x1_same"}

# Kernel time steps that meet a real frame where some meet only padding (the others: all).
TAPS_MEETING_FRAMES = {"one_frame_same": 1, "time_stride2_padding_only_tap": 2}


def _random(shape, seed):
    return jnp.asarray(np.random.default_rng(seed).normal(size=shape).astype(np.float32))


def _conv_inputs(fn, *args, primitive="conv_general_dilated") -> list[tuple[int, ...]]:
    """Input shapes of every convolution (or other ``primitive``) in ``fn``'s jaxpr."""
    jaxpr = jax.make_jaxpr(fn)(*args)
    return [eqn.invars[0].aval.shape for eqn in jaxpr.eqns if eqn.primitive.name == primitive]


def _assert_close(actual, expected, rtol=1e-4):
    expected = np.asarray(expected)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("case", CASES)
def test_conv_general_dilated_matches_lax_forward_and_gradients(case):
    x_shape, k_shape, strides, padding = CASES[case]
    x, kernel = _random(x_shape, 0), _random(k_shape, 1)
    dn = DN if len(x_shape) == 5 else DN_2D

    def ours(x, kernel):
        return conv_general_dilated(x, kernel, strides, padding, dimension_numbers=dn)

    def reference(x, kernel):
        return lax.conv_general_dilated(x, kernel, strides, padding, dimension_numbers=dn)

    # What runs on CPU, also for a string dimension spec (Flax passes it resolved, see below):
    # a matrix product for 1x1 kernels; else one 2D convolution, for a 3D one reading side by
    # side in its channels the frames of every temporal tap that meets a real frame.
    if case in MATRIX_PRODUCTS:
        assert _conv_inputs(ours, x, kernel) == []
        assert len(_conv_inputs(ours, x, kernel, primitive="dot_general")) == 1
    else:
        (shape,) = _conv_inputs(ours, x, kernel)
        assert len(shape) == 4
        taps = TAPS_MEETING_FRAMES.get(case, k_shape[0]) if len(x_shape) == 5 else 1
        assert shape[-1] == x_shape[-1] * taps

    expected = _jit(reference)(x, kernel)
    actual = _jit(ours)(x, kernel)
    assert actual.shape == expected.shape
    _assert_close(actual, expected)

    cotangent = _random(expected.shape, 2)

    def gradients(fn):
        return _jit(jax.grad(lambda x, k: jnp.vdot(fn(x, k), cotangent), argnums=(0, 1)))

    grad_x, grad_k = gradients(ours)(x, kernel)
    ref_x, ref_k = gradients(reference)(x, kernel)
    _assert_close(grad_x, ref_x)
    _assert_close(grad_k, ref_k)


def _conv_pair(**kwargs):
    plain = nn.Conv(**kwargs)
    folded = nn.Conv(**kwargs, conv_general_dilated=conv_general_dilated)
    return plain, folded


def _random_params(module, x, seed=3):
    # Shapes only: random initialisers of rank-5 kernels are slow to compile on CPU.
    shapes = jax.eval_shape(module.init, jax.random.key(0), x)
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda s: jnp.asarray(rng.normal(size=s.shape), s.dtype), shapes)


def test_conv_general_dilated_inside_flax_conv_matches_plain_conv():
    x = _random((2, 6, 9, 8, 3), 4)
    plain, folded = _conv_pair(features=5, kernel_size=(3, 4, 3), strides=(2, 1, 2))
    variables = _random_params(plain, x)
    # Same parameter tree, so checkpoints of either load into the other.
    assert jax.tree.map(jnp.shape, variables) == jax.tree.map(
        jnp.shape, jax.eval_shape(folded.init, jax.random.key(0), x)
    )
    assert _conv_inputs(lambda v, x: folded.apply(v, x), variables, x) == [(6, 9, 8, 9)]
    expected = plain.apply(variables, x)
    actual = folded.apply(variables, x)
    assert actual.shape == (2, 3, 9, 4, 5)
    _assert_close(actual, expected)


def test_conv_general_dilated_falls_back_for_grouped_convolutions():
    x = _random((2, 4, 6, 6, 4), 5)
    kernel = _random((3, 3, 3, 2, 6), 6)  # 2 groups of 2 input channels

    def ours(x, kernel):
        return conv_general_dilated(
            x, kernel, (1, 1, 1), "SAME", dimension_numbers=DN, feature_group_count=2
        )

    assert [len(s) for s in _conv_inputs(ours, x, kernel)] == [5]
    expected = lax.conv_general_dilated(
        x, kernel, (1, 1, 1), "SAME", dimension_numbers=DN, feature_group_count=2
    )
    _assert_close(ours(x, kernel), expected)

    plain, folded = _conv_pair(features=6, kernel_size=(3, 3, 3), feature_group_count=2)
    variables = _random_params(plain, x)
    _assert_close(folded.apply(variables, x), plain.apply(variables, x))


def test_conv_general_dilated_falls_back_for_dilated_convolutions():
    x, kernel = _random((1, 7, 6, 6, 2), 7), _random((3, 3, 3, 2, 3), 8)
    kwargs = dict(dimension_numbers=DN, rhs_dilation=(2, 1, 1))

    def ours(x, kernel):
        return conv_general_dilated(x, kernel, (1, 1, 1), "SAME", **kwargs)

    assert [len(s) for s in _conv_inputs(ours, x, kernel)] == [5]
    expected = lax.conv_general_dilated(x, kernel, (1, 1, 1), "SAME", **kwargs)
    _assert_close(ours(x, kernel), expected)


def test_conv_general_dilated_defers_to_lax_off_cpu(monkeypatch):
    x, kernel = _random((1, 4, 5, 5, 2), 9), _random((3, 3, 3, 2, 3), 10)
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    shapes = _conv_inputs(
        lambda x, k: conv_general_dilated(x, k, (1, 1, 1), "SAME", dimension_numbers=DN), x, kernel
    )
    assert shapes == [x.shape]


def test_conv_general_dilated_rejects_unknown_padding_string():
    x, kernel = _random((1, 4, 5, 5, 2), 11), _random((3, 3, 3, 2, 3), 12)
    with pytest.raises(ValueError, match="padding"):
        conv_general_dilated(x, kernel, (1, 1, 1), "FULL", dimension_numbers=DN)


# (input shape, window, strides, padding) of the models' pools: ResNet's and Micro-Attention's
# (Caffe's ceil mode) 3x3/2, I3D's 1x3x3 stem pools, 3x3x3/1 branch pools and 2x2x2/2 pool,
# Res3D's 3x3x3/2 stem pool, Dual-Inception's 3x3/1 and 2x2/2.
POOLS = [
    ((2, 9, 9, 4), (3, 3), (2, 2), ((1, 1), (1, 1))),
    ((2, 9, 9, 4), (3, 3), (2, 2), ((0, 1), (0, 1))),
    ((2, 3, 9, 10, 3), (1, 3, 3), (1, 2, 2), "SAME"),
    ((2, 9, 9, 4), (3, 3), (1, 1), "SAME"),
    ((2, 8, 8, 4), (2, 2), (2, 2), "VALID"),
    ((2, 5, 7, 7, 3), (3, 3, 3), (2, 2, 2), ((1, 1),) * 3),
    ((2, 4, 6, 6, 3), (3, 3, 3), (1, 1, 1), "SAME"),
    ((2, 4, 6, 7, 3), (2, 2, 2), (2, 2, 2), "SAME"),
]


@pytest.mark.parametrize("shape, window, strides, padding", POOLS)
def test_max_pool_routes_the_gradient_as_flax_max_pool_ties_included(shape, window, strides,
                                                                       padding):  # fmt: skip
    rng = np.random.default_rng(0)
    # Half the inputs are zeros (a ReLU's output): windows with tied maxima everywhere.
    x = jnp.asarray(np.maximum(rng.standard_normal(shape), 0).astype(np.float32))
    expected, expected_back = jax.vjp(lambda x: nn.max_pool(x, window, strides, padding), x)
    got, back = jax.vjp(lambda x: layers.max_pool(x, window, strides, padding), x)
    np.testing.assert_array_equal(got, expected)
    # Integer cotangents sum exactly in any order: equal gradients mean every window sends its
    # gradient to the same element as flax's (select_and_scatter's first maximum).
    integers = jnp.asarray(rng.integers(-3, 4, expected.shape).astype(np.float32))
    grad = jax.jit(back)(integers)[0]
    np.testing.assert_array_equal(grad, jax.jit(expected_back)(integers)[0])
    assert int((grad != 0).sum()) <= got.size  # one element per window takes its gradient
    # Real cotangents: where windows overlap, an element's windows are summed in another order.
    cotangent = jnp.asarray(rng.standard_normal(expected.shape).astype(np.float32))
    np.testing.assert_allclose(
        jax.jit(back)(cotangent)[0], jax.jit(expected_back)(cotangent)[0], rtol=0, atol=1e-5
    )
    jaxpr = str(jax.make_jaxpr(jax.grad(lambda x: layers.max_pool(x, window, strides,
                                                                  padding).sum()))(x))  # fmt: skip
    assert "select_and_scatter" not in jaxpr and "reduce_window" not in jaxpr
