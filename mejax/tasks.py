"""Tasks: what a run predicts, how it learns it, how it selects and how it reports.

A task owns everything specific to it, so that the training loop (``train.py``), the
evaluation (``evaluate.py``) and ``main.py`` know no AU and no class (the pattern of Scenic's
``base_model``, whose model class owns its loss and metrics, and of big_vision's evaluators):

* which clips take part and their targets (:meth:`Task.targets`, -1 rows are left out);
* how many models are stacked on the leading axis of every parameter (``num_models``) and how
  a batch's (B, ...) targets are dealt to them (:meth:`Task.stack_targets`);
* each model's loss on a batch dict (``inputs``, ``targets``, ``domain``) and a model output
  that is an array or a dict (``logits``, ``aux_logits``, ``domain_logits``, ...), with
  per-step values (learning rate, gradient-reversal lambda, class weights) in ``hparams``;
* each model's validation score (model selection), the test record of a round, the summary
  written to ``results.json``, the markdown table and the console headline.

The AU tasks:

* :class:`AUOneVsRest` -- STAP (Li, Huang, Zhao, arXiv:1907.05023, Sec. IV-A): one independent
  binary model per AU (M = K), two softmax logits each, trained together by mapping the
  single-model step over the stacked axis (the arithmetic of K separate runs).
* :class:`AUMultiTask` -- SCA (Li, Huang, Zhao, Neurocomputing 2021, Sec. 3.3, eq. 4-5): one
  network (M = 1) with one sigmoid output per AU, the binary cross-entropy summed over AUs.

The recognition task :class:`Recognition` (``mer``): one network, softmax cross-entropy over the
classes of a label set (:mod:`mejax.datasets.labels`), scored as MEGC does
(:mod:`mejax.recognition_report`); :class:`RecognitionWithAUs` (``mer_au``) learns AU detection
jointly (MER-auGCN) and adds per-AU F1 to the report.
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mejax import losses, metrics, recognition_report, reporting, task_reports
from mejax.datasets import aus as au_vocab
from mejax.datasets import labels as label_sets


def main_output(outputs):
    """The prediction of a model output: the array itself, or a dict's ``logits``."""
    return outputs["logits"] if isinstance(outputs, dict) else outputs


class Task:
    """What the experiment path (:mod:`mejax.experiment`) asks of every task: the targets of its
    samples, what a side of a round holds, the summary of the rounds' test records and the
    reports. A task of another module registers in :data:`ELSEWHERE` (e.g. spotting,
    :class:`mejax.spotting.task.Spotting`)."""

    # What a sample's target is: "au_labels" (K 0/1 labels), "class" (a class index),
    # "class_and_au_labels", or "intervals" (a long video's expressions); what a fitter reads to
    # know what to fit (the baselines' SVMs fit AU labels or a class).
    target_kind: str
    counted = "clips per class"  # what :meth:`target_counts` counts

    def take_part(self, clips):
        """(samples, targets) of the samples that take part in the task."""
        raise NotImplementedError

    def target_counts(self, targets: np.ndarray) -> dict[str, int]:
        """What a side of a round holds (:mod:`mejax.plan`): :attr:`counted`, by name."""
        raise NotImplementedError

    def summarize(self, records: list[dict], rounds: list, config) -> dict:
        """The results of a run from its rounds' test records (``results.json``)."""
        raise NotImplementedError

    @staticmethod
    def describe(config) -> str:
        """What a ``task`` block's runs predict, in a few words (the console's first line)."""
        raise NotImplementedError

    @staticmethod
    def headline(results: dict) -> str:
        """The console line of a finished run's results."""
        raise NotImplementedError

    def write_reports(self, workdir: Path, results: dict) -> None:
        """Writes ``results.md`` (and the task's figures) into ``workdir``
        (:mod:`mejax.task_reports`)."""
        reporting.write_text(workdir / "results.md", self.markdown(results))


