"""The micro-attention network: a pre-activation ResNet-10 with a micro-attention unit per stage.

Wang, Peng, Bi, Chen, "Micro-Attention for Micro-Expression Recognition" (Neurocomputing 2020),
Sec. 3 (the network and its micro-attention unit) and Sec. 4.2 (staged transfer learning), as the
authors' public ``train_test.prototxt`` (CodeShareBot/Micro-Attention-for-Micro-Expression)
defines it on top of CVGJ's ImageNet pre-activation ResNet-10 (cvjena/cnn-models,
``ResNet_preact/ResNet10_cvgj``). Every module is named after its Caffe layer, so the CVGJ
caffemodel converts by name (:mod:`mejax.weights.caffe`). The stage names keep the published
channel numbers (``layer_64_1`` .. ``layer_512_1``) at every ``width``.

Architecture (C = 64, 128, 256, 512; "BN" = Caffe's BatchNorm + Scale, one Flax BatchNorm with
scale and bias):

* input: greyscale (B, H, W, 1) at 224^2 (``is_color: false``), pixel values as Caffe's
  ImageData layer reads them (0..255, no mean subtracted: ``data_bn`` normalises them); any
  number of channels is accepted (3 for CVGJ's own RGB -- BGR in Caffe -- weights);
* stem: ``data_bn`` -> ``conv1`` 7x7/2, pad 3, **with bias** -> ``conv1_bn`` -> ReLU -> 3x3/2
  max-pool in Caffe's ceil mode, no padding (112 -> 56);
* stage 64 (the stem's BN-ReLU is its pre-activation): a1 = ReLU(BN(conv3(x))),
  r = conv3(a1), S = r + x;
* stages 128/256/512 (pre-activation): p = ReLU(BN(x)), a1 = ReLU(BN(conv3/2(p))),
  r = conv3(a1), e = ``conv_expand`` 1x1/2 on p (no BN), S = r + e;
* micro-attention unit in every stage (``mask_Concat_C``): the concatenation
  [x (stage 64) or e, a1, r] (3C) -> 1x1 conv 3C -> C (learned, MSRA init, no bias) -> 1x1 conv
  C -> 1 with constant weights 1/C and ``lr_mult: 0`` (a *fixed channel mean*, implemented
  here as ``jnp.mean``, so it has no parameter) -> sigmoid = M (B, H, W, 1), tiled over the
  channels; output O = S + M * S (Eltwise PROD, then SUM);
* head: ``last_bn`` -> ReLU -> global average pool -> ``fc`` 512 -> classes (Caffe's
  ``xavier`` filler, bias 0.2).

``attention=False`` is the paper's "ResNet" row (Tables 2-4, 6): the same backbone with O = S.

Corrections to DESIGN.md, from the prototxt: the unit's first 1x1 conv maps the 3C concatenation
to C (not C to C); the C -> 1 conv is the fixed mean, not learned; the shortcut term in stages
128-512 is ``conv_expand`` (not an identity); a1 is taken after the BN-ReLU (Caffe's in-place
BN/Scale/ReLU on ``layer_C_1_conv1`` rewrite the blob the concatenation reads).

Documented choices and facts:

* **Max-pool.** Caffe's pooling rounds the output size up (ceil mode): windows start at 0, 2,
  4, ... and the last one is clipped at the border. In Flax that is padding (0, 1) with -inf on
  the high side (for kernel 3, stride 2 the output sizes agree for every input size). It
  differs from torchvision's pad 1 on both sides (:mod:`mejax.models.resnet`), whose windows
  start at -1, 1, 3, ...: both give 56^2 at 224^2 input, but the windows are shifted by one
  pixel.
* **BatchNorm.** eps 1e-5: the prototxts set no ``batch_norm_param``, so Caffe's default
  ``eps = 3 [default = 1e-5]`` of ``BatchNormParameter`` (caffe.proto) applies. The running
  average decay is ``bn_momentum`` (default 0.9, PyTorch's convention elsewhere in mejax);
  Caffe's default ``moving_average_fraction`` is 0.999 (and Caffe keeps an unbiased running
  variance with a normalising factor; :mod:`mejax.weights.caffe` divides it out).
* **Initialisation.** Caffe's ``msra`` filler is an untruncated normal with std sqrt(2 / n),
  n = fan-in (Cin x k x k) unless ``variance_norm`` says otherwise: ``conv1`` uses FAN_OUT (Cout
  x 7 x 7), every other convolution fan-in. Caffe's ``xavier`` filler is *not* Glorot's: a
  uniform in +-sqrt(3 / fan_in) (its ``std: 0.02`` is ignored). Biases: ``conv1`` 0, ``fc`` 0.2.
  Scale layers start at gamma 1, beta 0 (Flax's BatchNorm default).
* **Learning rates** (not the model's business): the prototxt gives biases and Scale betas
  ``lr_mult: 2``, and the BN statistics ``lr_mult: 0`` (they are running averages here).

Parameters (``jax.eval_shape``, 5 classes, greyscale, width 1): 4,900,359 without attention and
5,944,839 with it (+1,044,480 = 3 (64^2 + 128^2 + 256^2 + 512^2)), i.e. Table 3's 4.9 M and
5.9 M (4.900 M + 1.044 M, counted from the prototxt). That count is Flax's ``params``: every
learned blob of Caffe (convolution kernels, ``conv1``'s bias, Scale gamma/beta, ``fc``); it
leaves out BatchNorm's running means and variances (``batch_stats``, 3,970 values; Caffe's
solver does not learn them, lr_mult 0) and the fixed-mean convolutions (960 constant weights,
lr_mult 0). Counting the BatchNorm statistics too would give 4.904 M, leaving out the Scale
parameters 4.896 M -- both 4.9 M at the table's rounding, but only the ``params`` count gives
4.900 M.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from mejax.models import layers
from mejax.models.batch_norm import BatchNorm

# The stage widths of the published network; they also label the stages' Caffe names.
STAGES = (64, 128, 256, 512)
BN_EPSILON = 1e-5  # Caffe's BatchNormParameter default; the prototxts set none
FC_BIAS = 0.2

# Caffe's fillers (include/caffe/filler.hpp): msra = N(0, 2 / n) untruncated; xavier = U(+-sqrt(3
# / fan_in)). Flax kernels (kh, kw, Cin, Cout) give the same fan-in/fan-out as Caffe's blobs.
MSRA_FAN_IN = jax.nn.initializers.variance_scaling(2.0, "fan_in", "normal")
MSRA_FAN_OUT = jax.nn.initializers.variance_scaling(2.0, "fan_out", "normal")
CAFFE_XAVIER = jax.nn.initializers.variance_scaling(1.0, "fan_in", "uniform")


def stage_channels(width: float) -> tuple[int, ...]:
    """Channels of the four stages at channel multiplier ``width`` (64, 128, 256, 512 at 1)."""
    return tuple(max(1, round(c * width)) for c in STAGES)


def caffe_max_pool(x: jnp.ndarray) -> jnp.ndarray:
    """Caffe's 3x3 stride-2 max-pool without padding, output size rounded up (ceil mode).

    The last window, which Caffe clips at the border, is padded with -inf on the high side:
    output ceil((H - 3) / 2) + 1 = floor((H + 1 - 3) / 2) + 1 for every H.
    """
    return layers.max_pool(x, (3, 3), (2, 2), padding=((0, 1), (0, 1)))


class MicroAttentionUnit(nn.Module):
    """One micro-attention unit (Wang et al., Sec. 3; ``mask_Concat_C`` in the prototxt).

    Attributes:
      features: C, the stage's channels.
      dtype: computation dtype of the convolution (the mask is computed in float32).
    """

    features: int
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, parts: Sequence[jnp.ndarray], summed: jnp.ndarray) -> jnp.ndarray:
        """O = S + M * S with M = sigmoid(mean_c(conv1x1([parts]))).

        Args:
          parts: (x or e, a1, r), each (B, H, W, C): the stage's input (stage 64) or its
            ``conv_expand`` shortcut, the first convolution's activation and the residual.
          summed: S (B, H, W, C), the stage's residual sum.

        Returns:
          O (B, H, W, C). The attention map M (B, H, W, 1) is sown into ``intermediates``
          as ``attention``.
        """
        h = jnp.concatenate(parts, axis=-1)
        h = nn.Conv(
            self.features,
            (1, 1),
            use_bias=False,
            dtype=self.dtype,
            kernel_init=MSRA_FAN_IN,
            conv_general_dilated=layers.conv_general_dilated,
            name="conv",
        )(h)
        # Caffe's C -> 1 convolution with constant weights 1/C and lr_mult 0: a fixed mean.
        mask = nn.sigmoid(jnp.mean(h.astype(jnp.float32), axis=-1, keepdims=True))
        self.sow("intermediates", "attention", mask)
        return summed + mask.astype(summed.dtype) * summed


class MicroAttentionNet(nn.Module):
    """Pre-activation ResNet-10 (CVGJ) + micro-attention units + classifier.

    Attributes:
      num_outputs: classes (5 in the paper's CASME II/SAMM experiments, 3 on SMIC).
      attention: a micro-attention unit in every stage (False: the paper's "ResNet" row).
      width: channel multiplier (1.0 = the published network; small widths for tests).
      dtype: computation dtype (parameters stay float32; the head runs in float32).
      bn_momentum: decay of the BatchNorm running averages (Caffe's default would be 0.999).
    """

    num_outputs: int
    attention: bool = True
    width: float = 1.0
    dtype: jnp.dtype = jnp.float32
    bn_momentum: float = 0.9

    def _bn(self, train: bool, name: str) -> BatchNorm:
        return BatchNorm(
            use_running_average=not train,
            momentum=self.bn_momentum,
            epsilon=BN_EPSILON,
            dtype=self.dtype,
            name=name,
        )

    def _conv(self, features, kernel, stride, name, **kwargs) -> nn.Conv:
        pad = kernel // 2
        return nn.Conv(
            features,
            (kernel, kernel),
            (stride, stride),
            padding=((pad, pad), (pad, pad)),  # Caffe pads symmetrically (3x3: pad 1; 1x1: 0)
            use_bias=kwargs.pop("use_bias", False),
            dtype=self.dtype,
            kernel_init=kwargs.pop("kernel_init", MSRA_FAN_IN),
            conv_general_dilated=layers.conv_general_dilated,
            name=name,
            **kwargs,
        )

    @nn.compact
    def __call__(self, x, *, train: bool) -> dict[str, jnp.ndarray]:
        """Runs the network.

        Args:
          x: (B, H, W, C) images, greyscale (C = 1) in the paper, with pixel values in Caffe's
            0..255 range (``data_bn`` normalises them).
          train: BatchNorm uses batch statistics and updates its running averages.

        Returns:
          ``{"logits": (B, num_outputs)}``. With ``attention``, each unit sows its map M
          (B, h, w, 1) into ``intermediates`` (``mask_Concat_C/attention``).
        """
        channels = stage_channels(self.width)
        x = jnp.asarray(x, jnp.float32)
        x = self._bn(train, "data_bn")(x)
        x = self._conv(
            channels[0], 7, 2, "conv1", use_bias=True, kernel_init=MSRA_FAN_OUT
        )(x)  # fmt: skip
        x = nn.relu(self._bn(train, "conv1_bn")(x))
        x = caffe_max_pool(x)
        for label, features in zip(STAGES, channels, strict=True):
            prefix = f"layer_{label}_1_"
            if label == STAGES[0]:
                a1 = self._conv(features, 3, 1, prefix + "conv1")(x)
                a1 = nn.relu(self._bn(train, prefix + "bn2")(a1))
                r = self._conv(features, 3, 1, prefix + "conv2")(a1)
                shortcut = x
            else:
                p = nn.relu(self._bn(train, prefix + "bn1")(x))
                a1 = self._conv(features, 3, 2, prefix + "conv1")(p)
                a1 = nn.relu(self._bn(train, prefix + "bn2")(a1))
                r = self._conv(features, 3, 1, prefix + "conv2")(a1)
                shortcut = self._conv(features, 1, 2, prefix + "conv_expand")(p)
            summed = r + shortcut
            if self.attention:
                unit = MicroAttentionUnit(features, self.dtype, name=f"mask_Concat_{label}")
                x = unit((shortcut, a1, r), summed)
            else:
                x = summed
        x = nn.relu(self._bn(train, "last_bn")(x))
        pooled = jnp.mean(x.astype(jnp.float32), axis=(1, 2))
        logits = nn.Dense(
            self.num_outputs,
            kernel_init=CAFFE_XAVIER,
            bias_init=nn.initializers.constant(FC_BIAS),
            name="fc",
        )(pooled)
        return {"logits": logits}
