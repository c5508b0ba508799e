"""Layers shared by the models.

``conv_3d`` computes a 3D convolution as a sum over the temporal kernel taps of 2D convolutions
on time-shifted slices. The result is the same convolution (up to float summation order), but
XLA's CPU backend runs 2D convolutions and their gradients several times faster than 3D ones
(measure it with ``benchmarks/conv3d.py``). Models pass it to
``flax.linen.Conv`` as ``conv_general_dilated``, so parameters keep their usual layout
(kt, kh, kw, Cin, Cout) and name; on other backends it defers to ``lax.conv_general_dilated``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

_NDHWC = ("NDHWC", "DHWIO", "NDHWC")


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "SAME" padding of one dimension (the extra pixel goes after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _reads_frames(tap: int, stride: int, time_out: int, pad_before: int, time: int) -> bool:
    """Whether kernel time step ``tap`` meets a real frame at some output time (it reads the
    padded frames ``tap + i * stride``, ``i < time_out``; the real ones start at ``pad_before``).
    Res3D's layer4 runs on one frame: two of its three time steps read only zeros, and skipping
    them (exact: their products are zeros) took 13 % off Res3D-18 + SCA's training step on a CPU
    (``benchmarks/train_step.py``)."""
    return any(0 <= tap + i * stride - pad_before < time for i in range(time_out))


def conv_3d(
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
    """Drop-in for ``lax.conv_general_dilated`` on NDHWC inputs with DHWIO kernels.

    Uses the time-sliced 2D formulation on CPU for undilated, ungrouped 3D convolutions and
    ``lax.conv_general_dilated`` otherwise. Arguments as for ``lax.conv_general_dilated``.
    """
    plain = (
        jax.default_backend() == "cpu"
        and lhs.ndim == 5
        # Compare in canonical form: callers may pass the spec as strings, Flax passes it resolved.
        and lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
        == lax.conv_dimension_numbers(lhs.shape, rhs.shape, _NDHWC)
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
    batch, time, height, width, channels = lhs.shape
    kt = rhs.shape[0]
    if isinstance(padding, str):
        if padding == "SAME":
            padding = [
                _same_padding(n, k, s)
                for n, k, s in zip(lhs.shape[1:4], rhs.shape[:3], window_strides, strict=True)
            ]
        elif padding == "VALID":
            padding = [(0, 0)] * 3
        else:
            raise ValueError(f"padding {padding!r} not supported")
    padding = [tuple(p) for p in padding]
    stride_t = window_strides[0]
    # lax.pad, not jnp.pad: negative padding crops, as in lax.conv_general_dilated.
    time_padding = (*padding[0], 0)
    lhs = lax.pad(lhs, jnp.zeros((), lhs.dtype), [(0, 0, 0), time_padding] + [(0, 0, 0)] * 3)
    time_out = (time + sum(padding[0]) - kt) // stride_t + 1
    out = None
    for tap in range(kt):
        if not _reads_frames(tap, stride_t, time_out, padding[0][0], time):
            continue  # a kernel time step that meets only padding adds exact zeros
        frames = lhs[:, tap : tap + (time_out - 1) * stride_t + 1 : stride_t]
        y = lax.conv_general_dilated(
            frames.reshape(batch * time_out, height, width, channels),
            rhs[tap],
            window_strides[1:],
            padding[1:],
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
            precision=precision,
            preferred_element_type=preferred_element_type,
        )
        out = y if out is None else out + y
    return out.reshape(batch, time_out, *out.shape[1:])
