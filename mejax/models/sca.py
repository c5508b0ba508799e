"""SCA: Res3D with second-order spatial and channel attention, one sigmoid output per AU.

Li, Huang, Zhao, "Micro-expression action unit detection with spatial and channel attention"
(Neurocomputing, 2021). A 3D ResNet (``res3d.py``) encodes the clip; its last feature map
X (T x H x W positions, C channels; 1 x 4 x 4 x 512 for Res3D-18 on 10 x 112^2) is re-weighted
by attention computed from second-order (covariance) statistics, pooled, and classified by one
sigmoid output per AU (the multi-task task, ``tasks.AUMultiTask``).

* Channel attention (Sec. 3.2.1, eq. 1), which the paper builds "following [35]", GSoP (Gao,
  Xie, Wang, Li, "Global Second-order Pooling Convolutional Networks", CVPR 2019), two readings
  (``channel_attention``):

  - ``gsop`` (default): GSoP's channel attention as its authors' public code computes it
    (``chan_att`` of their ``Bottleneck``): a 1x1x1 conv reduces the C channels to c'
    (``channel_reduction``, GSoP's 128; at most C) + BN + ReLU; the c' x c' covariance of the
    channels over the N = T*H*W positions, ``S = X^T (I - 1/N 1 1^T) X / N``; BatchNorm over its
    rows; a row-wise convolution, c' groups, each a kernel over one whole row writing
    ``channel_outputs_per_row`` (4) values (PyTorch: ``Conv2d(c', 4c', (c', 1), groups=c')``);
    a second 1x1 conv from 4c' back to C; a sigmoid gives one weight per channel. GSoP's code
    has no non-linearity between the two convolutions (its spatial branch has a ReLU there), nor
    do we. Its leading ReLU is left out: ``layer4`` ends in a ReLU already.
  - ``row_groups``: the reading mejax had before: an optional reduction (``channel_reduction``,
    None: none), the covariance and its BatchNorm as above, then a row-wise convolution reading
    ``channel_rows`` rows per group, each kernel spanning k whole rows and writing k outputs
    (c' rows give c' outputs; ``channel_rows=4`` read the paper's k = 4 as rows,
    ``channel_rows=1`` is the authors' re-implementation: kernel (c', 1), groups c', one output
    per row); with a reduction, ReLU and a 1x1 conv map the c' outputs back to C.

  The paper normalises its covariances by 1/(d-1) and 1/(c-1) and names no BatchNorm; we
  follow GSoP's code (1/N, BatchNorm over the rows), which differs from 1/(N-1) by a constant
  factor that the row BatchNorm removes in training.
* Spatial attention (Sec. 3.2.2, eq. 2): the N x N covariance of the positions over the
  channels, ``S = X (I - 1/C 1 1^T) X^T / C``; BatchNorm over its rows; a row-wise group
  convolution writing ``spatial_outputs_per_row`` (4) outputs per row; ReLU; a 1x1 conv to N;
  a sigmoid gives one weight per position (the authors' re-implementation: 16 x 16 -> group conv
  16 -> 64 -> ReLU -> 1x1 conv -> sigmoid -> a 4 x 4 map).
* Fusion (Sec. 3.2.3, eq. 3): ``learned`` -- ``w_c (X * A_c) + w_s (X * A_s)`` with learned
  scalars w_c, w_s (initialised to 1/2 each, so the initial fusion is the average; the paper
  does not give their initial values); the ablation's ``max``, ``avg`` and ``concat`` (channels
  of both, 2C) (Tables 4-6).

Covariances and their BatchNorm run in float32 (at least) whatever the network's dtype. The
head is global average pooling, dropout (0.5 in the paper), and ``fc`` to one logit per AU;
the re-weighted map and the attention maps are sown into ``intermediates`` for
class-activation maps (``mejax.cam``, the paper's Fig. 6).
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp

from mejax.models.batch_norm import BatchNorm
from mejax.models.res3d import Res3D

ATTENTIONS = ("none", "sa", "ca", "sca")
FUSIONS = ("learned", "max", "avg", "concat")


def _at_least_float32(x: jnp.ndarray) -> jnp.ndarray:
    return x.astype(jnp.promote_types(x.dtype, jnp.float32))


def channel_covariance(x: jnp.ndarray) -> jnp.ndarray:
    """Eq. 1: (B, C, C) covariance of the channels of (B, N, C) features over the N positions."""
    x = _at_least_float32(x)
    centred = x - jnp.mean(x, axis=1, keepdims=True)
    return jnp.einsum("bnc,bnd->bcd", centred, centred) / x.shape[1]


def position_covariance(x: jnp.ndarray) -> jnp.ndarray:
    """Eq. 2: (B, N, N) covariance of the positions of (B, N, C) features over the C channels."""
    x = _at_least_float32(x)
    centred = x - jnp.mean(x, axis=2, keepdims=True)
    return jnp.einsum("bnc,bmc->bnm", centred, centred) / x.shape[2]


class RowWiseConv(nn.Module):
    """Group convolution over the rows of a (B, n, n) matrix.

    The n rows are taken ``rows_per_group`` at a time; each group's kernel spans its rows
    entirely and writes ``outputs_per_group`` values: (B, n // rows_per_group *
    outputs_per_group). ``rows_per_group=1`` is a Conv2d with kernel (n, 1) and groups n on the
    matrix seen as n channels of an n x 1 image.
    """

    rows_per_group: int = 1
    outputs_per_group: int = 1

    @nn.compact
    def __call__(self, matrix: jnp.ndarray) -> jnp.ndarray:
        _, n, m = matrix.shape
        if n % self.rows_per_group:
            raise ValueError(
                f"row-wise convolution: {n} rows are not a multiple of {self.rows_per_group}"
            )
        groups = n // self.rows_per_group
        fan_in = self.rows_per_group * m
        kernel = self.param(
            "kernel",
            nn.initializers.lecun_normal(in_axis=1, out_axis=2, batch_axis=(0,)),
            (groups, fan_in, self.outputs_per_group),
        )
        bias = self.param("bias", nn.initializers.zeros, (groups, self.outputs_per_group))
        grouped = matrix.reshape(matrix.shape[0], groups, fan_in)
        out = jnp.einsum("bgi,gio->bgo", grouped, kernel) + bias
        return out.reshape(matrix.shape[0], groups * self.outputs_per_group)


def _row_batch_norm(train: bool, momentum: float, name: str) -> nn.BatchNorm:
    """BatchNorm of a covariance matrix over its rows (the rows are the channels); it computes
    in the covariance's dtype (float32, or float64 when enabled)."""
    return nn.BatchNorm(use_running_average=not train, momentum=momentum, axis=1, name=name)


