"""The Neural Micro-Expression Recognizer: ResNet-18 parts + adversarial domain adaptation.

Liu, Du, Zheng, Gedeon, "A Neural Micro-Expression Recognizer" (MEGC2019, FG 2019), Sec. 3,
with the layer sizes of the authors' public code (``Model_VGGFace.py``):

* encoder: torchvision's ResNet-18 with ImageNet weights up to ``layer4`` (7x7x512 at 224^2),
  here :class:`mejax.models.resnet.ResNet` named ``backbone``, so ImageNet ResNet weights load
  by name with ``init_from``;
* parts: the ``layer4`` map split by rows, the top rows ``[:3]`` and the bottom rows ``[3:]``
  (eyes/brows and mouth at 224^2), each average-pooled -> Linear 512->64 -> Tanh -> Dropout .1;
* classifiers: Linear 128->C on the concatenated parts (the prediction, ``logits``) and
  Linear 64->C on each part (``aux_logits``; the loss adds their cross-entropies);
* domain discriminator (macro = 0, micro = 1) on the gradient-reversed 128 features
  (:mod:`mejax.models.grl`): 128->64, ReLU, Dropout .5 -> 32, ReLU, Dropout .5 -> 1
  (``domain_logits``);
* Xavier-normal kernels (PyTorch's ``xavier_normal_``: untruncated, std sqrt(2/(fan_in +
  fan_out))) and zero biases for every head.

The top/bottom split of other input sizes follows the rule ``r = round(3/7 * H)`` on the
``layer4`` height ``H`` (3 of 7 at 224^2, 1 of 2 at 64^2, 2 of 4 at 112^2), clamped so that the
top has at least one row and leaves at least one bottom row (``H`` must be at least 2).

Ablations of the paper's Table I: ``parts=False`` ("no parts": global average pooling ->
Linear 512->128 -> Tanh -> Dropout .1 -> classifier, no ``aux_logits``) and
``discriminator=False`` (no ``domain_logits``; "Part+EMR" without "Adv").
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from mejax.models import grl, resnet

# PyTorch's nn.init.xavier_normal_ (an untruncated normal) and zero biases.
XAVIER_NORMAL = jax.nn.initializers.variance_scaling(1.0, "fan_avg", "normal")
PART_FEATURES = 64
PART_DROPOUT = 0.1
DISCRIMINATOR_FEATURES = (64, 32)
DISCRIMINATOR_DROPOUT = 0.5


def split_row(height: int) -> int:
    """First bottom row ``r`` of a ``layer4`` map of ``height`` rows: ``round(3/7 * height)``
    clamped to ``[1, height - 1]`` (the reference's ``[:3]`` / ``[3:]`` at 7 rows).

    ``3 * height / 7`` is never a half-integer, so the rounding has no ties.
    """
    if height < 2:
        raise ValueError(
            f"the part split needs a layer4 map of at least 2 rows, got {height}: use a larger "
            "input (at least 33^2 with the stem's max-pool, 17^2 without)"
        )
    return min(max(round(3 * height / 7), 1), height - 1)


def part_pool(feature_map: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(B, H, W, C) map -> average-pooled (top rows [:r], bottom rows [r:]), each (B, C)."""
    r = split_row(feature_map.shape[1])
    feature_map = feature_map.astype(jnp.float32)
    return (
        jnp.mean(feature_map[:, :r], axis=(1, 2)),
        jnp.mean(feature_map[:, r:], axis=(1, 2)),
    )


def _dense(features: int, name: str) -> nn.Dense:
    return nn.Dense(features, kernel_init=XAVIER_NORMAL, bias_init=nn.initializers.zeros, name=name)


class PartMER(nn.Module):
    """ResNet encoder + top/bottom part features + classifiers + GRL domain discriminator.

    Attributes:
      num_outputs: classes.
      depth: ResNet depth (18 in the paper; :data:`mejax.models.resnet.DEPTHS`).
      width: channel multiplier (1.0 = the published network).
      max_pool: the stem's max-pool (off for small inputs).
      parts: top/bottom parts with their own classifiers (False: the "no parts" ablation).
      discriminator: the adversarial macro/micro domain discriminator (False: none).
      dtype: computation dtype of the backbone (the heads run in float32).
      bn_momentum: BatchNorm running-average decay.
    """

    num_outputs: int
    depth: int = 18
    width: float = 1.0
    max_pool: bool = True
    parts: bool = True
    discriminator: bool = True
    dtype: jnp.dtype = jnp.float32
    bn_momentum: float = 0.9

    @nn.compact
    def __call__(self, x, *, train: bool, grl_lambda=0.0) -> dict:
        """Runs the network.

        Args:
          x: (B, H, W, C) images or flow.
          train: BatchNorm batch statistics and dropout.
          grl_lambda: the gradient-reversal factor (forward pass unchanged; the task's
            ``grl_schedule`` sets it during training, prediction leaves it at 0).

        Returns:
          ``logits`` (B, num_outputs); with ``parts``, ``aux_logits`` (top, bottom), each
          (B, num_outputs); with ``discriminator``, ``domain_logits`` (B, 1). The pooled part
          features (``top``, ``bottom``) or the global ``pooled`` ones are sown into the
          ``intermediates`` collection.
        """
        endpoints = resnet.ResNet(
            self.depth, self.width, self.max_pool, None, self.dtype, self.bn_momentum,
            name="backbone",
        )(x, train=train)  # fmt: skip
        layer4 = endpoints["layer4"]
        outputs = {}
        if self.parts:
            top, bottom = part_pool(layer4)
            self.sow("intermediates", "top", top)
            self.sow("intermediates", "bottom", bottom)
            embedded = []
            for part, pooled in (("top", top), ("bottom", bottom)):
                h = jnp.tanh(_dense(PART_FEATURES, f"{part}_embed")(pooled))
                embedded.append(nn.Dropout(PART_DROPOUT, deterministic=not train)(h))
            features = jnp.concatenate(embedded, axis=-1)
            outputs["aux_logits"] = tuple(
                _dense(self.num_outputs, f"{part}_classifier")(h)
                for part, h in zip(("top", "bottom"), embedded, strict=True)
            )
        else:
            pooled = jnp.mean(layer4.astype(jnp.float32), axis=(1, 2))
            self.sow("intermediates", "pooled", pooled)
            features = jnp.tanh(_dense(2 * PART_FEATURES, "embed")(pooled))
            features = nn.Dropout(PART_DROPOUT, deterministic=not train)(features)
        outputs["logits"] = _dense(self.num_outputs, "classifier")(features)
        if self.discriminator:
            h = grl.reverse_gradient(features, grl_lambda)
            for i, width in enumerate(DISCRIMINATOR_FEATURES, 1):
                h = nn.relu(_dense(width, f"discriminator_fc{i}")(h))
                h = nn.Dropout(DISCRIMINATOR_DROPOUT, deterministic=not train)(h)
            outputs["domain_logits"] = _dense(1, "discriminator_out")(h)
        return outputs