class ClipTask(Task):
    """A task on clips learnt by models: what the deep fitter (:class:`mejax.train.DeepFitter`)
    and :mod:`mejax.evaluate` ask beyond :class:`Task` -- how many models are stacked and what
    each learns, the loss, the per-round and per-step hyper-parameters, the validation score
    that selects each model and the test record -- and what :mod:`mejax.predict` shows."""

    num_models: int = 1
    outputs_per_model: int
    score_name: str = "score"
    output_kind: str  # what a prediction names: "AU" or "class"

    @property
    def model_names(self) -> list[str]:
        return ["model"]

    @property
    def model_keys(self) -> tuple:
        """What ``init_from`` matches a model by in a previous run (an AU, or None)."""
        return (None,) * self.num_models

    def targets(self, clips) -> np.ndarray:
        raise NotImplementedError

    def keep(self, targets: np.ndarray) -> np.ndarray:
        """(N,) bool: the clips that take part in the task."""
        return np.ones(len(targets), bool)

    def take_part(self, clips):
        """(clips, targets) of the clips that take part in the task (:meth:`keep`).

        Raises:
          ValueError: no clip takes part.
        """
        targets = self.targets(clips)
        kept = np.flatnonzero(self.keep(targets))
        if not len(kept):
            raise ValueError("no clip of the run has a target of the task (check task.label_set)")
        return clips.take(kept), targets[kept]

    def class_column(self, targets: np.ndarray) -> np.ndarray:
        """(N,) the class of each clip's targets (what ``train.balance_classes`` balances)."""
        return np.asarray(targets)

    def check_training(self, targets: np.ndarray, round_name: str) -> None:
        """Raises ValueError when a round's training targets cannot train the task."""

    def round_hparams(self, targets: np.ndarray) -> dict:
        """Per-round constants handed to every step in ``hparams`` (e.g. class weights)."""
        return {}

    def validation_positives(self, targets: np.ndarray) -> np.ndarray | None:
        """(K,) positives of each AU among a round's validation targets (stored in the round's
        record: an AU without one cannot select its model); None for a task without AUs."""
        return None

    def step_hparams(self, progress: float) -> dict:
        """Per-step values for ``hparams`` at ``progress`` (0 to 1) through the round's
        training; a ``"model"`` entry holds keyword arguments of the model's call."""
        return {}

    def stack_targets(self, targets: jnp.ndarray) -> jnp.ndarray:
        """(B, ...) targets -> (M, B, ...): what each stacked model learns."""
        return targets[None]

    def model_loss(self, outputs, batch: dict, hparams: dict) -> jnp.ndarray:
        raise NotImplementedError

    def validation_scores(self, outputs, targets: np.ndarray) -> tuple[np.ndarray, dict]:
        """((M,) selection score of each model, scalars to log) on the validation clips."""
        raise NotImplementedError

    def record(self, outputs, targets: np.ndarray, clips, train_targets: np.ndarray) -> dict:
        """The test record of a round (arrays, saved as ``ROUND/predictions.npz``)."""
        raise NotImplementedError

    def named_outputs(self, outputs) -> dict[str, float]:
        """{name: probability} of one clip's stacked outputs (:mod:`mejax.predict`)."""
        raise NotImplementedError

    def named_maps(self, maps: list) -> dict:
        """{name: (h, w) class-activation map} of one clip from each model's maps."""
        raise NotImplementedError

    def markdown(self, results: dict) -> str:
        raise NotImplementedError


def per_au_f1(names: list[str], labels: np.ndarray, predictions: np.ndarray) -> dict:
    """Per-AU F1 of (N, K) pooled test labels and predictions, next to the all-positive
    detector's, with each AU's positives and both averages over AUs."""
    f1 = metrics.f1_per_au(labels, predictions)
    baseline = metrics.all_positive_f1(labels)
    accuracy = metrics.accuracy_per_au(labels, predictions)
    return {
        "num_test_clips": int(len(labels)),
        "positives": dict(zip(names, labels.sum(0).tolist(), strict=True)),
        "f1": dict(zip(names, f1.tolist(), strict=True)),
        "f1_all_positive": dict(zip(names, baseline.tolist(), strict=True)),
        "average_f1": float(f1.mean()),
        "average_f1_all_positive": float(baseline.mean()),
        # SCA's Fig. 5 reports accuracy per AU; beside F1 it shows the imbalance at work.
        "accuracy": dict(zip(names, accuracy.tolist(), strict=True)),
        "average_accuracy": float(accuracy.mean()),
    }


def _header(config, rounds: list) -> dict:
    return {
        "experiment": config.get("name", ""),
        "database": config.dataset.name,
        "protocol": config.protocol.name,
        "rounds": [{"name": r.name, **r.describe()} for r in rounds],
        "selected_by": selection_note(config, rounds),
    }


