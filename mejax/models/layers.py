"""Layers shared by the models.

``conv_general_dilated`` computes a 3D convolution as one 2D convolution whose input holds,
side by side in its channels, the time-shifted frames each temporal kernel tap reads, and a 1x1
convolution as a matrix product. The results are the same convolutions (up to float summation
order), but XLA's CPU backend runs 2D convolutions and their gradients several times faster than
3D ones (measure it with ``benchmarks/conv3d.py``) and matrix products' gradients faster than
1x1 convolutions'. Models pass it to ``flax.linen.Conv`` as ``conv_general_dilated``, so
parameters keep their usual layout ((kt,) kh, kw, Cin, Cout) and name; on other backends it
defers to ``lax.conv_general_dilated``.

``max_pool`` is ``flax.linen.max_pool`` computed, on CPU, from strided slices: the same values,
the gradient sent to the same elements, several times faster.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

_CHANNELS_LAST = {2: ("NHWC", "HWIO", "NHWC"), 3: ("NDHWC", "DHWIO", "NDHWC")}


def _reads_frames(tap: int, stride: int, time_out: int, pad_before: int, time: int) -> bool:
    """Whether kernel time step ``tap`` meets a real frame at some output time (it reads the
    padded frames ``tap + i * stride``, ``i < time_out``; the real ones start at ``pad_before``).
    Res3D's layer4 runs on one frame: two of its three time steps read only zeros, and skipping
    them (exact: their products are zeros) took 13 % off Res3D-18 + SCA's training step on a CPU
    when each tap was its own 2D convolution (``benchmarks/train_step.py``)."""
    return any(0 <= tap + i * stride - pad_before < time for i in range(time_out))


def conv_general_dilated(
    lhs,
    rhs,
    window_strides,
    padding,
    lhs_dilation=None,
    rhs_dilation=None,
    dimension_numbers=None,
    feature_group_count=1,
    batch_group_count=1,
    precision=None,
    preferred_element_type=None,
):
    """Drop-in for ``lax.conv_general_dilated``, faster on CPU for channels-last 2D and 3D
    convolutions (NHWC / HWIO, NDHWC / DHWIO) without groups or dilation.

    A 3D convolution becomes one 2D convolution over time-folded frames (see the module's
    docstring): folding the taps into one convolution, rather than summing one 2D convolution
    per tap, took Res3D-18 + SCA's training step from 1220 to 1038 ms and I3D + STAP's from 882
    to 842 ms on 2 CPU cores (both programs in one process, timed alternately). A 1x1 kernel
    without padding becomes a matrix product over the channels (after subsampling by the
    stride): XLA's CPU backend computes the kernel gradient of a 1x1 convolution as a
    convolution over transposed copies of both operands, the matrix product's gradients are
    matrix products. Other convolutions and other backends go to ``lax.conv_general_dilated``.
    Arguments as for ``lax.conv_general_dilated``.
    """
    spatial = lhs.ndim - 2
    plain = (
        jax.default_backend() == "cpu"
        and spatial in _CHANNELS_LAST
        # Compare in canonical form: callers may pass the spec as strings, Flax passes it resolved.
        and lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
        == lax.conv_dimension_numbers(lhs.shape, rhs.shape, _CHANNELS_LAST[spatial])
        and feature_group_count == 1
        and batch_group_count == 1
        and all(d == 1 for d in (lhs_dilation or (1,)))
        and all(d == 1 for d in (rhs_dilation or (1,)))
    )
    if not plain:
        return lax.conv_general_dilated(
            lhs,
            rhs,
            window_strides,
            padding,
            lhs_dilation=lhs_dilation,
            rhs_dilation=rhs_dilation,
            dimension_numbers=dimension_numbers,
            feature_group_count=feature_group_count,
            batch_group_count=batch_group_count,
            precision=precision,
            preferred_element_type=preferred_element_type,
        )
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"padding {padding!r} not supported")
        padding = lax.padtype_to_pads(lhs.shape[1:-1], rhs.shape[:-2], window_strides, padding)
    padding = [tuple(p) for p in padding]
    options = {"precision": precision, "preferred_element_type": preferred_element_type}
    if spatial == 2:
        return _conv_2d(lhs, rhs, tuple(window_strides), padding, options)
    batch, time, height, width, channels = lhs.shape
    kt = rhs.shape[0]
    stride_t = window_strides[0]
    # lax.pad, not jnp.pad: negative padding crops, as in lax.conv_general_dilated.
    time_padding = (*padding[0], 0)
    lhs = lax.pad(lhs, jnp.zeros((), lhs.dtype), [(0, 0, 0), time_padding] + [(0, 0, 0)] * 3)
    time_out = (time + sum(padding[0]) - kt) // stride_t + 1
    taps = [t for t in range(kt) if _reads_frames(t, stride_t, time_out, padding[0][0], time)]
    # The kernel's time steps folded into the input channels: one 2D convolution reads the
    # time-shifted frames side by side (taps that meet only padding add exact zeros: dropped).
    frames = jnp.concatenate(
        [lhs[:, t : t + (time_out - 1) * stride_t + 1 : stride_t] for t in taps], axis=-1
    )
    kernel = jnp.concatenate([rhs[t] for t in taps], axis=2)
    out = _conv_2d(
        frames.reshape(batch * time_out, height, width, channels * len(taps)),
        kernel,
        tuple(window_strides[1:]),
        padding[1:],
        options,
    )
    return out.reshape(batch, time_out, *out.shape[1:])


def _conv_2d(x, kernel, strides, padding, options):
    """NHWC x HWIO convolution; a 1x1 kernel without padding as a matrix product."""
    if kernel.shape[:2] == (1, 1) and all(p == (0, 0) for p in padding):
        x = x[:, :: strides[0], :: strides[1]]
        return lax.dot_general(x, kernel[0, 0], (((3,), (0,)), ((), ())), **options)
    return lax.conv_general_dilated(
        x, kernel, strides, padding, dimension_numbers=_CHANNELS_LAST[2], **options
    )


def max_pool(x, window_shape, strides=None, padding="VALID"):
    """Drop-in for ``flax.linen.max_pool`` on (N, spatial..., C) inputs: on CPU the same values
    and the gradient sent to the same elements, computed from strided slices; elsewhere
    ``flax.linen.max_pool``.

    XLA's CPU backend computes the gradient of a max-pool (``reduce_window``) through
    ``select_and_scatter``, building index arrays the size of the input per window axis; the
    stem's 3x3x3 pool took 14 % of Res3D-18's training step (``benchmarks/train_step.py``).
    Here the forward pass is one maximum of the window's strided slices per spatial axis (the
    ``-inf``-padded input, the last axis first), and each axis's gradient
    (:func:`_axis_max`'s VJP) goes to the first maximal slice along that axis. Taken from the
    first axis back to the last, that is the first maximal element of the window in row-major
    order, where ``select_and_scatter`` sends it (ties are common after a ReLU; a plain
    ``jnp.maximum`` would split the gradient between tied elements and train another model).
    Where windows overlap (stride below the window), an element's share from several windows
    is summed in another order than ``select_and_scatter``'s, so the gradient differs from
    flax's by float rounding (``tests/models/test_layers.py`` checks the routing exactly with
    integer cotangents).

    ``python benchmarks/max_pool.py --families i3d,res3d`` on 2 CPU cores, forward and
    backward against ``flax.linen.max_pool`` (best of 5): Res3D's 3x3x3/2 stem pool (4 x 10 x
    56^2 x 64) 219 -> 76 ms, a 3x3x3/1 pool of 2 x 5 x 28^2 x 192 180 -> 40 ms, I3D's 1x3x3
    stem pool 39 -> 4 ms, ResNet's 3x3/2 stem pool 45 -> 4 ms; whole training steps (median of
    5): I3D + STAP 703 -> 535 ms, Res3D-18 + SCA 1196 -> 1029 ms.
    """
    if jax.default_backend() != "cpu":
        return nn.max_pool(x, window_shape, strides, padding)
    spatial = len(window_shape)
    window_shape = tuple(window_shape)
    strides = tuple(strides or (1,) * spatial)
    if isinstance(padding, str):
        pads = lax.padtype_to_pads(x.shape[1 : 1 + spatial], window_shape, strides, padding)
    else:
        pads = [tuple(p) for p in padding]
    config = [(0, 0, 0), *[(*p, 0) for p in pads]] + [(0, 0, 0)] * (x.ndim - 1 - spatial)
    x = lax.pad(x, jnp.array(-jnp.inf, x.dtype), config)
    spatial_shape = x.shape[1 : 1 + spatial]
    sizes = tuple(
        (n - w) // s + 1 for n, w, s in zip(spatial_shape, window_shape, strides, strict=True)
    )
    return _window_max(x, window_shape, strides, sizes)


def _window_max(x, window, strides, sizes):
    """Maximum of each window of ``x``, one spatial axis at a time, the last axis first."""
    for axis in reversed(range(len(window))):
        x = _axis_max(x, axis + 1, window[axis], strides[axis], sizes[axis])
    return x


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3, 4))
def _axis_max(x, axis, window, stride, size):
    """Maximum of the ``window`` strided slices along ``axis``."""
    out = None
    for k in range(window):
        piece = lax.slice_in_dim(x, k, k + stride * (size - 1) + 1, stride, axis)
        out = piece if out is None else jnp.maximum(out, piece)
    return out


def _axis_max_fwd(x, axis, window, stride, size):
    out = _axis_max(x, axis, window, stride, size)
    return out, (x, out)


def _axis_max_bwd(axis, window, stride, size, residuals, grad):
    x, out = residuals
    zero = jnp.zeros((), grad.dtype)
    # The first maximal slice takes the gradient; a running "taken" mask skips the later ties.
    taken = None
    total = None
    for k in range(window):
        piece = lax.slice_in_dim(x, k, k + stride * (size - 1) + 1, stride, axis)
        first = piece == out if taken is None else (piece == out) & ~taken
        taken = first if taken is None else taken | first
        config = [(0, 0, 0)] * grad.ndim
        config[axis] = (k, x.shape[axis] - k - stride * (size - 1) - 1, stride - 1)
        part = lax.pad(jnp.where(first, grad, zero), zero, config)
        total = part if total is None else total + part
    return (total,)


_axis_max.defvjp(_axis_max_fwd, _axis_max_bwd)
