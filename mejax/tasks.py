"""Tasks: what is predicted from a batch and how it is scored.

``AUOneVsRest`` is the AU-detection task of STAP (Li, Huang, Zhao, arXiv:1907.05023, Sec. IV-A):
one independent binary model per AU, each with two softmax logits. The K models are stacked on a
leading axis of every parameter and optimizer-state leaf; the train step maps the single-model
step over that axis (see ``train.py``), which is the same arithmetic as K separate runs.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from mejax import losses
from mejax.datasets import aus as au_vocab


@dataclasses.dataclass(frozen=True)
class AUOneVsRest:
    """One binary detector per AU.

    Attributes:
      aus: AU numbers detected, in order (e.g. ``(1, 2, 4, 7, 12, 14, 17)``).
      loss: ``softmax_ce`` (STAP, I3D) or ``focal`` (STAPF, I3DF).
      loss_kwargs: extra arguments of the loss (``alpha``, ``gamma`` of the focal loss).
    """

    aus: tuple[int, ...]
    loss: str = "focal"
    loss_kwargs: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        unknown = [au for au in self.aus if au not in au_vocab.AU_INDEX]
        if unknown:
            raise ValueError(f"task.aus {unknown} not in the AU vocabulary {au_vocab.AU_VOCAB}")
        if self.loss not in losses.LOSSES:
            raise ValueError(f"task.loss {self.loss!r} not in {tuple(losses.LOSSES)}")

    @property
    def num_models(self) -> int:
        return len(self.aus)

    @property
    def names(self) -> list[str]:
        return [f"AU{au}" for au in self.aus]

    def labels(self, multi_hot: np.ndarray) -> np.ndarray:
        """(N, K) int32 labels of the task's AUs from (N, len(AU_VOCAB)) multi-hots."""
        columns = [au_vocab.AU_INDEX[au] for au in self.aus]
        return np.asarray(multi_hot)[:, columns].astype(np.int32)

    def model_loss(self, logits: jnp.ndarray, labels: jnp.ndarray) -> jnp.ndarray:
        """Mean loss of one binary model over its batch: logits (B, 2), labels (B,)."""
        return jnp.mean(losses.LOSSES[self.loss](logits, labels, **self.loss_kwargs))

    @staticmethod
    def predictions(logits: jnp.ndarray) -> jnp.ndarray:
        """0/1 decisions (argmax of the two logits), any leading shape."""
        return jnp.argmax(logits, axis=-1).astype(jnp.int32)

    @staticmethod
    def scores(logits: jnp.ndarray) -> jnp.ndarray:
        """Probability that the AU is present (softmax of the two logits)."""
        return jnp.exp(logits[..., 1] - jnp.logaddexp(logits[..., 0], logits[..., 1]))
