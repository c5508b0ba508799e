"""Residual blocks shared by the 2D ResNet (``resnet.py``) and the 3D ResNet (``res3d.py``).

He, Zhang, Ren, Sun (CVPR 2016) as torchvision implements it, and its 3D form by Hara, Kataoka,
Satoh (CVPR 2018): basic blocks (two 3^d convs) and bottleneck blocks (1^d, 3^d with the
stride, 1^d with 4x expansion), shortcuts ``A`` (identity subsampled by the stride, new channels
zero) or ``B`` (1^d strided conv + BatchNorm) where the shape changes, BatchNorm with scale and
PyTorch's eps 1e-5 and momentum 0.1 (Flax decay 0.9). The same code serves 2 and 3 spatial
dimensions, so both networks keep the names their PyTorch checkpoints convert to
(``conv1, bn1, conv2, bn2[, conv3, bn3], downsample_conv, downsample_bn``).
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from mejax.models.batch_norm import BatchNorm
from mejax.models.layers import conv_general_dilated

# depth -> (block, blocks per layer): He et al. Table 1, Hara et al. Table 1 (ResNet-10 and -200
# are Hara et al.'s; ResNet-10 is also the micro-attention network's backbone).
DEPTHS = {
    10: ("basic", (1, 1, 1, 1)),
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
    200: ("bottleneck", (3, 24, 36, 3)),
}
EXPANSION = {"basic": 1, "bottleneck": 4}
SHORTCUTS = ("A", "B")
PLANES = (64, 128, 256, 512)


def kaiming_normal_fan_out(key, shape, dtype=jnp.float32):
    """The reference code's conv initialisation: He-normal with fan_out = Cout x kernel size.

    Drawn as a 2-D matrix and reshaped (same distribution): XLA on CPU compiles random draws of
    4-D and 5-D shapes many times slower.
    """
    fan_out = shape[-1] * math.prod(shape[:-2])
    flat = jax.random.normal(key, (math.prod(shape[:-1]), shape[-1]), dtype)
    return (flat * math.sqrt(2.0 / fan_out)).reshape(shape)


class Ops:
    """Conv and BatchNorm factories for ``ndim`` spatial dimensions (2 or 3)."""

    def __init__(self, ndim: int, dtype, bn_momentum: float):
        self.ndim, self.dtype, self.bn_momentum = ndim, dtype, bn_momentum

    def conv(self, features, kernel, strides=1, name=None):
        kernel = (kernel,) * self.ndim if isinstance(kernel, int) else tuple(kernel)
        strides = (strides,) * self.ndim if isinstance(strides, int) else tuple(strides)
        return nn.Conv(
            features,
            kernel,
            strides,
            padding=[(k // 2, k // 2) for k in kernel],  # PyTorch's symmetric padding
            use_bias=False,
            dtype=self.dtype,
            kernel_init=kaiming_normal_fan_out,
            # Time-folded 3D and matrix-product 1x1 convolutions (faster on CPU).
            conv_general_dilated=conv_general_dilated,
            name=name,
        )

    def bn(self, train, name=None):
        return BatchNorm(
            use_running_average=not train,
            momentum=self.bn_momentum,
            epsilon=1e-5,
            dtype=self.dtype,
            name=name,
        )


def shortcut_a(x: jnp.ndarray, features: int, stride: int) -> jnp.ndarray:
    """Shortcut A: the input subsampled by ``stride`` in every spatial dimension, with zero
    channels appended."""
    x = x[(slice(None),) + (slice(None, None, stride),) * (x.ndim - 2)]
    extra = features - x.shape[-1]
    return jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, extra)]) if extra else x


class Block(nn.Module):
    """A basic or bottleneck residual block (stride on the 3^d convolution)."""

    kind: str
    planes: int
    stride: int = 1
    shortcut: str = "B"
    ndim: int = 3
    dtype: jnp.dtype = jnp.float32
    bn_momentum: float = 0.9

    @nn.compact
    def __call__(self, x, *, train: bool):
        ops = Ops(self.ndim, self.dtype, self.bn_momentum)
        out_features = self.planes * EXPANSION[self.kind]
        if self.kind == "basic":
            y = nn.relu(ops.bn(train, "bn1")(ops.conv(self.planes, 3, self.stride, "conv1")(x)))
            y = ops.bn(train, "bn2")(ops.conv(self.planes, 3, 1, "conv2")(y))
        else:
            y = nn.relu(ops.bn(train, "bn1")(ops.conv(self.planes, 1, 1, "conv1")(x)))
            y = nn.relu(ops.bn(train, "bn2")(ops.conv(self.planes, 3, self.stride, "conv2")(y)))
            y = ops.bn(train, "bn3")(ops.conv(out_features, 1, 1, "conv3")(y))
        residual = x
        if self.stride != 1 or x.shape[-1] != out_features:
            if self.shortcut == "A":
                residual = shortcut_a(x, out_features, self.stride)
            else:
                residual = ops.conv(out_features, 1, self.stride, "downsample_conv")(x)
                residual = ops.bn(train, "downsample_bn")(residual)
        return nn.relu(y + residual)


def planes(width: float) -> list[int]:
    """Channels of ``layer1`` .. ``layer4`` (before expansion) at channel multiplier ``width``."""
    return [max(1, round(p * width)) for p in PLANES]


def layers(x, kind: str, blocks, width: float, endpoints: dict, *, train: bool, **block_kwargs):
    """``layer1`` .. ``layer4`` of a residual network, called inside the network's compact
    ``__call__`` (the blocks are its children ``layer{i}_{j}``); each layer's output goes into
    ``endpoints``. The first block of ``layer2`` .. ``layer4`` has stride 2."""
    for layer, (features, count) in enumerate(zip(planes(width), blocks, strict=True), start=1):
        for index in range(count):
            stride = 2 if layer > 1 and index == 0 else 1
            x = Block(kind, features, stride, name=f"layer{layer}_{index}", **block_kwargs)(
                x, train=train
            )
        endpoints[f"layer{layer}"] = x
    return x
