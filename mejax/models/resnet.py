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

import flax.linen as nn
import jax.numpy as jnp

from mejax.models import layers, residual

# The depths of torchvision (He et al. Table 1) and ResNet-10.
DEPTHS = {d: spec for d, spec in residual.DEPTHS.items() if d <= 152}
ENDPOINTS = ("stem", "layer1", "layer2", "layer3", "layer4")


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
        ops = residual.Ops(2, self.dtype, self.bn_momentum)
        endpoints = {}
        x = ops.conv(residual.planes(self.width)[0], 7, 2, "conv1")(x)
        x = nn.relu(ops.bn(train, "bn1")(x))
        if self.max_pool:
            x = layers.max_pool(x, (3, 3), (2, 2), padding=((1, 1), (1, 1)))
        endpoints["stem"] = x
        x = residual.layers(
            x,
            kind,
            blocks,
            self.width,
            endpoints,
            train=train,
            shortcut="B",
            ndim=2,
            dtype=self.dtype,
            bn_momentum=self.bn_momentum,
        )
        if self.num_classes is not None:
            pooled = jnp.mean(x.astype(jnp.float32), axis=(1, 2))
            endpoints["pooled"] = pooled
            endpoints["logits"] = nn.Dense(self.num_classes, name="fc")(pooled)
        return endpoints