def selection_note(config, rounds: list) -> str:
    """How a run's models (or a baseline's C) were selected, as ``results.md`` says it: on
    validation subjects, on a validation database (STAP's cross-database protocol), on held-out
    validation clips (pre-training), the model of the last step (``train.selection="last"``, or
    no validation side), or a fixed C (``baseline.classifier.c_selection="fixed"``)."""
    protocol = config.protocol.name
    if protocol == "cross_database":
        where = f"the validation database ({config.protocol.get('validation', '')}) only"
    elif protocol == "pretrain":
        where = "validation clips held out of the training subjects"
    else:
        where = "validation subjects only"
    validated = any(r.describe()["validation"] for r in rounds)
    if "baseline" in config:
        classifier = config.baseline.get("classifier", {})
        if classifier.get("c_selection", "validation") == "fixed":
            return f"a fixed C = {classifier.get('fixed_c', 1000.0):g} for every SVM (no selection)"
        if not validated:
            return "C the first of the grid (no validation side to select it on)"
        return f"C selected on {where}"
    if config.get("train", {}).get("selection", "validation") == "last" or not validated:
        return "the model of the last step (no selection: a fixed schedule)"
    return f"models selected on {where}"


# =============================================================================================
# AU detection
# =============================================================================================


@dataclasses.dataclass(frozen=True)
class AUTask(ClipTask):
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
    score_name = "F1 (average over AUs)"
    target_kind = "au_labels"

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

    def targets(self, clips) -> np.ndarray:
        return self.labels(clips.aus)

    def predictions(self, outputs) -> np.ndarray:
        raise NotImplementedError

    output_kind = "AU"

    def named_outputs(self, outputs) -> dict[str, float]:
        """{AU: probability} of one clip's stacked outputs (M, 1, ...)."""
        return dict(zip(self.names, self.scores(outputs)[0].tolist(), strict=True))

    def named_maps(self, maps: list) -> dict:
        """{AU: (h, w) class-activation map} of one clip from each model's (K, h, w) maps."""
        return dict(zip(self.names, maps[0], strict=True))

    def validation_positives(self, targets):
        return np.asarray(targets).sum(0)

    counted = "AU positives"

    def target_counts(self, targets):
        positives = np.asarray(targets).reshape(-1, len(self.aus)).sum(0)
        return {n: int(c) for n, c in zip(self.names, positives, strict=True)}

    def validation_scores(self, outputs, targets):
        f1 = metrics.f1_per_au(targets, self.predictions(outputs))
        scalars = {f"val_f1/{n}": v for n, v in zip(self.names, f1, strict=True)}
        scalars["val/score"] = f1.mean()
        return self.model_scores(f1), scalars

    def record(self, outputs, targets, clips, train_targets):
        del train_targets
        return {
            "names": np.asarray(clips.names),
            "labels": targets,
            "predictions": self.predictions(outputs),
            "scores": self.scores(outputs),
        }

    def summarize(self, records, rounds, config):
        """Per-AU F1 on the test clips of all rounds pooled, averaged over AUs (STAP Tables
        III-V), next to the F1 of the all-positive detector on the same clips."""
        names = self.names
        labels = np.concatenate([r["labels"] for r in records])
        predictions = np.concatenate([r["predictions"] for r in records])
        header = _header(config, rounds)
        for summary, record in zip(header["rounds"], records, strict=True):
            summary["selected_step"] = dict(
                zip(names, self.per_au(record["selected_step"]).tolist(), strict=True)
            )
            summary["validation_f1"] = dict(
                zip(names, self.per_au(record["selected_score"]).tolist(), strict=True)
            )
        return {
            **header,
            **per_au_f1(names, labels, predictions),
            "no_validation_positives": self._unselectable(records, rounds),
        }

    def _unselectable(self, records, rounds) -> dict:
        """{round: AUs} whose validation side had no positive: their F1 is 0 at every
        evaluation, so it cannot guide the selection (a one-vs-rest model of such an AU is the
        first evaluation's, a baseline's SVM the first C)."""
        found = {}
        for round_, record in zip(rounds, records, strict=True):
            if "validation_positives" not in record or not round_.describe()["validation"]:
                continue
            positives = np.asarray(record["validation_positives"])
            missing = [n for n, p in zip(self.names, positives, strict=True) if p == 0]
            if missing:
                found[round_.name] = missing
        return found

    markdown = staticmethod(task_reports.au_markdown)
    headline = staticmethod(task_reports.au_headline)

    @staticmethod
    def describe(config) -> str:
        return f"AUs {', '.join(map(str, config.aus))}"


