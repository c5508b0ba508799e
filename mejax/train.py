"""The training loop: one experiment from config to ``results.md``, whatever the task.

The loop knows no AU and no class: the task (:mod:`mejax.tasks`) gives the targets of the run's
clips, how many models are stacked and what each learns, the loss of a batch dict (``inputs``,
``targets``, ``domain``), the validation score that selects each model and the reports. Per-step
values travel in an ``hparams`` dict handed to every step: ``learning_rate`` (the optimizer's
schedule; one rate per parameter group with ``optimizer.groups``), the task's per-round
constants (e.g. class weights) and per-step values (:meth:`~mejax.tasks.ClipTask.step_hparams`;
under ``"model"``, keyword arguments of the model's call, e.g. a gradient-reversal factor).

STAP / STAPF / I3D / I3DF (Li, Huang, Zhao, arXiv:1907.05023): K independent binary AU models
trained together, per-AU model selection on validation subjects only. SCA (Li, Huang, Zhao,
Neurocomputing 2021) and recognition are the same loop with one model.

The K models' parameters, BatchNorm statistics, optimizer states and RNG keys are stacked on a
leading axis, and the jitted step ``vmap``s the single-model step over a chunk of that axis
(``train.models_per_step``). On GPU/TPU the chunk is all K models: one compiled program trains
them all. On CPU, XLA turns a vmapped convolution into a grouped one that runs several times
slower than K plain ones (and a ``lax.map`` loop slower still), so the default there is chunks of
one model: the same compiled program is called once per model. Either way each model sees the
arithmetic of its own separate run (``tests/test_train.py`` checks all three against each other).

The rounds of the protocol run one after another, or ``train.folds_per_step`` of them together
(:meth:`DeepFitter.fit`): one program steps the stacked states of all the rounds of a group, each
round with its own batches (from its own training subjects), learning-rate schedule and task
hyper-parameters, a round past the end of its schedule keeping its state; each round validates,
selects, checkpoints and records itself as if it ran alone. The training clips are read from the
run's one array (:class:`mejax.input_pipeline.Rows`), not copied per round.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from absl import logging
from tqdm.auto import tqdm

from mejax import (
    checkpointing,
    evaluate,
    input_pipeline,
    models,
    optim,
    protocols,
    reporting,
    run_files,
    sharding,
    tasks,
)
from mejax.models import compiler
from mejax.weights import init_from as init_weights
from mejax.weights import pretrained

# =============================================================================================
# Steps (pure, jitted)
# =============================================================================================


class Steps(NamedTuple):
    """The jitted programs of a run (:func:`make_steps`)."""

    init: Callable
    train_step: Callable
    predict: Callable
    folds_step: Callable


def make_steps(model, task: tasks.ClipTask, tx: optax.GradientTransformation, mesh, chunk: int,
               input_config, init_from: str = ""):  # fmt: skip
    """``init``, ``train_step``, ``predict`` and ``folds_step`` of the stacked models of ``task``.

    ``train_step``, ``folds_step`` (one step of several rounds at once) and ``predict`` run
    jitted, vmapped programs on chunks of ``chunk`` models; inputs are normalised inside them
    (:func:`mejax.input_pipeline.normalize` with ``input_config``); ``init_from``
    (``config.init_from``: pretrained weights or a previous run, see
    :mod:`mejax.weights.init_from`) replaces the random initial variables of every
    model, each model taking its own AU's from a previous one-vs-rest run.
    """
    replicated = sharding.replicated(mesh)
    _normalize = functools.partial(input_pipeline.normalize, input_config=input_config)

    @jax.jit
    def init_variables(key, inputs):
        variables = model.init({"params": key, "dropout": key}, _normalize(inputs), train=False)
        return {"params": variables["params"], "batch_stats": variables.get("batch_stats", {})}

    def init_one(key, inputs, model_key):
        variables = init_variables(key, inputs)
        if init_from:
            variables, report = init_weights.initialize(variables, init_from, au=model_key)
            logging.info("init_from %s:\n%s", init_from, report.summary())
        return {**variables, "opt_state": jax.jit(tx.init)(variables["params"])}

    def init(keys, inputs):
        # One model at a time: XLA compiles a vmapped init (grouped convolutions it then
        # discards) for minutes on CPU; the stacked result is the same. Given fewer keys than
        # the task has models (a subset run separately), no model is tied to an AU.
        model_keys = task.model_keys if len(keys) == task.num_models else [None] * len(keys)
        stacked = [init_one(k, inputs, m) for k, m in zip(keys, model_keys, strict=True)]
        state = jax.tree.map(lambda *leaves: jnp.stack(leaves), *stacked)
        state = {"step": jnp.zeros((), jnp.int32), "rng": jnp.copy(keys), **state}
        return jax.device_put(state, replicated)

    def train_one(model_state, batch, step, hparams):
        def loss_fn(params):
            outputs, updates = model.apply(
                {"params": params, "batch_stats": model_state["batch_stats"]},
                batch["inputs"],
                train=True,
                rngs={"dropout": jax.random.fold_in(model_state["rng"], step)},
                mutable=["batch_stats"],
                **hparams.get("model", {}),
            )
            loss = task.model_loss(outputs, batch, hparams)
            return loss, updates.get("batch_stats", {})

        (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            model_state["params"]
        )
        opt_state = model_state["opt_state"]
        optim.set_learning_rates(opt_state, hparams["learning_rate"])
        updates, opt_state = tx.update(grads, opt_state, model_state["params"])
        params = optax.apply_updates(model_state["params"], updates)
        finite = jnp.all(jnp.array([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(params)]))
        new = {"params": params, "batch_stats": batch_stats, "opt_state": opt_state}
        return {**new, "rng": model_state["rng"]}, loss, finite

    def chunk_step(models, batch, index, step, hparams):
        batch = {**batch, "inputs": _normalize(batch["inputs"])}
        targets = task.stack_targets(batch["targets"])[index]
        return jax.vmap(
            lambda m, t: train_one(m, {**batch, "targets": t}, step, hparams)
        )(models, targets)  # fmt: skip

    train_chunk = compiler.jit(chunk_step, donate_argnums=0, out_shardings=replicated)

    @compiler.jit(donate_argnums=0, out_shardings=replicated)
    def folds_chunk(models, batches, index, steps, hparams, running):
        stack = functools.partial(jax.tree.map, lambda *xs: jnp.stack(xs))
        stacked = stack(*models)
        new, loss, finite = jax.vmap(chunk_step, in_axes=(0, 0, None, 0, 0))(
            stacked, stack(*batches), index, steps, stack(*hparams)
        )

        def keep_waiting(new, old):  # a round past its schedule keeps its state
            return jnp.where(running.reshape((-1,) + (1,) * (new.ndim - 1)), new, old)

        new = jax.tree.map(keep_waiting, new, stacked)
        return [jax.tree.map(lambda x, k=k: x[k], new) for k in range(len(models))], loss, finite

    def model_chunks(models, num_models):
        """(index, slice of ``models``) per chunk of ``chunk`` models."""
        for start in range(0, num_models, chunk):
            part = models
            if chunk < num_models:
                part = jax.tree.map(lambda x, s=start: x[s : s + chunk], models)
            yield np.arange(start, min(start + chunk, num_models), dtype=np.int32), part

    def train_step(state, batch, hparams):
        """One step of every model; returns (new state, (M,) losses, (M,) finite flags)."""
        models = {k: state[k] for k in ("params", "batch_stats", "opt_state", "rng")}
        outputs = [
            train_chunk(part, batch, index, state["step"], hparams)
            for index, part in model_chunks(models, len(state["rng"]))
        ]
        new, loss, finite = (
            outputs[0] if len(outputs) == 1
            else jax.tree.map(lambda *xs: jnp.concatenate(xs), *outputs)
        )  # fmt: skip
        return {**state, **new, "step": state["step"] + 1}, loss, finite

    def folds_step(states, batches, hparams, running):
        """One step of every model of F rounds (F states, batches and hparams dicts); a round
        whose ``running`` flag is False keeps its state. Returns (F new states, (F, M) losses,
        (F, M) finite flags)."""
        keys = ("params", "batch_stats", "opt_state", "rng")
        models = [{k: state[k] for k in keys} for state in states]
        steps = jnp.stack([state["step"] for state in states])
        per_round = [list(model_chunks(m, len(m["rng"]))) for m in models]
        outputs = []
        for c, (index, _) in enumerate(per_round[0]):
            parts = [chunks[c][1] for chunks in per_round]
            outputs.append(folds_chunk(parts, batches, index, steps, hparams, running))
        news = [
            jax.tree.map(lambda *xs: jnp.concatenate(xs), *[out[0][k] for out in outputs])
            if len(outputs) > 1 else outputs[0][0][k]
            for k in range(len(states))
        ]  # fmt: skip
        loss = jnp.concatenate([out[1] for out in outputs], axis=1)
        finite = jnp.concatenate([out[2] for out in outputs], axis=1)
        new_states = [
            {**state, **new, "step": state["step"] + (1 if run else 0)}
            for state, new, run in zip(states, news, running, strict=True)
        ]
        return new_states, loss, finite

    @compiler.jit(out_shardings=replicated)
    def predict_chunk(variables, inputs):
        inputs = _normalize(inputs)
        return jax.vmap(lambda v: model.apply(v, inputs, train=False))(variables)

    def predict(params, batch_stats, inputs):
        """Outputs (M, B, ...) of every model (an array, or a dict of them)."""
        variables = {"params": params, "batch_stats": batch_stats}
        parts = [
            predict_chunk(jax.tree.map(lambda x, s=start: x[s : s + chunk], variables), inputs)
            for start in range(0, len(jax.tree.leaves(params)[0]), chunk)
        ]
        return jax.tree.map(lambda *xs: jnp.concatenate(xs), *parts)

    return Steps(init, train_step, predict, folds_step)


# =============================================================================================
# One round of the protocol
# =============================================================================================


class RoundRun:
    """One round of the protocol in training: its batches, schedule, state, selection and
    checkpoints, advanced a step at a time by :meth:`DeepFitter.fit` (alone, or stacked with the
    other rounds of its group)."""

    def __init__(self, fitter: DeepFitter, round_, index: int):
        config, task, data = fitter.config, fitter.task, fitter.data
        self.config, self.round, self.index, self.fitter = config, round_, index, fitter
        self.name, self.dir = round_.name, fitter.workdir / round_.name
        rows = round_.indices("train", data)
        inputs = input_pipeline.Rows(data.inputs, rows)  # no copy of the training clips
        self.train_targets = fitter.targets[rows]
        self.val_data, self.val_targets = evaluate.side(
            data, fitter.targets, round_, "validation", config.input
        )
        check_init_subjects(fitter.init_from, round_, data)
        check_aux_subjects(config, round_, data, fitter.aux_people)
        if jax.process_index() == 0:
            people = data.people
            seen = {"train": sorted({people[i] for i in rows}),
                    "validation": sorted(set(self.val_data.people)),
                    "auxiliary": list(fitter.aux_people),
                    "inherited": init_weights.run_lineage(fitter.init_from) or {}}  # fmt: skip
            reporting.write_text(self.dir / init_weights.SUBJECTS_FILE, json.dumps(seen, indent=1))
        task.check_training(self.train_targets, round_.name)
        targets = self.train_targets
        if config.input.get("flow_augment", ""):
            inputs, targets = input_pipeline.augmented_side(inputs, targets, train=True)
        balance = config.train.get("balance_classes", False)
        self.batches = input_pipeline.TrainBatches(
            inputs,
            targets,
            config.train.batch_size,
            seed=config.seed + index,
            flip=config.input.flip,
            crop=config.input.get("crop_size", 0),
            balance_classes=task.class_column(targets) if balance else None,
            aux=fitter.aux,
            aux_ratio=config.get("aux_dataset", {}).get("ratio", 0.0),
            crop_mode=config.input.get("crop_mode", "random"),
            photometric=config.input.get("photometric", {}),
            last_batch=config.train.get("last_batch", "drop"),
            balance_epoch=config.train.get("balance_epoch", "clips"),
        )
        steps_per_epoch = self.batches.steps_per_epoch
        self.num_steps = config.train.num_epochs * steps_per_epoch
        self.learning_rates = optim.make_learning_rates(
            config.optimizer, self.num_steps, steps_per_epoch
        )
        # ``train.max_steps`` (absent from the configs; benchmarks/paper_settings.py sets it):
        # a smoke run stops each round after that many steps of its schedule, then validates
        # and tests as a finished round does.
        self.num_steps = min(self.num_steps, config.train.get("max_steps", 0) or self.num_steps)
        self.eval_every = config.train.eval_every_epochs * steps_per_epoch
        self.round_hparams = task.round_hparams(self.train_targets)

        keys = jax.random.split(jax.random.PRNGKey(config.seed + 1000 * index), task.num_models)
        self.state = fitter.steps.init(keys, self.batches(0)["inputs"][:1])
        self.selection = {  # copies: the train step donates (deletes) the state's buffers
            "params": jax.tree.map(jnp.copy, self.state["params"]),
            "batch_stats": jax.tree.map(jnp.copy, self.state["batch_stats"]),
            "score": np.full(task.num_models, -1.0),
            "step": np.zeros(task.num_models, np.int32),
        }
        self.checkpointer = checkpointing.Checkpointer(
            self.dir / "checkpoints", valid_step=self.saves_at, owner=run_files.config_hash(config)
        )
        if self.checkpointer.latest_step() is not None:
            restored = self.checkpointer.restore({"state": self.state, "selection": self.selection})
            self.state, self.selection = restored["state"], restored["selection"]
            logging.info("%s: resumed from step %d", self.name, int(self.state["step"]))
        self.step = int(self.state["step"])
        fitter.writer.drop_after(self.name, self.step)  # logged after the last checkpoint

    def saves_at(self, step: int) -> bool:
        """Whether the round's schedule checkpoints ``step`` (each validation, and the end)."""
        return 1 <= step <= self.num_steps and (
            step % self.eval_every == 0 or step == self.num_steps
        )

    @property
    def done(self) -> bool:
        return self.step >= self.num_steps

    def batch(self) -> dict:
        """The batch of the next step (of the last one once done: a finished round stacked with
        running ones computes a step whose result is dropped)."""
        step = min(self.step, self.num_steps - 1)
        mesh = self.fitter.mesh
        return jax.tree.map(functools.partial(sharding.global_batch, mesh), self.batches(step))

    def hparams(self) -> dict:
        step = min(self.step, self.num_steps - 1)
        return {
            "learning_rate": self.learning_rates(step),  # a dict group -> rate with groups
            **self.round_hparams,
            **self.fitter.task.step_hparams(step / self.num_steps),
        }

    def after_step(self, state, loss, finite, hparams: dict, step_time: float, bar) -> None:
        """Takes the new state; logs, validates, selects and checkpoints as the step asks.

        Raises:
          FloatingPointError: a loss or a parameter is not finite (nothing is saved).
        """
        task, writer, step = self.fitter.task, self.fitter.writer, self.step
        loss, finite = np.asarray(loss), np.asarray(finite)
        if not (np.all(np.isfinite(loss)) and np.all(finite)):
            ok = np.isfinite(loss) & finite
            bad = [n for n, good in zip(task.model_names, ok, strict=True) if not good]
            latest = self.checkpointer.latest_step()
            kept = (
                f"the last checkpoint (step {latest}) in {self.dir / 'checkpoints'} is intact"
                if latest is not None
                else "the round has no checkpoint yet"
            )
            raise FloatingPointError(
                f"{self.name}: non-finite loss or parameters at step {step} for {bad} "
                f"(losses {loss.tolist()}). Stopped without saving; {kept}. Lower "
                "optimizer.learning_rate or check the input."
            )
        self.state, self.step = state, step + 1
        bar.set_postfix(loss=f"{loss.mean():.4f}", step_s=f"{step_time:.2f}")
        if self.step % self.config.train.log_every_steps == 0:
            scalars = {"loss": loss.mean()}
            rates = hparams["learning_rate"]
            if isinstance(rates, dict):  # parameter groups: one rate each
                scalars.update({f"learning_rate/{g}": v for g, v in rates.items()})
            else:
                scalars["learning_rate"] = rates
            scalars["step_time"] = step_time
            scalars.update({f"loss/{n}": v for n, v in zip(task.model_names, loss, strict=True)})
            writer.write(self.name, self.step, scalars)
        if self.step % self.eval_every == 0 or self.done:
            self._validate(bar)
            self.checkpointer.save(self.step, {"state": self.state, "selection": self.selection})

    def _validate(self, bar) -> None:
        fitter, step = self.fitter, self.step
        if not len(self.val_data):  # train.selection=last: the model of the last step
            scores = np.full(fitter.task.num_models, np.inf)
            self.selection = keep_best(self.selection, self.state, scores, step)
            return
        scores, scalars = evaluate.validation_scores(
            fitter.task, fitter.steps.predict, self.state, self.val_data, self.val_targets,
            fitter.mesh, self.config.train.eval_batch_size,
        )  # fmt: skip
        self.selection = keep_best(self.selection, self.state, scores, step)
        bar.write(f"{self.name} step {step}/{self.num_steps}: validation "
                  f"{fitter.task.score_name} {float(scalars['val/score']):.3f}")  # fmt: skip
        fitter.writer.write(self.name, step, scalars)

    def finish(self) -> dict:
        """The round's test record, predicted by the selected models."""
        self.checkpointer.close()
        fitter, selection = self.fitter, self.selection
        record = {"selected_step": np.asarray(selection["step"]),
                  "selected_score": np.asarray(selection["score"], np.float64)}  # fmt: skip
        positives = (
            fitter.task.validation_positives(self.val_targets) if len(self.val_data) else None
        )
        if positives is not None:
            record["validation_positives"] = positives
        test_data, test_targets = evaluate.side(
            fitter.data, fitter.targets, self.round, "test", self.config.input
        )
        record.update(evaluate.test_record(
            fitter.task, fitter.steps.predict, selection, test_data, test_targets,
            self.train_targets, fitter.mesh, self.config.train.eval_batch_size,
        ))  # fmt: skip
        return record


