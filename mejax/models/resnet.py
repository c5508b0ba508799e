"""2D residual networks (ResNet-10/18/34/50/101/152) in torchvision's layout.

He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition" (CVPR 2016), Table 1, as
torchvision implements it (``torchvision.models.resnet``), so its ImageNet checkpoints convert by
name (:mod:`mejax.weights.torch_convert`):

* stem: ``conv1`` (7x7, stride 2, padding 3) -> ``bn1`` -> ReLU -> 3x3 max-pool, stride 2,
  padding 1;
* ``layer1`` .. ``layer4`` of basic blocks (two 3x3 convs; depths 10-34) or bottleneck blocks
  (1x1, 3x3, 1x1 with 4x expansion; depths 50-152) with the stride on the 3x3 convolution
  (torchvision's "ResNet v1.5"); the first block of ``layer2`` .. ``layer4`` has stride 2;
* projection shortcuts (1x1 strided conv + BatchNorm, option B of the paper) where the shape
  changes;
* BatchNorm with scale, eps 1e-5, PyTorch's momentum 0.1 = Flax decay 0.9;
* an optional classifier: global average pool -> ``fc``.

ResNet-10 (one block per layer) is not in torchvision; it is the backbone of the micro-attention
network (Wang et al., "Micro-Attention for Micro-Expression Recognition", Sec. 3) and of Hara et
al.'s smallest 3D ResNet. ResNet-18 is the encoder of the neural micro-expression recogniser
(Liu et al., MEGC2019) and the second backbone of MER-auGCN (Zhou et al.).

The parameter tree has the same names as :mod:`mejax.models.res3d` (``conv1``, ``bn1``,
``layer{i}_{j}/{conv1,bn1,conv2,bn2[,conv3,bn3]}``, ``layer{i}_{j}/downsample_conv`` and
``downsample_bn``, ``fc``), with 2D kernels (kh, kw, Cin, Cout): :mod:`mejax.weights.inflate`
turns one into the other. ``width`` scales every channel count (1.0 = published network); small
widths are for tests and CPU-sized runs.
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

# depth -> (block, blocks per layer), He et al. Table 1 (+ ResNet-10).
DEPTHS = {
    10: ("basic", (1, 1, 1, 1)),
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
EXPANSION = {"basic": 1, "bottleneck": 4}
ENDPOINTS = ("stem", "layer1", "layer2", "layer3", "layer4")


def kaiming_normal_fan_out(key, shape, dtype=jnp.float32):
    """torchvision's conv initialisation: He-normal with fan_out = Cout x kernel area.

    Drawn as a 2-D matrix and reshaped (same distribution): XLA on CPU compiles random draws of
    4-D shapes many times slower.
    """
    fan_out = shape[-1] * math.prod(shape[:-2])
    flat = jax.random.normal(key, (math.prod(shape[:-1]), shape[-1]), dtype)
    return (flat * math.sqrt(2.0 / fan_out)).reshape(shape)


class _Ops:
    """Conv and BatchNorm factories with the network's dtype and momentum."""

    def __init__(self, dtype, bn_momentum):
        self.dtype, self.bn_momentum = dtype, bn_momentum

    def conv(self, features, kernel, strides=1, name=None):
        return nn.Conv(
            features,
            (kernel, kernel),
            (strides, strides),
            padding=[(kernel // 2, kernel // 2)] * 2,  # PyTorch's symmetric padding
            use_bias=False,
            dtype=self.dtype,
            kernel_init=kaiming_normal_fan_out,
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


class Block(nn.Module):
    """A basic or bottleneck residual block (stride on the 3x3 convolution)."""

    kind: str
    planes: int
    stride: int = 1
    dtype: jnp.dtype = jnp.float32
    bn_momentum: float = 0.9

    @nn.compact
    def __call__(self, x, *, train: bool):
        ops = _Ops(self.dtype, self.bn_momentum)
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
            residual = ops.conv(out_features, 1, self.stride, "downsample_conv")(x)
            residual = ops.bn(train, "downsample_bn")(residual)
        return nn.relu(y + residual)


class ResNet(nn.Module):
    """2D ResNet backbone (and optional classifier) in torchvision's layout.

    Attributes:
      depth: one of :data:`DEPTHS` (10, 18, 34, 50, 101, 152).
      width: channel multiplier of ``(64, 128, 256, 512)`` (1.0 = published network).
      max_pool: the stem's 3x3 stride-2 max-pool (off for small inputs such as 28^2 flow).
      num_classes: adds global average pooling and ``fc`` (endpoint ``logits``); None: none.
      dtype: computation dtype (parameters stay float32).
      bn_momentum: decay of the BatchNorm running averages (0.9 = PyTorch's 0.1).
    """

    depth: int = 18
    width: float = 1.0
    max_pool: bool = True
    num_classes: int | None = None
    dtype: jnp.dtype = jnp.float32
    bn_momentum: float = 0.9

    @nn.compact
    def __call__(self, x, *, train: bool) -> dict[str, jnp.ndarray]:
        """Runs the network.

        Args:
          x: images (B, H, W, C) (3 channels for ImageNet weights, normalised with ImageNet's
            mean and standard deviation as torchvision expects).
          train: BatchNorm uses batch statistics and updates its running averages.

        Returns:
          Endpoints dict: ``stem`` and ``layer1`` .. ``layer4`` (each (B, H', W', C'), strides
          4, 4, 8, 16, 32), and ``pooled`` (B, C') and ``logits`` (B, num_classes) with
          ``num_classes``.
        """
        if self.depth not in DEPTHS:
            raise ValueError(f"ResNet depth {self.depth} not in {sorted(DEPTHS)}")
        kind, blocks = DEPTHS[self.depth]
        planes = [max(1, round(p * self.width)) for p in (64, 128, 256, 512)]
        ops = _Ops(self.dtype, self.bn_momentum)
        endpoints = {}
        x = nn.relu(ops.bn(train, "bn1")(ops.conv(planes[0], 7, 2, "conv1")(x)))
        if self.max_pool:
            x = nn.max_pool(x, (3, 3), (2, 2), padding=((1, 1), (1, 1)))
        endpoints["stem"] = x
        for layer, (width, count) in enumerate(zip(planes, blocks, strict=True), start=1):
            for index in range(count):
                stride = 2 if layer > 1 and index == 0 else 1
                x = Block(
                    kind, width, stride, self.dtype, self.bn_momentum, name=f"layer{layer}_{index}"
                )(x, train=train)
            endpoints[f"layer{layer}"] = x
        if self.num_classes is not None:
            pooled = jnp.mean(x.astype(jnp.float32), axis=(1, 2))
            endpoints["pooled"] = pooled
            endpoints["logits"] = nn.Dense(self.num_classes, name="fc")(pooled)
        return endpoints