@dataclasses.dataclass(frozen=True)
class AUOneVsRest(AUTask):
    """One binary detector per AU; ``loss``: ``softmax_ce`` (STAP, I3D) or ``focal`` (STAPF,
    I3DF)."""

    LOSSES = tuple(losses.LOSSES)
    outputs_per_model = 2

    @property
    def num_models(self) -> int:
        return len(self.aus)

    @property
    def model_names(self) -> list[str]:
        return self.names

    @property
    def model_keys(self) -> tuple[int, ...]:
        """The AU each model detects."""
        return self.aus

    def stack_targets(self, targets):
        """(B, K) labels -> (K, B): model k learns AU k."""
        return targets.T

    def model_loss(self, outputs, batch, hparams):
        """Mean loss of one binary model over its batch: logits (B, 2), labels (B,)."""
        del hparams
        logits = main_output(outputs)
        return jnp.mean(losses.LOSSES[self.loss](logits, batch["targets"], **self.loss_kwargs))

    @staticmethod
    def predictions(outputs) -> np.ndarray:
        """(N, K) 0/1 decisions (argmax of each model's two logits) of (K, N, 2) logits."""
        return np.asarray(jnp.argmax(main_output(outputs), axis=-1).astype(jnp.int32)).T

    @staticmethod
    def scores(outputs) -> np.ndarray:
        """(N, K) probabilities that each AU is present (softmax of the two logits)."""
        logits = main_output(outputs)
        present = jnp.exp(logits[..., 1] - jnp.logaddexp(logits[..., 0], logits[..., 1]))
        return np.asarray(present).T

    @staticmethod
    def model_scores(f1: np.ndarray) -> np.ndarray:
        """(M,) model-selection scores from (K,) validation F1: each model its own AU's."""
        return np.asarray(f1)

    def per_au(self, per_model: np.ndarray) -> np.ndarray:
        """(K,) values of the AUs from (M,) values of the models."""
        return np.asarray(per_model)

    def named_maps(self, maps: list) -> dict:
        """A binary model's map of its AU is its "present" map minus its "absent" one."""
        return {name: m[1] - m[0] for name, m in zip(self.names, maps, strict=True)}


@dataclasses.dataclass(frozen=True)
class AUMultiTask(AUTask):
    """One network with one sigmoid output per AU (SCA, eq. 4-5); ``loss``: ``sigmoid_bce``."""

    loss: str = "sigmoid_bce"
    LOSSES = ("sigmoid_bce",)
    num_models = 1

    @property
    def model_names(self) -> list[str]:
        return ["all AUs"]

    @property
    def outputs_per_model(self) -> int:
        return len(self.aus)

    def model_loss(self, outputs, batch, hparams):
        """Eq. 4-5: per-AU binary cross-entropy summed over AUs, mean over the batch."""
        del hparams
        logits = main_output(outputs)
        per_au = optax.sigmoid_binary_cross_entropy(logits, batch["targets"].astype(logits.dtype))
        return jnp.mean(jnp.sum(per_au, axis=-1))

    @staticmethod
    def predictions(outputs) -> np.ndarray:
        """(N, K) 0/1 decisions (probability > 0.5) of (1, N, K) logits."""
        return np.asarray(main_output(outputs)[0] > 0).astype(np.int32)

    @staticmethod
    def scores(outputs) -> np.ndarray:
        """(N, K) probabilities of (1, N, K) logits."""
        return np.asarray(jax.nn.sigmoid(main_output(outputs)[0]))

    @staticmethod
    def model_scores(f1: np.ndarray) -> np.ndarray:
        """(1,) selection score: the average validation F1 over AUs."""
        return np.asarray([np.mean(f1)])

    def per_au(self, per_model: np.ndarray) -> np.ndarray:
        """(K,) values of the AUs from the one model's value."""
        return np.repeat(np.asarray(per_model), len(self.aus))


# =============================================================================================
# Recognition
# =============================================================================================