def _step_until_done(runs: list[RoundRun], steps: Steps) -> None:
    name = runs[0].name if len(runs) == 1 else f"{runs[0].name}..{runs[-1].name}"
    bar = tqdm(total=sum(r.num_steps for r in runs), initial=sum(r.step for r in runs), desc=name)
    while not all(run.done for run in runs):
        running = [not run.done for run in runs]
        batches = [run.batch() for run in runs]
        hparams = [run.hparams() for run in runs]
        tick = time.perf_counter()
        if len(runs) == 1:
            states, losses, finite = steps.train_step(runs[0].state, batches[0], hparams[0])
            states, losses, finite = [states], [losses], [finite]
        else:
            states, losses, finite = steps.folds_step(
                [run.state for run in runs], batches, hparams, np.array(running)
            )
        losses, finite = np.asarray(losses), np.asarray(finite)  # waits for the step
        step_time = time.perf_counter() - tick
        for k, run in enumerate(runs):
            if running[k]:
                run.after_step(states[k], losses[k], finite[k], hparams[k], step_time, bar)
            else:
                run.state = states[k]  # unchanged (its buffers were donated)
        bar.update(sum(running))
    bar.close()


def _names(persons: list[str]) -> str:
    return ", ".join(persons[:10]) + (", ..." if len(persons) > 10 else "")


