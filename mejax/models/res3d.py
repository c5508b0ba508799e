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

import flax.linen as nn
import jax.numpy as jnp

from mejax.models import layers, residual
from mejax.models.residual import DEPTHS, SHORTCUTS

ENDPOINTS = ("stem", "layer1", "layer2", "layer3", "layer4")


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
        ops = residual.Ops(3, self.dtype, self.bn_momentum)
        endpoints = {}
        stem = ops.conv(
            residual.planes(self.width)[0],
            (self.conv1_t_size, 7, 7),
            (self.conv1_t_stride, 2, 2),
            "conv1",
        )
        x = nn.relu(ops.bn(train, "bn1")(stem(x)))
        if self.max_pool:
            x = layers.max_pool(x, (3, 3, 3), (2, 2, 2), padding=((1, 1),) * 3)
        endpoints["stem"] = x
        x = residual.layers(
            x,
            kind,
            blocks,
            self.width,
            endpoints,
            train=train,
            shortcut=self.shortcut,
            ndim=3,
            dtype=self.dtype,
            bn_momentum=self.bn_momentum,
        )
        if self.num_classes is not None:
            pooled = jnp.mean(x.astype(jnp.float32), axis=(1, 2, 3))
            endpoints["logits"] = nn.Dense(self.num_classes, name="fc")(pooled)
        return endpoints