CHANNEL_ATTENTIONS = ("gsop", "row_groups")


class ChannelAttention(nn.Module):
    """(B, N, C) features -> (B, C) channel weights in (0, 1) (eq. 1; see the module docstring).

    Attributes:
      mode: ``gsop`` or ``row_groups``.
      reduction: c', the channels the 1x1x1 conv reduces to (capped at C; None: no reduction).
      rows_per_group: rows per group of the ``row_groups`` row-wise convolution.
      outputs_per_row: outputs per row of the ``gsop`` row-wise convolution.
    """

    reduction: int | None = 128
    rows_per_group: int = 4
    bn_momentum: float = 0.9
    mode: str = "gsop"
    outputs_per_row: int = 4

    @nn.compact
    def __call__(self, x, *, train: bool):
        if self.mode not in CHANNEL_ATTENTIONS:
            raise ValueError(f"channel_attention {self.mode!r} not in {CHANNEL_ATTENTIONS}")
        channels = x.shape[-1]
        if self.reduction:
            # GSoP's conv_for_DR has a bias; the BatchNorm after it makes one redundant.
            x = nn.Dense(min(self.reduction, channels), use_bias=False, name="reduce")(x)
            x = BatchNorm(
                use_running_average=not train, momentum=self.bn_momentum, name="reduce_bn"
            )(x)
            x = nn.relu(x)
        cov = _row_batch_norm(train, self.bn_momentum, "cov_bn")(channel_covariance(x))
        if self.mode == "gsop":
            z = RowWiseConv(1, self.outputs_per_row, name="row_conv")(cov)
            return nn.sigmoid(nn.Dense(channels, name="expand")(z))
        rows = min(self.rows_per_group, cov.shape[1])
        z = RowWiseConv(rows, rows, name="row_conv")(cov)
        if z.shape[-1] != channels:
            z = nn.Dense(channels, name="expand")(nn.relu(z))
        return nn.sigmoid(z)


class SpatialAttention(nn.Module):
    """(B, N, C) features -> (B, N) position weights in (0, 1) (eq. 2)."""

    outputs_per_row: int = 4
    bn_momentum: float = 0.9

    @nn.compact
    def __call__(self, x, *, train: bool):
        cov = _row_batch_norm(train, self.bn_momentum, "cov_bn")(position_covariance(x))
        z = nn.relu(RowWiseConv(1, self.outputs_per_row, name="row_conv")(cov))
        return nn.sigmoid(nn.Dense(x.shape[1], name="conv_1x1")(z))