def check_init_subjects(init_from: str, round_, clips) -> None:
    """Refuses to start a round from a previous run (``init_from=WORKDIR``) whose model was
    shaped by a person this round tests: trained or selected on, trained on as its auxiliary
    database, or any of that by a run it started from in turn (the whole ``init_from`` chain,
    :func:`mejax.weights.init_from.run_lineage`). The test would no longer be subject
    independent. Persons are compared by database and subject (:attr:`ClipSet.people`), as the
    source rounds recorded them (``ROUND/subjects.json``); a run without that record is not
    checked (logged).

    Raises:
      ValueError: naming each run of the chain, how it saw them and the persons.
    """
    lineage = init_weights.run_lineage(init_from)
    if lineage is None:
        if init_from and Path(init_from).expanduser().is_dir():
            logging.warning("init_from=%s: the run records no subjects; not checked against "
                            "round %s's test subjects", init_from, round_.name)  # fmt: skip
        return
    tested = {clips.people[i] for i in round_.indices("test", clips)}
    how = {"train": "trained or selected its model on",
           "auxiliary": "trained, as its auxiliary database (aux_dataset), on"}  # fmt: skip
    found = []
    for depth, (source_dir, sides) in enumerate(lineage.items()):
        which = source_dir if depth == 0 else f"{source_dir} (a run the source started from)"
        seen = set(sides["train"]) | set(sides["validation"])
        for side, persons in (("train", seen), ("auxiliary", set(sides["auxiliary"]))):
            shared = sorted(persons & tested)
            if shared:
                found.append(f"{which} {how[side]} {len(shared)} subject(s) that round "
                             f"{round_.name} tests ({_names(shared)})")  # fmt: skip
    if found:
        raise ValueError(
            f"init_from={init_from}: " + "; ".join(found) + ". The test would not be "
            "subject-independent. Start from a run that never saw them (e.g. a pre-training on "
            "another database, or a run of the same protocol round), or drop init_from."
        )


