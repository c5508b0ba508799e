"""Spatio-temporal adaptive pooling (STAP) and the I3D average-pool head.

Li, Huang, Zhao, "Micro-expression Action Unit Detection with Spatio-temporal Adaptive Pooling"
(arXiv:1907.05023), Sec. III-B, Fig. 2. On the last I3D feature map (T', H', W', C):

1. spatial ROI candidates: average pooling with a window of two rows by the full width
   (1 x 2 x W'), stride 1, so every pair of adjacent rows is one horizontal facial band;
2. spatial adaptive pooling: max over the H'-1 candidates, so each channel keeps the band where
   its AU responds most (the AU's location is learned, not fixed);
3. a 1x1x1 convolution to 2 logits (AU absent / present) per time step;
4. temporal adaptive pooling (eq. 1): a softmax over time steps weights the per-step logits.

Eq. 1 weights the time steps by a softmax over time of p̂(t), the step's 2-class output. Read
literally, that is one softmax per class: class k's steps weighted by softmax_t p̂_k(t). Two
readings are offered (``temporal_pooling``; ``avg`` and ``max`` are for ablations):

* ``softmax`` (default): one set of weights, softmax over time of the positive-class margin
  ``z_t[1] - z_t[0]`` (the log-odds of p̂(t)), applied to both logits.
* ``softmax_per_class``: eq. 1 with one temporal softmax per class, of the class probabilities
  p̂_k(t) = softmax_k(z_t)_k; each class's logit is pooled with its own weights,
  ``sum_t softmax_t(p̂_k(t)) z_t[k]`` (logits are pooled, not probabilities, because the losses
  take logits; the paper does not say which it pools).

Why the margin is the default: (1) one set of weights keeps both pooled logits from the same
time steps, those where the AU's evidence is strongest, which is what the text says the pooling
is for ("pool discriminative information"); per-class weights pool the "absent" logit from the
steps that look most absent, so a clip whose expression fills two of ten steps is judged on its
apex for one class and on its neutral frames for the other. (2) The probabilities lie in [0, 1],
so their per-class softmax weights differ by at most a factor e between steps: at 10 steps the
pooling stays close to the average and the "adaptive" part all but vanishes, whereas the margin
is unbounded. (3) The margin's weights, like the classifier's decision, are unchanged when both
logits shift by a constant. The per-class reading is there to measure the difference, not as a
claim about what the authors ran.

Dropout (0.5 in the paper) precedes the 1x1x1 convolution as in I3D.

``I3DHead`` is the head of the I3D baseline (the paper's "I3D" / "I3DF" rows): average pooling
over a (2, H', W') window, stride 1, VALID as in DeepMind's I3D, dropout, 1x1x1 convolution, then
the mean over the remaining time steps. Both heads take their window sizes from the feature map
they get (7x7 at 224^2 input, smaller at lower resolution).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from mejax.models.i3d import I3D

TEMPORAL_POOLINGS = ("softmax", "softmax_per_class", "avg", "max")


def roi_candidates(features: jnp.ndarray, rows: int = 2) -> jnp.ndarray:
    """Average over every ``rows`` adjacent feature-map rows and the whole width (stride 1).

    Args:
      features: (B, T, H, W, C).
      rows: ROI height in feature-map rows (2 in the paper); clipped to H.

    Returns:
      (B, T, H - rows + 1, C) band averages.
    """
    rows = min(rows, features.shape[2])
    window = (1, rows, features.shape[3])
    pooled = nn.avg_pool(features, window, strides=(1, 1, 1), padding="VALID")
    return pooled[:, :, :, 0, :]


def temporal_weights(logits: jnp.ndarray, method: str = "softmax") -> jnp.ndarray:
    """The weights over time of :func:`temporal_pool`, summing to 1 over T.

    Args:
      logits: (B, T, 2) per-step logits (absent, present).
      method: as :func:`temporal_pool`.

    Returns:
      (B, T, 2) weights, one set per class, for ``softmax_per_class``; (B, T) weights shared by
      both classes otherwise.
    """
    if method == "softmax_per_class":
        probabilities = jax.nn.softmax(logits, axis=-1)  # p̂(t), (B, T, 2)
        return jax.nn.softmax(probabilities, axis=1)  # over time, one set per class
    margin = logits[..., 1] - logits[..., 0]
    if method == "softmax":
        return jax.nn.softmax(margin, axis=1)
    if method == "avg":
        return jnp.full(margin.shape, 1.0 / margin.shape[1], margin.dtype)
    if method == "max":
        return jax.nn.one_hot(jnp.argmax(margin, axis=1), margin.shape[1], dtype=margin.dtype)
    raise ValueError(f"temporal pooling {method!r} not in {TEMPORAL_POOLINGS}")


def temporal_pool(logits: jnp.ndarray, method: str = "softmax") -> jnp.ndarray:
    """Pools per-time-step logits (B, T, 2) into clip logits (B, 2).

    Args:
      logits: (B, T, 2) per-step logits (absent, present).
      method: ``softmax`` (eq. 1: weights softmax_t of the present-vs-absent margin),
        ``softmax_per_class`` (eq. 1 read per class: class k's logits weighted by softmax_t of
        its probability p̂_k(t)), ``avg`` or ``max`` (of the margin's time step).

    Returns:
      (B, 2) clip logits.
    """
    weights = temporal_weights(logits, method)
    if weights.ndim == 3:  # one set of weights per class
        return jnp.sum(weights * logits, axis=1)
    return jnp.einsum("bt,btk->bk", weights, logits)


class STAPHead(nn.Module):
    """The STAP head: ROI band averages -> max over bands -> dropout -> 1x1x1 conv -> eq. 1."""

    num_outputs: int = 2
    roi_rows: int = 2
    temporal_pooling: str = "softmax"
    dropout_rate: float = 0.5

    @nn.compact
    def __call__(self, features, *, train: bool):
        bands = roi_candidates(features.astype(jnp.float32), self.roi_rows)  # (B, T, R, C)
        x = jnp.max(bands, axis=2)  # (B, T, C)
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
        step_logits = nn.Dense(self.num_outputs, name="Conv3d_0c_1x1")(x)
        return temporal_pool(step_logits, self.temporal_pooling)


class I3DHead(nn.Module):
    """The I3D logits head: (2, H', W') average pool (VALID), dropout, 1x1x1 conv, time mean."""

    num_outputs: int = 2
    dropout_rate: float = 0.5

    @nn.compact
    def __call__(self, features, *, train: bool):
        _, t, h, w, _ = features.shape
        x = nn.avg_pool(features.astype(jnp.float32), (min(2, t), h, w), padding="VALID")
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
        x = nn.Dense(self.num_outputs, name="Conv3d_0c_1x1")(x)
        return jnp.mean(x, axis=(1, 2, 3))


HEADS = {"stap": STAPHead, "i3d": I3DHead}


class I3DClassifier(nn.Module):
    """I3D backbone with the STAP head (STAP/STAPF) or the average-pool head (I3D/I3DF).

    Attributes:
      head: ``stap`` or ``i3d``.
      num_outputs: logits per clip (2 for one binary AU model).
      width: I3D channel multiplier (1.0 = published network).
      final_endpoint: I3D endpoint the head reads (``Mixed_5c`` in the paper).
      temporal_pooling: STAP temporal pooling (see :func:`temporal_pool`).
      dropout_rate: dropout before the 1x1x1 convolution.
      dtype: computation dtype of the backbone.
      bn_momentum: decay of the backbone's BatchNorm running averages.
    """

    head: str = "stap"
    num_outputs: int = 2
    width: float = 1.0
    final_endpoint: str = "Mixed_5c"
    temporal_pooling: str = "softmax"
    dropout_rate: float = 0.5
    dtype: jnp.dtype = jnp.float32
    bn_momentum: float = 0.999

    @nn.compact
    def __call__(self, clips, *, train: bool):
        """Clip logits (B, num_outputs) of clips (B, T, H, W, 3) in [-1, 1]."""
        if self.head not in HEADS:
            raise ValueError(f"head {self.head!r} not in {tuple(HEADS)}")

        backbone = I3D(self.final_endpoint, self.width, self.dtype, self.bn_momentum, name="I3D")
        features = backbone(clips, train=train)
        kwargs = {"temporal_pooling": self.temporal_pooling} if self.head == "stap" else {}
        head = HEADS[self.head](
            self.num_outputs, dropout_rate=self.dropout_rate, name="Logits", **kwargs
        )
        return head(features[self.final_endpoint], train=train)
