"""The training loop: one experiment from config to ``results.md``, whatever the task.

The loop knows no AU and no class: the task (:mod:`mejax.tasks`) gives the targets of the run's
clips, how many models are stacked and what each learns, the loss of a batch dict (``inputs``,
``targets``, ``domain``), the validation score that selects each model and the reports. Per-step
values travel in an ``hparams`` dict handed to every step: ``learning_rate`` (the optimizer's
schedule; one rate per parameter group with ``optimizer.groups``), the task's per-round
constants (e.g. class weights) and per-step values (:meth:`~mejax.tasks.Task.step_hparams`;
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
"""

from __future__ import annotations

import functools
import json
import time
import zipfile
import zlib
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from absl import logging
from tqdm.auto import tqdm

from mejax import (
    checkpointing,
    config_checks,
    evaluate,
    input_pipeline,
    models,
    optim,
    paper_sets,
    presets,
    protocols,
    reporting,
    sharding,
    tasks,
)
from mejax.weights import init_from as init_weights

# =============================================================================================
# Configuration checks
# =============================================================================================


def _flatten(config: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def check_workdir(config: ml_collections.ConfigDict, workdir: Path) -> None:
    """Records the config in ``workdir/config.json``; refuses a workdir of another config.

    An unreadable ``config.json`` (left by a version that wrote it in place and was killed while
    writing it, at the start of its run) is written again, with a warning.

    Raises:
      ValueError: naming every setting that differs from the one the workdir was made with.
    """
    recorded = workdir / "config.json"
    current = json.loads(config.to_json_best_effort())
    previous = _read_config(recorded)
    if previous is not None:
        previous = _flatten(previous)
        now = _flatten(current)
        differing = sorted(k for k in previous.keys() | now.keys() if previous.get(k) != now.get(k))
        if differing:
            details = "; ".join(f"{k}: {previous.get(k)!r} -> {now.get(k)!r}" for k in differing)
            raise ValueError(
                f"{workdir} holds a run of another config ({details}). Its checkpoints are left "
                "untouched; use a new --workdir, or the config it was made with to resume."
            )
    elif jax.process_index() == 0:
        reporting.write_text(recorded, json.dumps(current, indent=2, sort_keys=True))


def _read_config(recorded: Path) -> dict | None:
    """The config recorded in ``recorded``, or None if there is none or it is unreadable."""
    if not recorded.exists():
        return None
    try:
        return json.loads(recorded.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        logging.warning("%s is unreadable (cut short); writing it again", recorded)
        return None


# =============================================================================================
# Steps (pure, jitted)
# =============================================================================================


def make_steps(model, task: tasks.Task, tx: optax.GradientTransformation, mesh, chunk: int,
               input_config, init_from: str = ""):  # fmt: skip
    """``init``, ``train_step`` and ``predict`` of the stacked models of ``task``.

    ``train_step`` and ``predict`` run jitted, vmapped programs on chunks of ``chunk`` models;
    inputs are normalised inside them (:func:`mejax.input_pipeline.normalize` with
    ``input_config``); ``init_from`` (``config.init_from``: pretrained weights or a previous
    run, see :mod:`mejax.weights.init_from`) replaces the random initial variables of every
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

    def train_chunk(models, batch, index, step, hparams):
        batch = {**batch, "inputs": _normalize(batch["inputs"])}
        targets = task.stack_targets(batch["targets"])[index]
        return jax.vmap(
            lambda m, t: train_one(m, {**batch, "targets": t}, step, hparams)
        )(models, targets)  # fmt: skip

    train_chunk = jax.jit(train_chunk, donate_argnums=0, out_shardings=replicated)

    def train_step(state, batch, hparams):
        """One step of every model; returns (new state, (M,) losses, (M,) finite flags)."""
        models = {k: state[k] for k in ("params", "batch_stats", "opt_state", "rng")}
        num_models = len(state["rng"])
        outputs = []
        for start in range(0, num_models, chunk):
            part = models
            if chunk < num_models:
                part = jax.tree.map(lambda x, s=start: x[s : s + chunk], models)
            index = np.arange(start, min(start + chunk, num_models), dtype=np.int32)
            outputs.append(train_chunk(part, batch, index, state["step"], hparams))
        new, loss, finite = (
            outputs[0] if len(outputs) == 1
            else jax.tree.map(lambda *xs: jnp.concatenate(xs), *outputs)
        )  # fmt: skip
        return {**state, **new, "step": state["step"] + 1}, loss, finite

    @functools.partial(jax.jit, out_shardings=replicated)
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

    return init, train_step, predict


# =============================================================================================
# One round of the protocol
# =============================================================================================


def predict_outputs(predict, params, batch_stats, inputs: np.ndarray, mesh, batch_size):
    """Outputs (M, N, ...) of the M stacked models for every clip of ``inputs`` (NumPy)."""
    chunks = []
    for batch, real in input_pipeline.eval_batches(inputs, batch_size):
        outputs = predict(params, batch_stats, sharding.global_batch(mesh, batch))
        chunks.append(jax.tree.map(lambda x, r=real: np.asarray(x)[:, :r], outputs))
    return jax.tree.map(lambda *xs: np.concatenate(xs, axis=1), *chunks)


def _side(context: dict, round_: protocols.Round, side: str, config):
    """(clips, targets) of one side of a round; evaluation sides are centre-cropped, and with
    augmented flows (``input.flow_augment``) take each clip's plain flow."""
    index = round_.indices(side, context["data"])
    clips, targets = context["data"].take(index), context["targets"][index]
    crop = config.input.get("crop_size", 0)
    if crop and side != "train" and len(clips):
        clips.inputs = input_pipeline.center_crop(clips.inputs, crop)
    if config.input.get("flow_augment", "") and side != "train":
        clips.inputs, _ = input_pipeline.augmented_side(clips.inputs, targets, train=False)
    return clips, targets


def train_round(config, round_, index: int, context: dict) -> dict:
    """Trains, selects and predicts the test clips of one round.

    Returns the round's test record (the task's, plus the selected step and validation score of
    every model) and saves it as ``ROUND/predictions.npz``; a round whose record exists is not
    run again.
    """
    workdir, task, mesh = context["workdir"], context["task"], context["mesh"]
    init, train_step, predict = context["steps"]
    round_dir = workdir / round_.name
    record_file = round_dir / "predictions.npz"
    record = _read_record(record_file)
    if record is not None:
        logging.info("%s already finished: %s", round_.name, record_file)
        return record

    crop = config.input.get("crop_size", 0)
    train_data, train_targets = _side(context, round_, "train", config)
    val_data, val_targets = _side(context, round_, "validation", config)
    check_init_subjects(config.get("init_from", ""), round_, context["data"])
    if jax.process_index() == 0:
        round_dir.mkdir(parents=True, exist_ok=True)
        seen = {"train": sorted(set(train_data.people)), "validation": sorted(set(val_data.people))}
        reporting.write_text(round_dir / init_weights.SUBJECTS_FILE, json.dumps(seen, indent=1))
    task.check_training(train_targets, round_.name)
    inputs, targets = train_data.inputs, train_targets
    if config.input.get("flow_augment", ""):
        inputs, targets = input_pipeline.augmented_side(inputs, targets, train=True)
    balance = config.train.get("balance_classes", False)
    batches = input_pipeline.TrainBatches(
        inputs,
        targets,
        config.train.batch_size,
        seed=config.seed + index,
        flip=config.input.flip,
        crop=crop,
        balance_classes=task.class_column(targets) if balance else None,
        aux=context["aux"],
        aux_ratio=config.get("aux_dataset", {}).get("ratio", 0.0),
        crop_mode=config.input.get("crop_mode", "random"),
        photometric=config.input.get("photometric", {}),
    )
    num_steps = config.train.num_epochs * batches.steps_per_epoch
    eval_every = config.train.eval_every_epochs * batches.steps_per_epoch
    round_hparams = task.round_hparams(train_targets)

    keys = jax.random.split(jax.random.PRNGKey(config.seed + 1000 * index), task.num_models)
    state = init(keys, batches(0)["inputs"][:1])
    selection = {  # copies: the train step donates (deletes) the state's buffers
        "params": jax.tree.map(jnp.copy, state["params"]),
        "batch_stats": jax.tree.map(jnp.copy, state["batch_stats"]),
        "score": np.full(task.num_models, -1.0),
        "step": np.zeros(task.num_models, np.int32),
    }
    checkpointer = checkpointing.Checkpointer(round_dir / "checkpoints")
    if checkpointer.latest_step() is not None:
        restored = checkpointer.restore({"state": state, "selection": selection})
        state, selection = restored["state"], restored["selection"]
        logging.info("%s: resumed from step %d", round_.name, int(state["step"]))

    learning_rates = optim.make_learning_rates(config.optimizer, num_steps, batches.steps_per_epoch)
    start = int(state["step"])
    context["writer"].drop_after(round_.name, start)  # steps logged after the last checkpoint
    bar = tqdm(range(start, num_steps), initial=start, total=num_steps, desc=round_.name)
    for step in bar:
        batch = jax.tree.map(functools.partial(sharding.global_batch, mesh), batches(step))
        hparams = {
            "learning_rate": learning_rates(step),  # a dict group -> rate with groups
            **round_hparams,
            **task.step_hparams(step / num_steps),
        }
        tick = time.perf_counter()
        state, loss, finite = train_step(state, batch, hparams)
        loss, finite = np.asarray(loss), np.asarray(finite)
        step_time = time.perf_counter() - tick
        if not (np.all(np.isfinite(loss)) and np.all(finite)):
            ok = np.isfinite(loss) & finite
            bad = [n for n, good in zip(task.model_names, ok, strict=True) if not good]
            raise FloatingPointError(
                f"{round_.name}: non-finite loss or parameters at step {step} for {bad} "
                f"(losses {loss.tolist()}). Stopped without saving; the last checkpoint "
                f"(step {checkpointer.latest_step()}) in {round_dir / 'checkpoints'} is intact. "
                "Lower optimizer.learning_rate or check the input."
            )
        bar.set_postfix(loss=f"{loss.mean():.4f}", step_s=f"{step_time:.2f}")
        if (step + 1) % config.train.log_every_steps == 0:
            scalars = {"loss": loss.mean()}
            rates = hparams["learning_rate"]
            if isinstance(rates, dict):  # parameter groups: one rate each
                scalars.update({f"learning_rate/{g}": v for g, v in rates.items()})
            else:
                scalars["learning_rate"] = rates
            scalars["step_time"] = step_time
            scalars.update({f"loss/{n}": v for n, v in zip(task.model_names, loss, strict=True)})
            context["writer"].write(round_.name, step + 1, scalars)
        if (step + 1) % eval_every == 0 or step + 1 == num_steps:
            if len(val_data):
                outputs = predict_outputs(
                    predict, state["params"], state["batch_stats"], val_data.inputs, mesh,
                    config.train.eval_batch_size,
                )  # fmt: skip
                scores, scalars = task.validation_scores(outputs, val_targets)
                selection = select(selection, state, scores, step + 1)
                bar.write(f"{round_.name} step {step + 1}/{num_steps}: validation "
                          f"{task.score_name} {float(scalars['val/score']):.3f}")  # fmt: skip
                context["writer"].write(round_.name, step + 1, scalars)
            else:  # train.selection=last: the model of the last step
                selection = select(selection, state, np.full(task.num_models, np.inf), step + 1)
            checkpointer.save(step + 1, {"state": state, "selection": selection})
    bar.close()
    checkpointer.close()

    record = {"selected_step": np.asarray(selection["step"]),
              "selected_score": np.asarray(selection["score"], np.float64)}  # fmt: skip
    positives = task.validation_positives(val_targets) if len(val_data) else None
    if positives is not None:
        record["validation_positives"] = positives
    test_data, test_targets = _side(context, round_, "test", config)
    if len(test_data):
        outputs = predict_outputs(
            predict, selection["params"], selection["batch_stats"], test_data.inputs, mesh,
            config.train.eval_batch_size,
        )  # fmt: skip
        record.update(task.record(outputs, test_targets, test_data, train_targets))
    else:
        record.update(names=np.zeros(0, str), labels=np.zeros(0, np.int64))
    if jax.process_index() == 0:
        reporting.savez(record_file, **record)
    return record


def check_init_subjects(init_from: str, round_, clips) -> None:
    """Refuses to start a round from a previous run (``init_from=WORKDIR``) that trained or
    selected its model on a person this round tests: the test would no longer be subject
    independent. Persons are compared by database and subject (:attr:`ClipSet.people`), as the
    source round recorded them (``ROUND/subjects.json``); a run without that record is not
    checked (logged)."""
    source = init_weights.run_subjects(init_from)
    if source is None:
        if init_from and Path(init_from).expanduser().is_dir():
            logging.warning("init_from=%s: the run records no subjects; not checked against "
                            "round %s's test subjects", init_from, round_.name)  # fmt: skip
        return
    source_dir, seen = source
    tested = {clips.people[i] for i in round_.indices("test", clips)}
    shared = sorted(seen & tested)
    if shared:
        raise ValueError(
            f"init_from={init_from}: {source_dir} trained or selected its model on "
            f"{len(shared)} subject(s) that round {round_.name} tests ({', '.join(shared[:10])}"
            f"{', ...' if len(shared) > 10 else ''}); the test would not be subject-independent. "
            "Start from a run that never saw them (e.g. a pre-training on another database, or "
            "a run of the same protocol round), or drop init_from."
        )


def _read_record(record_file: Path) -> dict | None:
    """The test record of a finished round, or None: not finished, or its file is unreadable
    (then it is removed, and the round predicts again from its last checkpoint)."""
    if not record_file.exists():
        return None
    try:
        with np.load(record_file) as npz:
            return {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as error:
        logging.warning("%s is unreadable (%s); predicting again", record_file, error)
        if jax.process_index() == 0:
            record_file.unlink()
        return None


def select(selection: dict, state: dict, scores: np.ndarray, step: int) -> dict:
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
# The experiment
# =============================================================================================


def default_models_per_step(num_models: int) -> int:
    """All models in one vmap on accelerators; one at a time on CPU (see module docstring)."""
    return 1 if jax.default_backend() == "cpu" else num_models


def run(config: ml_collections.ConfigDict, workdir: str | Path) -> dict:
    """Runs the experiment of ``config`` in ``workdir`` (resuming what is there).

    The config is checked first (:func:`mejax.config_checks.check`), and the workdir is locked
    while the run lasts (:func:`mejax.checkpointing.workdir_lock`: a second run is refused).

    Returns:
      The results written to ``workdir/results.json``.
    """
    config_checks.check(config, workdir)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    with checkpointing.workdir_lock(workdir):
        return _run_in(config, workdir)


def _run_in(config: ml_collections.ConfigDict, workdir: Path) -> dict:
    """:func:`run` in a checked, locked ``workdir``."""
    check_workdir(config, workdir)
    sharding.check_batch_size(config.train.batch_size)
    sharding.check_batch_size(config.train.eval_batch_size, "train.eval_batch_size")
    clips = paper_sets.select(input_pipeline.load(config), config.task)
    task = tasks.build(config.task, clips)
    data, targets = task.take_part(clips)
    aux = input_pipeline.load_aux(config)
    if aux is not None:
        aux_data, aux_targets = task.take_part(aux)
        aux = (aux_data.inputs, aux_targets)
    rounds = protocols.build(
        config.protocol, data, config.seed, config.train.get("selection", "validation")
    )
    model = models.build(config.model, task.outputs_per_model)
    mesh = sharding.data_mesh()
    chunk = config.train.models_per_step or default_models_per_step(task.num_models)
    tx = optim.make_optimizer(config.optimizer)
    context = {
        "workdir": workdir,
        "task": task,
        "mesh": mesh,
        "data": data,
        "targets": targets,
        "aux": aux,
        "steps": make_steps(
            model,
            task,
            tx,
            mesh,
            chunk,
            config.input,
            presets.init_source(config.get("init_from", "")),
        ),  # fmt: skip
        "writer": reporting.MetricWriter(workdir),
    }
    logging.info("%d devices, %d models, %d per step", jax.device_count(), task.num_models, chunk)
    try:
        records = [train_round(config, r, i, context) for i, r in enumerate(rounds)]
    finally:
        context["writer"].close()
    results = task.summarize(records, rounds, config)
    if jax.process_index() == 0:
        evaluate.write_reports(workdir, results, task)
    return results
