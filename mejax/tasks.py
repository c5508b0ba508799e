"""Tasks: what is predicted from a batch and how it is scored.

The training loop (``train.py``) trains M models stacked on a leading axis of every parameter
and optimizer-state leaf. A task says how many (``num_models``), how the (B, K) AU labels of a
batch are dealt to them (``stack_labels``), each model's loss, and how the (M, N, ...) logits
of N clips become (N, K) decisions and scores.

* ``AUOneVsRest`` is the AU-detection task of STAP (Li, Huang, Zhao, arXiv:1907.05023,
  Sec. IV-A): one independent binary model per AU (M = K), each with two softmax logits; the
  train step maps the single-model step over the stacked axis, the same arithmetic as K
  separate runs.
* ``AUMultiTask`` is SCA's (Li, Huang, Zhao, Neurocomputing 2021, Sec. 3.3, eq. 4-5): one
  network (M = 1) with one sigmoid output per AU, trained with the binary cross-entropy summed
  over the AUs; a clip has AU k when its k-th probability exceeds 0.5.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mejax import losses
from mejax.datasets import aus as au_vocab


@dataclasses.dataclass(frozen=True)
class AUTask:
    """What both AU tasks share.

    Attributes:
      aus: AU numbers detected, in order (e.g. ``(1, 2, 4, 7, 12, 14, 17)``).
      loss: name of the loss (see the subclasses).
      loss_kwargs: extra arguments of the loss (``alpha``, ``gamma`` of the focal loss).
    """

    aus: tuple[int, ...]
    loss: str = "focal"
    loss_kwargs: dict = dataclasses.field(default_factory=dict)
    LOSSES = ()

    def __post_init__(self):
        unknown = [au for au in self.aus if au not in au_vocab.AU_INDEX]
        if unknown:
            raise ValueError(f"task.aus {unknown} not in the AU vocabulary {au_vocab.AU_VOCAB}")
        if self.loss not in self.LOSSES:
            raise ValueError(
                f"task.loss {self.loss!r} not in {self.LOSSES} ({type(self).__name__})"
            )

    @property
    def names(self) -> list[str]:
        return [f"AU{au}" for au in self.aus]

    def labels(self, multi_hot: np.ndarray) -> np.ndarray:
        """(N, K) int32 labels of the task's AUs from (N, len(AU_VOCAB)) multi-hots."""
        columns = [au_vocab.AU_INDEX[au] for au in self.aus]
        return np.asarray(multi_hot)[:, columns].astype(np.int32)


@dataclasses.dataclass(frozen=True)
class AUOneVsRest(AUTask):
    """One binary detector per AU; ``loss``: ``softmax_ce`` (STAP, I3D) or ``focal`` (STAPF,
    I3DF)."""

    LOSSES = tuple(losses.LOSSES)

    @property
    def num_models(self) -> int:
        return len(self.aus)

    @property
    def model_names(self) -> list[str]:
        return self.names

    @property
    def model_aus(self) -> tuple[int, ...]:
        """The AU each model detects."""
        return self.aus

    def model_loss(self, logits: jnp.ndarray, labels: jnp.ndarray) -> jnp.ndarray:
        """Mean loss of one binary model over its batch: logits (B, 2), labels (B,)."""
        return jnp.mean(losses.LOSSES[self.loss](logits, labels, **self.loss_kwargs))

    @property
    def outputs_per_model(self) -> int:
        return 2

    @staticmethod
    def stack_labels(labels: jnp.ndarray) -> jnp.ndarray:
        """(B, K) labels -> (K, B): model k learns AU k."""
        return labels.T

    @staticmethod
    def predictions(logits: jnp.ndarray) -> np.ndarray:
        """(N, K) 0/1 decisions (argmax of each model's two logits) of (K, N, 2) logits."""
        return np.asarray(jnp.argmax(logits, axis=-1).astype(jnp.int32)).T

    @staticmethod
    def scores(logits: jnp.ndarray) -> np.ndarray:
        """(N, K) probabilities that each AU is present (softmax of the two logits)."""
        present = jnp.exp(logits[..., 1] - jnp.logaddexp(logits[..., 0], logits[..., 1]))
        return np.asarray(present).T

    @staticmethod
    def model_scores(f1: np.ndarray) -> np.ndarray:
        """(M,) model-selection scores from (K,) validation F1: each model its own AU's."""
        return np.asarray(f1)

    def per_au(self, per_model: np.ndarray) -> np.ndarray:
        """(K,) values of the AUs from (M,) values of the models."""
        return np.asarray(per_model)


@dataclasses.dataclass(frozen=True)
class AUMultiTask(AUTask):
    """One network with one sigmoid output per AU (SCA, eq. 4-5); ``loss``: ``sigmoid_bce``."""

    loss: str = "sigmoid_bce"
    LOSSES = ("sigmoid_bce",)
    num_models = 1
    model_names = ("all AUs",)
    model_aus = (None,)  # the one model detects every AU

    @property
    def outputs_per_model(self) -> int:
        return len(self.aus)

    @staticmethod
    def stack_labels(labels: jnp.ndarray) -> jnp.ndarray:
        """(B, K) labels -> (1, B, K): the one model learns every AU."""
        return labels[None]

    @staticmethod
    def model_loss(logits: jnp.ndarray, labels: jnp.ndarray) -> jnp.ndarray:
        """Eq. 4-5: per-AU binary cross-entropy summed over AUs, mean over the batch."""
        per_au = optax.sigmoid_binary_cross_entropy(logits, labels.astype(logits.dtype))
        return jnp.mean(jnp.sum(per_au, axis=-1))

    @staticmethod
    def predictions(logits: jnp.ndarray) -> np.ndarray:
        """(N, K) 0/1 decisions (probability > 0.5) of (1, N, K) logits."""
        return np.asarray(logits[0] > 0).astype(np.int32)

    @staticmethod
    def scores(logits: jnp.ndarray) -> np.ndarray:
        """(N, K) probabilities of (1, N, K) logits."""
        return np.asarray(jax.nn.sigmoid(logits[0]))

    @staticmethod
    def model_scores(f1: np.ndarray) -> np.ndarray:
        """(1,) selection score: the average validation F1 over AUs."""
        return np.asarray([np.mean(f1)])

    def per_au(self, per_model: np.ndarray) -> np.ndarray:
        """(K,) values of the AUs from the one model's value."""
        return np.repeat(np.asarray(per_model), len(self.aus))


TASKS = {"one_vs_rest": AUOneVsRest, "multi_task": AUMultiTask}


def build(config):
    """Task of a config's ``task`` block (``name`` defaults to ``one_vs_rest``)."""
    name = config.get("name", "one_vs_rest")
    if name not in TASKS:
        raise ValueError(f"task.name {name!r} not in {tuple(TASKS)}")
    return TASKS[name](tuple(config.aus), config.loss, dict(config.get("loss_kwargs", {})))
