"""Inflation of 2D networks into 3D ones (Carreira & Zisserman, CVPR 2017, Sec. 2.2).

"Inflating 2D ConvNets into 3D": every N x N filter becomes N x N x N (here kt x kh x kw), and the
3D network is bootstrapped from the 2D one's ImageNet weights "by repeating the weights of the
2D filters N times along the time dimension, and rescaling them by dividing by N". A "boring
video" -- one image repeated in time -- then gives the 3D network the same activations as the
2D network on that image: a temporal convolution of a constant sequence sums the N repeated
taps, N x (W / N) = W, and poolings and BatchNorm act per frame alike. With zero padding in time
this holds exactly at the frames whose temporal receptive field lies inside the clip
(``tests/weights/test_inflate.py`` checks it on ResNet-18 -> Res3D-18); frames near the clip's
ends also see the padding.

``method="center"`` (the 2D kernel at the centre tap, zeros elsewhere) is the alternative some
later work uses; it has the same boring-video property.

Parameters are matched by name: :class:`mejax.models.resnet.ResNet` and
:class:`mejax.models.res3d.Res3D` share theirs. A 2D kernel (kh, kw, Cin, Cout) fills a 3D
kernel (kt, kh, kw, Cin, Cout); BatchNorm parameters and statistics and Dense layers are
copied.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mejax.weights import npz

METHODS = ("mean", "center")


def inflate_kernel(kernel: np.ndarray, time: int, method: str = "mean") -> np.ndarray:
    """A 2D convolution kernel (kh, kw, Cin, Cout) as a 3D one (time, kh, kw, Cin, Cout).

    Args:
      kernel: the 2D kernel.
      time: temporal size of the 3D kernel.
      method: ``mean`` (repeat over time and divide by ``time``, Carreira & Zisserman) or
        ``center`` (the 2D kernel at the central tap, zero elsewhere).

    Returns:
      The 3D kernel; for a clip constant in time both give the 2D convolution.
    """
    kernel = np.asarray(kernel)
    if kernel.ndim != 4:
        raise ValueError(f"a 2D kernel has shape (kh, kw, Cin, Cout), got {kernel.shape}")
    if method == "mean":
        return np.repeat(kernel[None], time, axis=0) / time
    if method == "center":
        out = np.zeros((time, *kernel.shape), kernel.dtype)
        out[time // 2] = kernel
        return out
    raise ValueError(f"inflation method {method!r} not in {METHODS}")


def inflatable(source_shape: tuple, target_shape: tuple) -> bool:
    """Whether a 2D kernel of ``source_shape`` inflates into a 3D one of ``target_shape``."""
    return (
        len(source_shape) == 4
        and len(target_shape) == 5
        and tuple(source_shape) == tuple(target_shape[1:])
    )


def inflate(variables_2d: Mapping, template_3d: Mapping, method: str = "mean") -> dict:
    """Variables of a 3D network built from those of a 2D network with the same names.

    Args:
      variables_2d: the 2D network's variables ({"params": ..., "batch_stats": ...}).
      template_3d: the 3D network's variables or their shapes (e.g. from ``jax.eval_shape``).
      method: see :func:`inflate_kernel`.

    Returns:
      A nested dict shaped like ``template_3d``: 2D kernels inflated, everything else copied.
      2D variables without a 3D counterpart (say a classifier the 3D network lacks) are ignored.

    Raises:
      ValueError: a 3D variable has no 2D counterpart, or their shapes neither match nor
        inflate (the message names the variable and both shapes).
    """
    source = npz.flatten(variables_2d)
    out, missing = {}, []
    for key, target in npz.flatten(template_3d).items():
        if key not in source:
            missing.append(key)
            continue
        value = np.asarray(source[key])
        if inflatable(value.shape, target.shape):
            out[key] = inflate_kernel(value, target.shape[0], method).astype(target.dtype)
        elif value.shape == tuple(target.shape):
            out[key] = value.astype(target.dtype)
        else:
            raise ValueError(
                f"cannot inflate {key}: 2D shape {value.shape}, 3D shape {tuple(target.shape)}"
            )
    if missing:
        raise ValueError(f"no 2D variable for {len(missing)} 3D variables: {', '.join(missing)}")
    return npz.unflatten(out, template_3d)
