"""SOFTNet: the shallow optical-flow three-stream CNN of expression spotting.

Liong, See, Wong, Phan, "Shallow Optical Flow Three-Stream CNN for Macro- and Micro-Expression
Spotting from Long Videos" (ICIP 2021), Sec. 2.2 and Fig. 2, as the authors' Keras code builds
it (genbing99/SoftNet-SpotME ``training.py``, ``SOFTNet()``; SPECS-SPOT §4b):

* three streams, one per input channel (u, v, optical strain; each (B, 42, 42, 1)): conv 5x5
  'same' with 3, 5 and 8 filters (with bias) + ReLU, then 3x3 max-pool stride 3 (Keras
  'valid': 42 -> 14);
* concatenation (16 channels), 2x2 max-pool stride 2 (14 -> 7), flatten (784);
* Dense 400 + ReLU, Dense 1 linear: the window's score, trained as a regression on the binary
  window target with MSE (:mod:`mejax.spotting.softnet`).

Parameters at 42x42 input: 78 + 130 + 208 (convolutions) + 314,000 (Dense 400) + 401 (Dense 1)
= 314,817, the count SPECS-SPOT §4b gives for the Keras model.

Initialisation as Keras's defaults (``glorot_uniform`` kernels, zero biases); Flax's default
would be LeCun normal. The flatten order (row, column, channel) is Keras's channels-last one,
so Keras weights would map by reshaping only.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from mejax.models import layers

FILTERS = (3, 5, 8)
HIDDEN = 400
KERAS_KERNEL_INIT = jax.nn.initializers.glorot_uniform()


class SOFTNet(nn.Module):
    """Three-stream shallow CNN: (B, H, W, 3) features (u, v, strain) -> (B,) window scores.

    Attributes:
      filters: filters of the u, v and strain streams' convolutions.
      hidden: units of the hidden Dense layer.
      dtype: computation dtype.
    """

    filters: Sequence[int] = FILTERS
    hidden: int = HIDDEN
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        if x.ndim != 4 or x.shape[-1] != len(self.filters):
            raise ValueError(
                f"SOFTNet: input of shape {x.shape}; expected (B, H, W, {len(self.filters)})"
            )
        x = x.astype(self.dtype)
        streams = []
        for channel, features in enumerate(self.filters):
            h = nn.Conv(
                features,
                (5, 5),
                padding="SAME",
                dtype=self.dtype,
                kernel_init=KERAS_KERNEL_INIT,
                name=f"conv{channel + 1}",
            )(x[..., channel : channel + 1])
            streams.append(layers.max_pool(nn.relu(h), (3, 3), (3, 3)))
        h = layers.max_pool(jnp.concatenate(streams, axis=-1), (2, 2), (2, 2))
        h = h.reshape(h.shape[0], -1)
        h = nn.relu(
            nn.Dense(self.hidden, dtype=self.dtype, kernel_init=KERAS_KERNEL_INIT, name="dense")(h)
        )
        out = nn.Dense(1, dtype=self.dtype, kernel_init=KERAS_KERNEL_INIT, name="score")(h)
        return out[:, 0].astype(jnp.float32)


def tiny() -> SOFTNet:
    """The tiny variant for tests: 1, 1, 2 filters and 16 hidden units."""
    return SOFTNet(filters=(1, 1, 2), hidden=16)