@dataclasses.dataclass(frozen=True)
class Recognition(ClipTask):
    """Micro-expression recognition: one network, one softmax over the classes.

    Attributes:
      label_set: ``megc2019``, ``objective_5`` or ``emotion`` (:mod:`mejax.datasets.labels`).
      classes: the class names, in order (from the label set and the clips when built with
        :func:`build`).
      class_weights: ``""`` (plain cross-entropy) or ``"balanced"``: each class weighted by
        N / (C n_c) of the round's training clips (scikit-learn's ``balanced``).
      aux_loss_weight: weight of the cross-entropy of every auxiliary classifier a model
        returns (``aux_logits``, e.g. the part classifiers of the MEGC2019 recogniser).
      domain_loss_weight: weight of the domain cross-entropy when the model returns
        ``domain_logits`` and the batch a ``domain`` (adversarial domain adaptation).
      grl_schedule: the gradient-reversal factor handed to the model's call in training
        (``grl_lambda``): ``""`` none; ``"dann"``: lambda = 2 / (1 + exp(-10 p)) - 1 (the
        schedule of Ganin & Lempitsky, ICML 2015), with ``p`` the progress through the round's
        training, so lambda starts again from 0 in every fold. The MEGC2019 recogniser's public
        code (Liu et al.) counts ``p`` as training forward passes / 10000 in a GRL singleton
        that is never reset between folds: its lambda is about 0.83 after the first fold and
        about 1 afterwards.
    """

    label_set: str = "megc2019"
    classes: tuple[str, ...] = label_sets.MEGC2019_CLASSES
    class_weights: str = ""
    aux_loss_weight: float = 1.0
    domain_loss_weight: float = 1.0
    grl_schedule: str = ""
    score_name = "UF1"
    target_kind = "class"
    # grl_schedule: none, or DANN's 2 / (1 + exp(-10 p)) - 1.
    GRL_SCHEDULES = ("", "dann")

    def __post_init__(self):
        if self.label_set not in label_sets.LABEL_SETS:
            raise ValueError(f"task.label_set {self.label_set!r} not in {label_sets.LABEL_SETS}")
        if len(self.classes) < 2:
            raise ValueError(f"task.classes: at least two classes, got {self.classes}")
        if self.class_weights not in ("", "balanced"):
            raise ValueError(f"task.class_weights {self.class_weights!r} not in ('', 'balanced')")
        if self.grl_schedule not in self.GRL_SCHEDULES:
            raise ValueError(f"task.grl_schedule {self.grl_schedule!r} not in {self.GRL_SCHEDULES}")

    @property
    def outputs_per_model(self) -> int:
        return len(self.classes)

    @property
    def model_names(self) -> list[str]:
        return ["classifier"]

    def targets(self, clips) -> np.ndarray:
        return label_sets.class_labels(
            self.label_set, self.classes, clips.emotion, clips.objective_class
        )

    def keep(self, targets):
        return np.asarray(targets) >= 0

    def target_counts(self, targets):
        classes = np.asarray(self.class_column(targets))
        counts = np.bincount(classes[classes >= 0], minlength=len(self.classes))
        return {n: int(c) for n, c in zip(self.classes, counts, strict=True)}

    def check_training(self, targets, round_name):
        counts = np.bincount(targets, minlength=len(self.classes))
        absent = [c for c, n in zip(self.classes, counts, strict=True) if n == 0]
        if absent:
            raise ValueError(
                f"round {round_name}: the class(es) {absent} have no clip on the training side "
                f"(counts {dict(zip(self.classes, counts.tolist(), strict=True))}); choose "
                "task.classes or a label set the training subjects cover"
            )

    def round_hparams(self, targets):
        if self.class_weights != "balanced":
            return {}
        counts = np.bincount(targets, minlength=len(self.classes)).astype(np.float32)
        return {"class_weights": len(targets) / (len(self.classes) * counts)}

    def step_hparams(self, progress: float) -> dict:
        """``{"model": {"grl_lambda": lambda}}`` of the ``grl_schedule`` at ``progress``."""
        if not self.grl_schedule:
            return {}
        lam = 2.0 / (1.0 + np.exp(-10.0 * progress)) - 1.0
        return {"model": {"grl_lambda": np.float32(lam)}}

    def model_loss(self, outputs, batch, hparams):
        """Softmax cross-entropy (class-weighted with ``hparams["class_weights"]``), plus the
        auxiliary classifiers' and, with a ``domain`` in the batch, the domain loss."""
        targets = batch["targets"]
        loss = self.class_loss(main_output(outputs), targets, hparams)
        if isinstance(outputs, dict):
            for logits in outputs.get("aux_logits", ()):
                loss = loss + self.aux_loss_weight * self.class_loss(logits, targets, hparams)
            if "domain_logits" in outputs and "domain" in batch:
                domain = optax.sigmoid_binary_cross_entropy(
                    outputs["domain_logits"].reshape(-1), batch["domain"].astype(jnp.float32)
                )
                loss = loss + self.domain_loss_weight * jnp.mean(domain)
        return loss

    @staticmethod
    def class_loss(logits, classes, hparams, reduction: str = "mean") -> jnp.ndarray:
        """Softmax cross-entropy of the clips with a class (>= 0), each weighted by its class's
        ``hparams["class_weights"]`` when given: their weighted mean (``reduction="mean"``) or
        their weighted sum over the batch (``"sum"``)."""
        known = jnp.maximum(classes, 0)
        per_clip = optax.softmax_cross_entropy_with_integer_labels(logits, known)
        weights = (classes >= 0).astype(per_clip.dtype)
        if "class_weights" in hparams:
            weights = weights * hparams["class_weights"][known]
        if reduction == "sum":
            return jnp.sum(weights * per_clip)
        return jnp.sum(weights * per_clip) / jnp.maximum(jnp.sum(weights), 1e-12)

    def probabilities(self, outputs) -> np.ndarray:
        """(N, C) class probabilities of the one model's (1, N, C) outputs."""
        return np.asarray(jax.nn.softmax(main_output(outputs)[0], axis=-1))

    output_kind = "class"

    def named_outputs(self, outputs) -> dict[str, float]:
        """{class: probability} of one clip's outputs (1, 1, C), and {AU: probability} of a
        model that also detects AUs."""
        named = dict(zip(self.classes, self.probabilities(outputs)[0].tolist(), strict=True))
        if isinstance(outputs, dict) and "au_logits" in outputs:
            au = np.asarray(jax.nn.sigmoid(outputs["au_logits"][0, 0]))
            named.update(zip(self.au_names, au.tolist(), strict=True))
        return named

    def named_maps(self, maps: list) -> dict:
        """{class: (h, w) class-activation map} of one clip from the model's (C, h, w) maps."""
        return dict(zip(self.classes, maps[0], strict=True))

    def validation_scores(self, outputs, targets):
        predictions = self.probabilities(outputs).argmax(-1)
        scored = metrics.recognition_metrics(targets, predictions, range(len(self.classes)))
        scalars = {"val/score": scored["uf1"], "val_uar": scored["uar"], "val_war": scored["war"]}
        return np.asarray([scored["uf1"]]), scalars

    def record(self, outputs, targets, clips, train_targets):
        probabilities = self.probabilities(outputs)
        counts = np.bincount(train_targets, minlength=len(self.classes))
        return {
            "names": np.asarray(clips.names),
            "labels": targets,
            "predictions": probabilities.argmax(-1).astype(np.int64),
            "scores": probabilities,
            "databases": np.asarray(clips.databases),
            "majority": np.asarray(int(np.argmax(counts))),
        }

    def summarize(self, records, rounds, config):
        header = _header(config, rounds)
        for summary, record in zip(header["rounds"], records, strict=True):
            summary["selected_step"] = int(record["selected_step"][0])
            summary["validation_uf1"] = float(record["selected_score"][0])
        tested = [(r, rec) for r, rec in zip(rounds, records, strict=True) if len(rec["labels"])]
        selection = config.get("train", {}).get("selection", "validation")
        results = {**header, "task": "mer", "label_set": self.label_set, "selection": selection}
        if not tested:  # pretrain: nothing is tested
            results.update(
                classes=list(self.classes),
                num_test_clips=0,
                validation_uf1=float(np.mean([s["validation_uf1"] for s in header["rounds"]])),
            )
            return results
        report = recognition_report.summarize(
            [rec for _, rec in tested], [r.name for r, _ in tested], self.classes
        )
        return {**results, **report}

    markdown = staticmethod(task_reports.recognition_markdown)
    headline = staticmethod(task_reports.recognition_headline)

    def write_reports(self, workdir, results):
        task_reports.write_recognition(workdir, results, self.markdown(results))

    @staticmethod
    def describe(config) -> str:
        return f"classes {config.get('label_set', 'megc2019')}"


