"""Two-stream flow backbones of MER-auGCN: Dual-Inception and the two-path ResNet ablation.

Zhou, Mao, Dong, "MER-auGCN: Micro-expression recognition based on AU graph convolutional
network", Sec. III, takes its feature extractor from Dual-Inception (Zhou et al., MEGC2019);
the layer sizes follow that network's public Keras code (``xly135846/MEGC2019``,
``dual_inception.py``):

* two **unshared** streams, one for the horizontal (u) and one for the vertical (v) flow
  component, each 28^2 (here one (B, 28, 28, 2) input: channel 0 = u, channel 1 = v);
* per stream, Inception-1: four branches of ``filters[0]`` = 6 channels each, in this order:
  1x1; 1x1 -> 3x3; 1x1 -> 5x5; 3x3 max-pool (stride 1, 'SAME') -> 1x1; concatenated (24) ->
  2x2 max-pool (stride 2, 'VALID') -> 14^2;
* Inception-2: the same with ``filters[1]`` = 16 (64 channels) -> 2x2 max-pool -> 7x7x64;
* every convolution 'SAME' with bias and ReLU; no BatchNorm, no dropout;
* both streams flattened (row-major H, W, C, u before v: 2 x 3136 = 6272) -> Dense 1024 + ReLU,
  the feature ``z`` (the Keras model's last Dense, the classifier, is the caller's).

Choices and conventions:

* initialisation: the reference's Keras defaults (Glorot-uniform kernels, zero biases), also
  for the Dense of :class:`DualResNet` (its ResNet paths keep :mod:`mejax.models.resnet`'s);
* one flow component per stream (the reference reads each component as an 8-bit 3-channel
  image; how flow was encoded into those images is unknown).

The "Resnet18" ablation (Table III) has "two paths ... four basic blocks each" on 112^2
crops: :class:`DualResNet`, one :class:`mejax.models.resnet.ResNet` per flow component (depth
18 by default; ``depth=10``, one basic block per stage, is the literal reading of "four basic
blocks"), each ``layer4`` globally average-pooled, concatenated -> Dense ``features`` + ReLU.

:func:`build_backbone` selects one of :data:`BACKBONES` by name.
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp

from mejax.models import layers, resnet

BACKBONES = ("dual_inception", "resnet18")
STREAMS = ("u", "v")
# Keras' default initialisers, those of the reference code.
KERNEL_INIT = nn.initializers.glorot_uniform()
BIAS_INIT = nn.initializers.zeros


def _check_flow(x) -> None:
    if x.ndim != 4 or x.shape[-1] != len(STREAMS):
        raise ValueError(f"expected (B, H, W, 2) flow (channel 0 = u, 1 = v), got {x.shape}")


class Inception(nn.Module):
    """Four parallel branches of ``filters`` channels each, concatenated (4 x ``filters``)."""

    filters: int
    dtype: jnp.dtype = jnp.float32

    def _conv(self, kernel: int, name: str) -> nn.Conv:
        return nn.Conv(
            self.filters,
            (kernel, kernel),
            padding="SAME",
            dtype=self.dtype,
            kernel_init=KERNEL_INIT,
            bias_init=BIAS_INIT,
            name=name,
        )

    @nn.compact
    def __call__(self, x):
        b1 = nn.relu(self._conv(1, "branch1x1")(x))
        b3 = nn.relu(self._conv(1, "branch3x3_reduce")(x))
        b3 = nn.relu(self._conv(3, "branch3x3")(b3))
        b5 = nn.relu(self._conv(1, "branch5x5_reduce")(x))
        b5 = nn.relu(self._conv(5, "branch5x5")(b5))
        bp = layers.max_pool(x, (3, 3), (1, 1), padding="SAME")
        bp = nn.relu(self._conv(1, "branch_pool")(bp))
        return jnp.concatenate([b1, b3, b5, bp], axis=-1)


class InceptionStream(nn.Module):
    """One stream: Inception-1 -> 2x2 max-pool -> Inception-2 -> 2x2 max-pool."""

    filters: tuple[int, int] = (6, 16)
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x):
        for i, filters in enumerate(self.filters, 1):
            x = Inception(filters, self.dtype, name=f"inception{i}")(x)
            x = layers.max_pool(x, (2, 2), (2, 2), padding="VALID")
        return x


class DualInception(nn.Module):
    """Dual-Inception feature extractor: (B, 28, 28, 2) flow -> (B, ``features``) ``z``.

    Attributes:
      filters: channels per branch of Inception-1 and Inception-2 ((6, 16) in the reference).
      features: width of the final Dense + ReLU (1024 in the reference).
      dtype: computation dtype (parameters stay float32).
    """

    filters: tuple[int, ...] = (6, 16)
    features: int = 1024
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x, *, train: bool = False):
        """``train`` is accepted for a uniform backbone interface (the network has no BatchNorm
        and no dropout)."""
        del train
        _check_flow(x)
        flat = []
        for c, stream in enumerate(STREAMS):
            h = InceptionStream(tuple(self.filters), self.dtype, name=f"{stream}_stream")(
                x[..., c : c + 1]
            )
            flat.append(h.reshape(h.shape[0], -1))
        h = jnp.concatenate(flat, axis=-1)
        h = nn.Dense(
            self.features,
            dtype=self.dtype,
            kernel_init=KERNEL_INIT,
            bias_init=BIAS_INIT,
            name="fc",
        )(h)
        return nn.relu(h)


class DualResNet(nn.Module):
    """Two-path ResNet (the "Resnet18" ablation): (B, H, W, 2) flow -> (B, ``features``).

    Attributes:
      features: width of the final Dense + ReLU.
      depth: ResNet depth of each path (:data:`mejax.models.resnet.DEPTHS`).
      width: channel multiplier of each path (1.0 = the published ResNet).
      max_pool: the stem's max-pool.
      dtype: computation dtype of the paths (the pooled features and Dense run in float32).
      bn_momentum: BatchNorm running-average decay.
    """

    features: int = 1024
    depth: int = 18
    width: float = 1.0
    max_pool: bool = True
    dtype: jnp.dtype = jnp.float32
    bn_momentum: float = 0.9

    @nn.compact
    def __call__(self, x, *, train: bool):
        _check_flow(x)
        pooled = []
        for c, stream in enumerate(STREAMS):
            endpoints = resnet.ResNet(
                self.depth, self.width, self.max_pool, None, self.dtype, self.bn_momentum,
                name=f"{stream}_resnet",
            )(x[..., c : c + 1], train=train)  # fmt: skip
            pooled.append(jnp.mean(endpoints["layer4"].astype(jnp.float32), axis=(1, 2)))
        h = nn.Dense(self.features, kernel_init=KERNEL_INIT, bias_init=BIAS_INIT, name="fc")(
            jnp.concatenate(pooled, axis=-1)
        )
        return nn.relu(h)


def build_backbone(
    name: str,
    *,
    features: int = 1024,
    filters: tuple[int, ...] = (6, 16),
    depth: int = 18,
    width: float = 1.0,
    max_pool: bool = True,
    dtype: jnp.dtype = jnp.float32,
    bn_momentum: float = 0.9,
    module_name: str | None = "backbone",
) -> nn.Module:
    """The backbone ``name`` of :data:`BACKBONES` (``filters`` serves Dual-Inception only;
    ``depth``, ``width``, ``max_pool`` and ``bn_momentum`` the ResNet paths only)."""
    if name == "dual_inception":
        return DualInception(tuple(filters), features, dtype, name=module_name)
    if name == "resnet18":
        return DualResNet(
            features, depth, width, max_pool, dtype, bn_momentum, name=module_name
        )  # fmt: skip
    raise ValueError(f"backbone {name!r} not in {BACKBONES}")
