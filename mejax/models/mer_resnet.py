"""A 2D ResNet micro-expression classifier on one image: onset -> apex flow or the apex frame.

The plain "ResNet" rows of the recognition papers mejax reproduces: the ResNet-18 encoder of the
MEGC2019 neural recogniser without its parts and domain adaptation (Liu, Du, Zheng, Gedeon,
MEGC2019, Sec. 3: ResNet-18 on the onset -> apex optical flow), the "Resnet18" backbone of
MER-auGCN's ablation (Zhou, Mao, Dong), and the ResNet-10 of Micro-Attention without its
attention units (Wang, Peng, Bi, Chen, Table 3) -- here in torchvision's layout
(:mod:`mejax.models.resnet`), so ImageNet ResNet weights load with ``init_from``.

The backbone's ``layer4`` map is average-pooled, dropped out and classified by ``fc``. The
output is a dict (``logits``; the recognition task reads it, and richer models add keys).
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp

from mejax.models import resnet


class ResNetClassifier(nn.Module):
    """2D ResNet + global average pooling + dropout + ``fc``.

    Attributes:
      num_outputs: classes.
      depth: 10, 18, 34, ... (:data:`mejax.models.resnet.DEPTHS`).
      width: channel multiplier (1.0 = the published network).
      max_pool: the stem's max-pool (off for small inputs).
      dropout_rate: before ``fc``.
      dtype: computation dtype.
      bn_momentum: BatchNorm running-average decay.
    """

    num_outputs: int
    depth: int = 18
    width: float = 1.0
    max_pool: bool = True
    dropout_rate: float = 0.0
    dtype: jnp.dtype = jnp.float32
    bn_momentum: float = 0.9

    @nn.compact
    def __call__(self, x, *, train: bool) -> dict[str, jnp.ndarray]:
        """(B, H, W, C) images or flow -> ``{"logits": (B, num_outputs)}``."""
        endpoints = resnet.ResNet(
            self.depth, self.width, self.max_pool, None, self.dtype, self.bn_momentum,
            name="backbone",
        )(x, train=train)  # fmt: skip
        pooled = jnp.mean(endpoints["layer4"].astype(jnp.float32), axis=(1, 2))
        pooled = nn.Dropout(self.dropout_rate, deterministic=not train)(pooled)
        return {"logits": nn.Dense(self.num_outputs, name="fc")(pooled)}