def check_aux_subjects(config, round_, clips, aux_people) -> None:
    """Refuses to train a round with an auxiliary database (``config.aux_dataset``) that holds
    a person the round tests, compared by database and subject (:attr:`ClipSet.people`; a
    person is matched across databases only as the database and subject name it).

    Raises:
      ValueError: naming the auxiliary database and the persons.
    """
    if not aux_people:
        return
    tested = {clips.people[i] for i in round_.indices("test", clips)}
    shared = sorted(set(aux_people) & tested)
    if shared:
        name = config.get("aux_dataset", {}).get("name", "")
        raise ValueError(
            f"aux_dataset {name}: holds {len(shared)} subject(s) that round {round_.name} tests "
            f"({_names(shared)}); its clips would train on the test persons. Use an auxiliary "
            "database without them (e.g. another database than the run's), or drop aux_dataset."
        )


def keep_best(selection: dict, state: dict, scores: np.ndarray, step: int) -> dict:
    """Keeps, for each model separately, the parameters of its best validation score
    (``task.validation_scores``: its AU's F1, the average F1 of the multi-task model, the UF1 of
    a recognition model); a score of inf (no validation side) always takes the new state."""
    scores = np.asarray(scores)
    better = (scores > np.asarray(selection["score"])) | np.isinf(scores)

    def pick(best, current):
        mask = jnp.asarray(better).reshape((-1,) + (1,) * (current.ndim - 1))
        return jnp.where(mask, current, best)

    return {
        "params": jax.tree.map(pick, selection["params"], state["params"]),
        "batch_stats": jax.tree.map(pick, selection["batch_stats"], state["batch_stats"]),
        "score": np.where(better, np.where(np.isinf(scores), np.nan, scores), selection["score"]),
        "step": np.where(better, step, selection["step"]).astype(np.int32),
    }