@dataclasses.dataclass(frozen=True)
class RecognitionWithAUs(Recognition):
    """Recognition learnt jointly with AU detection (MER-auGCN, Zhou, Mao, Dong, Sec. III-D):
    the class cross-entropy plus ``detection_weight`` times the detection loss of the model's
    ``au_logits`` (one per AU node, in the order of ``aus``).

    The targets are (N, 1 + K) int32: the class index (-1 outside the label set) and the K AU
    labels. The test record and the summary add per-AU F1 of the detectors (Table VII of the
    paper), pooled, per round and averaged over rounds, beside the all-positive detector.

    Attributes:
      aus: the AU nodes, in the order of the model's ``au_logits`` (the model's ``aus``).
      detection_weight: lambda of ``L = CE + lambda L_detc`` (0.75 in the paper).
      detection_loss: ``"balanced"`` (the paper's batch-balanced loss,
        :func:`mejax.losses.balanced_detection_loss`) or ``"focal"`` (the FocalLos ablation of
        Table IV: :func:`mejax.losses.sigmoid_focal_loss`, alpha .25, gamma 2).
      unclassified: ``False`` (default): only the clips of the label set take part (the MER
        experiments); ``True``: every clip takes part, the clips outside the label set in the
        detection loss and the per-AU F1 only (the paper's Table VII trains AU detection on
        STAP's clips, which include objective classes VI and VII; how they enter the MER loss
        is not stated, so here they do not).
      class_loss_reduction: how the class cross-entropy of a batch is reduced. ``"sum"``: summed
        over the batch's classified clips, as the paper prints it (Sec. III-D: the CE a sum over
        the samples, L_detc a mean over the K AUs and M samples), so that lambda =
        0.75 keeps the paper's balance between the two terms; ``"mean"``: averaged over those
        clips, which weighs the detection loss about M (the batch's classified clips) times more
        against the class loss than the paper's L does at the same lambda (the same balance
        would need lambda = 0.75 / M). The MER-auGCN configs take ``"sum"``: with Adam, the
        paper's optimiser, the overall scale of L hardly matters, the balance does.
    """

    aus: tuple[int, ...] = ()
    detection_weight: float = 0.75
    detection_loss: str = "balanced"
    unclassified: bool = False
    class_loss_reduction: str = "mean"
    DETECTION_LOSSES = ("balanced", "focal")
    CLASS_LOSS_REDUCTIONS = ("mean", "sum")
    target_kind = "class_and_au_labels"
    markdown = staticmethod(task_reports.recognition_au_markdown)

    def __post_init__(self):
        super().__post_init__()
        unknown = [au for au in self.aus if au not in au_vocab.AU_INDEX]
        if not self.aus or unknown:
            raise ValueError(
                f"task.aus {self.aus}: give the model's AU nodes, from {au_vocab.AU_VOCAB}"
            )
        if self.detection_loss not in self.DETECTION_LOSSES:
            raise ValueError(
                f"task.detection_loss {self.detection_loss!r} not in {self.DETECTION_LOSSES}"
            )
        if self.class_loss_reduction not in self.CLASS_LOSS_REDUCTIONS:
            raise ValueError(
                f"task.class_loss_reduction {self.class_loss_reduction!r} not in "
                f"{self.CLASS_LOSS_REDUCTIONS}"
            )

    @property
    def au_names(self) -> list[str]:
        return [f"AU{au}" for au in self.aus]

    def targets(self, clips) -> np.ndarray:
        columns = [au_vocab.AU_INDEX[au] for au in self.aus]
        au_labels = np.asarray(clips.aus)[:, columns].astype(np.int32)
        return np.column_stack([super().targets(clips), au_labels]).astype(np.int32)

    def keep(self, targets):
        return np.ones(len(targets), bool) if self.unclassified else targets[:, 0] >= 0

    def class_column(self, targets) -> np.ndarray:
        return np.asarray(targets)[:, 0]

    counted = "clips per class, AU positives"

    def target_counts(self, targets):
        targets = np.asarray(targets).reshape(-1, 1 + len(self.aus))
        positives = targets[:, 1:].sum(0)
        return {
            **super().target_counts(targets),
            **{n: int(c) for n, c in zip(self.au_names, positives, strict=True)},
        }

    def check_training(self, targets, round_name):
        super().check_training(self._classified(targets), round_name)

    def round_hparams(self, targets):
        return super().round_hparams(self._classified(targets))

    @staticmethod
    def _classified(targets) -> np.ndarray:
        classes = np.asarray(targets)[:, 0]
        return classes[classes >= 0]

    def model_loss(self, outputs, batch, hparams):
        targets = batch["targets"]
        classes, au_labels = targets[:, 0], targets[:, 1:]
        loss = self.class_loss(outputs["logits"], classes, hparams, self.class_loss_reduction)
        if "au_logits" not in outputs:  # the backbone-only ablation: no detectors
            return loss
        if self.detection_loss == "balanced":
            detection = losses.balanced_detection_loss(outputs["au_logits"], au_labels)
        else:
            detection = losses.sigmoid_focal_loss(outputs["au_logits"], au_labels)
        return loss + self.detection_weight * detection

    def validation_scores(self, outputs, targets):
        classified = targets[:, 0] >= 0
        outputs = jax.tree.map(lambda x: np.asarray(x)[:, classified], outputs)
        return super().validation_scores(outputs, targets[classified, 0])

    def record(self, outputs, targets, clips, train_targets):
        classified = np.flatnonzero(targets[:, 0] >= 0)
        kept = jax.tree.map(lambda x: np.asarray(x)[:, classified], outputs)
        record = super().record(
            kept, targets[classified, 0], clips.take(classified), self._classified(train_targets)
        )
        record["au_labels"] = targets[:, 1:]
        if "au_logits" in outputs:
            record["au_probabilities"] = np.asarray(jax.nn.sigmoid(outputs["au_logits"][0]))
        return record

    def summarize(self, records, rounds, config):
        results = super().summarize(records, rounds, config)
        results["task"] = "mer_au"
        if all("au_probabilities" in r for r in records):
            results["au_detection"] = self._au_detection(records, rounds)
        return results

    def _au_detection(self, records, rounds) -> dict:
        """Per-AU F1 pooled over the rounds' test clips, per round, and the mean over rounds
        (the paper's "Avg" column of Table VII), beside the all-positive detector."""
        names = self.au_names
        tested = [(r.name, rec) for r, rec in zip(rounds, records, strict=True)
                  if len(rec["au_labels"])]  # fmt: skip
        per_round = {}
        for name, rec in tested:
            predictions = (rec["au_probabilities"] >= 0.5).astype(np.int32)
            f1 = metrics.f1_per_au(rec["au_labels"], predictions)
            per_round[name] = dict(zip(names, f1.tolist(), strict=True))
        labels = np.concatenate([rec["au_labels"] for _, rec in tested])
        predictions = np.concatenate([rec["au_probabilities"] >= 0.5 for _, rec in tested])
        round_mean = {n: float(np.mean([per_round[r][n] for r in per_round])) for n in names}
        return {
            "aus": names,
            **per_au_f1(names, labels, predictions.astype(np.int32)),
            "per_round": per_round,
            "round_mean": round_mean,
            "average_round_mean": float(np.mean(list(round_mean.values()))),
        }