class SecondOrderAttention(nn.Module):
    """Re-weights a (B, T, H, W, C) map by channel and/or spatial attention and fuses them.

    Attributes:
      attention: ``none``, ``sa`` (spatial only), ``ca`` (channel only), ``sca`` (both, fused).
      fusion: ``learned`` (eq. 3), ``max``, ``avg`` or ``concat`` (used by ``sca``).
      channel_reduction: c' of the channel attention (GSoP's 128, capped at the channels;
        None: no reduction).
      channel_rows: rows per group of the ``row_groups`` channel row-wise convolution (4: our
        earlier reading of the paper, 1: the authors' re-implementation).
      spatial_outputs_per_row: outputs per row of the spatial row-wise convolution.
      channel_attention: ``gsop`` (GSoP's channel attention, the default) or ``row_groups``.
      channel_outputs_per_row: outputs per row of the ``gsop`` row-wise convolution (4).
    """

    attention: str = "sca"
    fusion: str = "learned"
    channel_reduction: int | None = 128
    channel_rows: int = 4
    spatial_outputs_per_row: int = 4
    bn_momentum: float = 0.9
    channel_attention: str = "gsop"
    channel_outputs_per_row: int = 4

    @nn.compact
    def __call__(self, features, *, train: bool):
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention {self.attention!r} not in {ATTENTIONS}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion {self.fusion!r} not in {FUSIONS}")
        if self.attention == "none":
            return features
        b, t, h, w, c = features.shape
        flat = features.reshape(b, t * h * w, c)
        outputs = []
        if self.attention in ("ca", "sca"):
            weights = ChannelAttention(
                self.channel_reduction,
                self.channel_rows,
                self.bn_momentum,
                self.channel_attention,
                self.channel_outputs_per_row,
                name="channel",
            )(flat, train=train)
            self.sow("intermediates", "channel_attention", weights)
            outputs.append(features * weights[:, None, None, None, :].astype(features.dtype))
        if self.attention in ("sa", "sca"):
            weights = SpatialAttention(
                self.spatial_outputs_per_row, self.bn_momentum, name="spatial"
            )(flat, train=train)
            weights = weights.reshape(b, t, h, w, 1)
            self.sow("intermediates", "spatial_attention", weights)
            outputs.append(features * weights.astype(features.dtype))
        if len(outputs) == 1:
            return outputs[0]
        by_channel, by_position = outputs
        if self.fusion == "learned":
            scale = self.param("fusion_weights", nn.initializers.constant(0.5), (2,))
            return scale[0] * by_channel + scale[1] * by_position
        if self.fusion == "max":
            return jnp.maximum(by_channel, by_position)
        if self.fusion == "avg":
            return (by_channel + by_position) / 2
        return jnp.concatenate([by_channel, by_position], axis=-1)


class SCAClassifier(nn.Module):
    """Res3D -> second-order attention on ``layer4`` -> average pool -> dropout -> ``fc``.

    Attributes:
      num_outputs: one logit per AU.
      depth, shortcut, width: of the Res3D backbone (SCA: 18/50/101, shortcut A).
      attention, fusion, channel_reduction, channel_rows, spatial_outputs_per_row,
        channel_attention, channel_outputs_per_row: of :class:`SecondOrderAttention`.
      dropout_rate: before ``fc`` (0.5 in the paper).
      dtype: computation dtype of the backbone (covariances stay float32).
      bn_momentum: decay of every BatchNorm's running averages.
    """

    num_outputs: int = 1
    depth: int = 18
    shortcut: str = "A"
    width: float = 1.0
    attention: str = "sca"
    fusion: str = "learned"
    channel_reduction: int | None = 128
    channel_rows: int = 4
    spatial_outputs_per_row: int = 4
    dropout_rate: float = 0.5
    dtype: jnp.dtype = jnp.float32
    bn_momentum: float = 0.9
    channel_attention: str = "gsop"
    channel_outputs_per_row: int = 4

    @nn.compact
    def __call__(self, clips, *, train: bool):
        """(B, num_outputs) logits of clips (B, T, H, W, 3)."""
        backbone = Res3D(
            self.depth,
            self.shortcut,
            self.width,
            conv1_t_stride=1,
            dtype=self.dtype,
            bn_momentum=self.bn_momentum,
            name="Res3D",
        )
        features = backbone(clips, train=train)["layer4"]
        features = SecondOrderAttention(
            self.attention,
            self.fusion,
            self.channel_reduction,
            self.channel_rows,
            self.spatial_outputs_per_row,
            self.bn_momentum,
            self.channel_attention,
            self.channel_outputs_per_row,
            name="attention",
        )(features, train=train)
        features = features.astype(jnp.float32)
        self.sow("intermediates", "features", features)
        pooled = jnp.mean(features, axis=(1, 2, 3))
        pooled = nn.Dropout(self.dropout_rate, deterministic=not train)(pooled)
        return nn.Dense(self.num_outputs, name="fc")(pooled)