# =============================================================================================
# The fitter of the deep models
# =============================================================================================


def default_models_per_step(num_models: int) -> int:
    """All models in one vmap on accelerators; one at a time on CPU (see module docstring)."""
    return 1 if jax.default_backend() == "cpu" else num_models


class DeepFitter:
    """The per-round fitter of a deep model (:mod:`mejax.experiment`): trains, selects and
    predicts the test side of its rounds, ``train.folds_per_step`` of them at a time.

    Its attributes, set by :meth:`prepare`, are what every round shares: the run's clips and
    targets, the task, the auxiliary database's clips (``aux``, (inputs, targets) or None) and
    persons, the device mesh, the jitted steps and the metric writer.
    """

    selected_label, selected_key = "step", "selected_step"

    @staticmethod
    def method(config) -> str:
        """What the run fits, in a word or two (the console's first line)."""
        return config.model.name

    def __init__(self, config: ml_collections.ConfigDict):
        sharding.check_batch_size(config.train.batch_size)
        sharding.check_batch_size(config.train.eval_batch_size, "train.eval_batch_size")
        self.config = config
        self.init_from = pretrained.source(config.get("init_from", ""))

    def load(self):
        """The clips of the run's database (its preprocessed inputs)."""
        return input_pipeline.load(self.config)

    def prepare(self, task: tasks.ClipTask, data, targets: np.ndarray, workdir: Path) -> None:
        """Loads the auxiliary database and builds the model and its jitted steps."""
        config = self.config
        self.task, self.data, self.targets, self.workdir = task, data, targets, workdir
        aux, self.aux_people = input_pipeline.load_aux(config), []
        if aux is not None:
            self.aux_people = sorted(set(aux.people))  # every person of it, taking part or not
            aux_data, aux_targets = task.take_part(aux)
            aux = (aux_data.inputs, aux_targets)
        self.aux = aux
        model = models.build(config.model, task.outputs_per_model)
        self.mesh = sharding.data_mesh()
        chunk = config.train.models_per_step or default_models_per_step(task.num_models)
        tx = optim.make_optimizer(config.optimizer)
        self.steps = make_steps(model, task, tx, self.mesh, chunk, config.input, self.init_from)
        self.writer = reporting.MetricWriter(workdir)
        if jax.process_index() == 0:  # the clips' motion, which mejax.predict compares with
            from mejax import predict

            predict.record_training_motion(config, workdir)
        logging.info("%d devices, %d models, %d per step", jax.device_count(), task.num_models,
                     chunk)  # fmt: skip

    def fit(self, pending: list[tuple[int, protocols.Round]]):
        """Yields (index, test record) of each pending round as its group finishes.

        A group of one round runs the steps of :func:`make_steps`; a larger group
        (``train.folds_per_step``) runs every step of all its rounds as one program (their
        states stacked and ``vmap``ped, each round with its own batches, schedule and
        hyper-parameters; a round that has finished its schedule waits, its result of the step
        dropped). Each round keeps its own validation, selection and checkpoints, as if it ran
        alone.
        """
        per_step = self.config.train.get("folds_per_step", 1)
        for start in range(0, len(pending), per_step):
            runs = [
                RoundRun(self, round_, index) for index, round_ in pending[start : start + per_step]
            ]
            _step_until_done(runs, self.steps)
            for run in runs:
                yield run.index, run.finish()

    def add_results(self, results: dict, records: list[dict]) -> None:
        """Nothing to add: the task's summary holds every deep run's figures."""

    def close(self) -> None:
        if hasattr(self, "writer"):
            self.writer.close()