TASKS = {
    "one_vs_rest": AUOneVsRest,
    "multi_task": AUMultiTask,
    "mer": Recognition,
    "mer_au": RecognitionWithAUs,
}


# Tasks of other modules, imported when a run names them: name -> (module, class).
ELSEWHERE = {"spotting": ("mejax.spotting.task", "Spotting")}


def name_of(config) -> str:
    """The registered name of a ``task`` block's task (``mer`` when it names a label set,
    ``one_vs_rest`` otherwise, unless it names one)."""
    name = config.get("name", "mer" if "label_set" in config else "one_vs_rest")
    if name not in TASKS and name not in ELSEWHERE:
        raise ValueError(f"task.name {name!r} not in {(*TASKS, *ELSEWHERE)}")
    return name


def kind(config) -> type:
    """The task class of a ``task`` block (what its static parts, e.g. the headline, say)."""
    name = name_of(config)
    if name in ELSEWHERE:
        module, attribute = ELSEWHERE[name]
        return getattr(importlib.import_module(module), attribute)
    return TASKS[name]


def _settings(cls, config, **given) -> dict:
    """The fields of dataclass ``cls`` that a ``task`` block sets (its defaults otherwise), with
    ``given`` in place of the block's; tuples and dicts as the dataclass holds them."""
    found = dict(given)
    for field in dataclasses.fields(cls):
        if field.name in found or field.name not in config:
            continue
        value = config[field.name]
        if hasattr(value, "to_dict"):
            value = value.to_dict()
        found[field.name] = tuple(value) if isinstance(value, list | tuple) else value
    return found


def build(config, clips=None) -> Task:
    """Task of a config's ``task`` block (``name`` defaults to ``one_vs_rest``): the fields of
    its task class that the block sets, the class's defaults for the others.

    Args:
      config: the ``task`` block.
      clips: the run's clips, from which a recognition task's ``emotion`` classes are found
        when ``task.classes`` is empty.
    """
    name = name_of(config)
    if name in ELSEWHERE:
        return kind(config).from_config(config, clips)
    cls = TASKS[name]
    if issubclass(cls, Recognition):
        label_set = config.get("label_set", "megc2019")
        emotion = clips.emotion if clips is not None else ()
        objective = clips.objective_class if clips is not None else np.zeros(0, np.int32)
        classes = label_sets.class_names(
            label_set, emotion, objective, tuple(config.get("classes", ()))
        )
        return cls(**_settings(cls, config, label_set=label_set, classes=classes))
    return cls(**_settings(cls, config))
