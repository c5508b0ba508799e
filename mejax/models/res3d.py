"""3D residual networks (Res3D / 3D-ResNet-10/18/34/50/101/152/200).

Hara, Kataoka, Satoh, "Can Spatiotemporal 3D CNNs Retrace the History of 2D CNNs and
ImageNet?" (CVPR 2018), Sec. 3 / Table 1: He et al.'s ResNets with every kernel made 3D.
The layout and parameter names follow the authors' widely used PyTorch code
(``kenshohara/3D-ResNets-PyTorch``), so its Kinetics checkpoints convert by name
(``mejax.weights``):

* stem: ``conv1`` (kt x 7 x 7, stride (conv1_t_stride, 2, 2), padding (kt // 2, 3, 3)) ->
  ``bn1`` -> ReLU -> 3x3x3 max-pool, stride 2 in time and space, padding 1;
* ``layer1`` .. ``layer4`` of basic blocks (two 3x3x3 convs; depths 10-34) or bottleneck blocks
  (1x1x1, 3x3x3, 1x1x1 with 4x expansion; depths 50-200); the first block of ``layer2`` ..
  ``layer4`` has stride 2 in time and space;
* shortcuts where the shape changes: ``A`` (identity subsampled by the stride, new channels
  zero -- no parameters) or ``B`` (1x1x1 strided conv + BatchNorm);
* BatchNorm with scale, eps 1e-5 (PyTorch's), PyTorch's momentum 0.1 = Flax decay 0.9;
* an optional classifier: global average pool -> ``fc``.

SCA (Li, Huang, Zhao, Neurocomputing 2021, Sec. 3.1) uses Res3D-18/50/101 with conv1 stride
(1, 2, 2): a 10 x 112^2 clip gives a 1 x 4 x 4 x 512 ``layer4`` map (shortcut A in the
authors' re-implementation). ``width`` scales every channel count (1.0 = published network;
Hara et al.'s ``widen_factor``); small widths are for tests and CPU-sized runs.

Parameter tree: ``conv1``, ``bn1``, ``layer{i}_{j}/{conv1,bn1,conv2,bn2[,conv3,bn3]}``,
``layer{i}_{j}/downsample_conv`` and ``downsample_bn`` (shortcut B), ``fc``.
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from mejax.models.layers import conv_3d

# depth -> (block, blocks per layer), Hara et al. Table 1.
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
ENDPOINTS = ("stem", "layer1", "layer2", "layer3", "layer4")


def flat_kaiming_normal(key, shape, dtype=jnp.float32):
    """He-normal kernel with fan_out = Cout x kernel volume, as the reference code initialises.

    Drawn as a 2-D matrix and reshaped: XLA on CPU compiles a 5-D random draw for tens of
    seconds, a 2-D one in a fraction of a second; the distribution is the same.
    """
    fan_out = shape[-1] * math.prod(shape[:-2])
    std = math.sqrt(2.0 / fan_out)
    flat = jax.random.normal(key, (math.prod(shape[:-1]), shape[-1]), dtype)
    return (flat * std).reshape(shape)


class _Ops:
    """Conv and BatchNorm factories with the network's dtype and momentum."""

    def __init__(self, dtype, bn_momentum):
        self.dtype, self.bn_momentum = dtype, bn_momentum

    def conv(self, features, kernel, strides=1, name=None):
        kernel = (kernel,) * 3 if isinstance(kernel, int) else tuple(kernel)
        strides = (strides,) * 3 if isinstance(strides, int) else tuple(strides)
        return nn.Conv(
            features,
            kernel,
            strides,
            padding=[(k // 2, k // 2) for k in kernel],
            use_bias=False,
            dtype=self.dtype,
            kernel_init=flat_kaiming_normal,
            conv_general_dilated=conv_3d,
            name=name,
        )

    def bn(self, train, name=None):
        return nn.BatchNorm(
            use_running_average=not train,
            momentum=self.bn_momentum,
            epsilon=1e-5,
            dtype=self.dtype,
            name=name,
        )


def shortcut_a(x: jnp.ndarray, features: int, stride: int) -> jnp.ndarray:
    """Shortcut A: the input subsampled by ``stride`` with zero channels appended."""
    x = x[:, ::stride, ::stride, ::stride]
    extra = features - x.shape[-1]
    return jnp.pad(x, [(0, 0)] * 4 + [(0, extra)]) if extra else x


class Block(nn.Module):
    """A basic or bottleneck residual block."""

    kind: str
    planes: int
    stride: int = 1
    shortcut: str = "B"
    dtype: jnp.dtype = jnp.float32
    bn_momentum: float = 0.9

    @nn.compact
    def __call__(self, x, *, train: bool):
        ops = _Ops(self.dtype, self.bn_momentum)
        out_features = self.planes * EXPANSION[self.kind]
        if self.kind == "basic":
            y = ops.conv(self.planes, 3, self.stride, "conv1")(x)
            y = nn.relu(ops.bn(train, "bn1")(y))
            y = ops.bn(train, "bn2")(ops.conv(self.planes, 3, 1, "conv2")(y))
        else:
            y = nn.relu(ops.bn(train, "bn1")(ops.conv(self.planes, 1, 1, "conv1")(x)))
            y = ops.conv(self.planes, 3, self.stride, "conv2")(y)
            y = nn.relu(ops.bn(train, "bn2")(y))
            y = ops.bn(train, "bn3")(ops.conv(out_features, 1, 1, "conv3")(y))
        residual = x
        if self.stride != 1 or x.shape[-1] != out_features:
            if self.shortcut == "A":
                residual = shortcut_a(x, out_features, self.stride)
            else:
                residual = ops.conv(out_features, 1, self.stride, "downsample_conv")(x)
                residual = ops.bn(train, "downsample_bn")(residual)
        return nn.relu(y + residual)


class Res3D(nn.Module):
    """3D ResNet backbone (and optional classifier).

    Attributes:
      depth: one of :data:`DEPTHS` (10, 18, 34, 50, 101, 152, 200).
      shortcut: ``A`` (parameter-free) or ``B`` (projection), where the shape changes.
      width: channel multiplier of ``(64, 128, 256, 512)`` (1.0 = published network).
      conv1_t_size: temporal kernel size of ``conv1`` (7 in Hara et al.).
      conv1_t_stride: temporal stride of ``conv1`` (1 in Hara et al. and SCA).
      max_pool: the stem's 3x3x3 stride-2 max-pool (Hara et al.'s ``no_max_pool`` inverted).
      num_classes: adds global average pooling and ``fc`` (endpoint ``logits``); None: none.
      dtype: computation dtype (parameters stay float32).
      bn_momentum: decay of the BatchNorm running averages (0.9 = PyTorch's 0.1).
    """

    depth: int = 18
    shortcut: str = "B"
    width: float = 1.0
    conv1_t_size: int = 7
    conv1_t_stride: int = 1
    max_pool: bool = True
    num_classes: int | None = None
    dtype: jnp.dtype = jnp.float32
    bn_momentum: float = 0.9

    @nn.compact
    def __call__(self, x, *, train: bool) -> dict[str, jnp.ndarray]:
        """Endpoints dict of clips (B, T, H, W, C): ``stem``, ``layer1`` .. ``layer4``
        (each (B, T', H', W', C')) and ``logits`` (B, num_classes) with ``num_classes``."""
        if self.depth not in DEPTHS:
            raise ValueError(f"Res3D depth {self.depth} not in {sorted(DEPTHS)}")
        if self.shortcut not in SHORTCUTS:
            raise ValueError(f"Res3D shortcut {self.shortcut!r} not in {SHORTCUTS}")
        kind, blocks = DEPTHS[self.depth]
        planes = [max(1, round(p * self.width)) for p in (64, 128, 256, 512)]
        ops = _Ops(self.dtype, self.bn_momentum)
        endpoints = {}
        stem = ops.conv(planes[0], (self.conv1_t_size, 7, 7), (self.conv1_t_stride, 2, 2), "conv1")
        x = nn.relu(ops.bn(train, "bn1")(stem(x)))
        if self.max_pool:
            x = nn.max_pool(x, (3, 3, 3), (2, 2, 2), padding=((1, 1),) * 3)
        endpoints["stem"] = x
        for layer, (width, count) in enumerate(zip(planes, blocks, strict=True), start=1):
            for index in range(count):
                stride = 2 if layer > 1 and index == 0 else 1
                x = Block(
                    kind,
                    width,
                    stride,
                    self.shortcut,
                    self.dtype,
                    self.bn_momentum,
                    name=f"layer{layer}_{index}",
                )(x, train=train)
            endpoints[f"layer{layer}"] = x
        if self.num_classes is not None:
            pooled = jnp.mean(x.astype(jnp.float32), axis=(1, 2, 3))
            endpoints["logits"] = nn.Dense(self.num_classes, name="fc")(pooled)
        return endpoints
