"""The training loop: one AU-detection experiment from config to ``results.md``.

STAP / STAPF / I3D / I3DF (Li, Huang, Zhao, arXiv:1907.05023): K independent binary AU models
trained together, the subject-independent protocol of ``protocols.py``, per-AU model selection on
validation subjects only, per-AU F1 on test subjects pooled over the rounds. SCA (Li, Huang,
Zhao, Neurocomputing 2021) is the same loop with one multi-task model (``tasks.AUMultiTask``,
selected on the average validation F1): the task decides how many models are stacked.

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
    evaluate,
    input_pipeline,
    models,
    optim,
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

    Raises:
      ValueError: naming every setting that differs from the one the workdir was made with.
    """
    recorded = workdir / "config.json"
    current = json.loads(config.to_json_best_effort())
    if recorded.exists():
        previous = _flatten(json.loads(recorded.read_text()))
        now = _flatten(current)
        differing = sorted(k for k in previous.keys() | now.keys() if previous.get(k) != now.get(k))
        if differing:
            details = "; ".join(f"{k}: {previous.get(k)!r} -> {now.get(k)!r}" for k in differing)
            raise ValueError(
                f"{workdir} holds a run of another config ({details}). Its checkpoints are left "
                "untouched; use a new --workdir, or the config it was made with to resume."
            )
    elif jax.process_index() == 0:
        recorded.write_text(json.dumps(current, indent=2, sort_keys=True))


# =============================================================================================
# Steps (pure, jitted)
# =============================================================================================


def model_input(clips: jnp.ndarray, subtract_onset: bool) -> jnp.ndarray:
    """uint8 clips (B, T, H, W, 3) -> float32 in [-1, 1], the I3D input range.

    With ``subtract_onset`` every frame becomes its difference from the clip's first frame
    (the onset, at rest), so the network sees the facial change rather than the face.
    """
    x = clips.astype(jnp.float32) / 127.5 - 1.0
    return x - x[:, :1] if subtract_onset else x


def make_steps(
    model,
    task: tasks.AUTask,
    tx: optax.GradientTransformation,
    mesh,
    chunk: int,
    subtract_onset: bool = False,
    init_from: str = "",
):
    """``init``, ``train_step`` and ``predict`` of the stacked models of ``task``.

    ``train_step`` and ``predict`` run jitted, vmapped programs on chunks of ``chunk`` models;
    ``subtract_onset`` is passed to :func:`model_input`; ``init_from`` (``config.init_from``:
    pretrained weights or a previous run, see :mod:`mejax.weights.init_from`) replaces the
    random initial variables of every model, each model taking its own AU's from a previous
    one-vs-rest run.
    """
    replicated = sharding.replicated(mesh)
    _normalize = functools.partial(model_input, subtract_onset=subtract_onset)

    @jax.jit
    def init_variables(key, clips):
        variables = model.init({"params": key, "dropout": key}, _normalize(clips), train=False)
        return {"params": variables["params"], "batch_stats": variables["batch_stats"]}

    def init_one(key, clips, au):
        variables = init_variables(key, clips)
        if init_from:
            variables, report = init_weights.initialize(variables, init_from, au=au)
            logging.info("init_from %s:\n%s", init_from, report.summary())
        return {**variables, "opt_state": jax.jit(tx.init)(variables["params"])}

    def init(keys, clips):
        # One model at a time: XLA compiles a vmapped init (grouped convolutions it then
        # discards) for minutes on CPU; the stacked result is the same. Given fewer keys than
        # the task has models (a subset run separately), no model is tied to an AU.
        aus = task.model_aus if len(keys) == task.num_models else [None] * len(keys)
        models = [init_one(key, clips, au) for key, au in zip(keys, aus, strict=True)]
        state = jax.tree.map(lambda *leaves: jnp.stack(leaves), *models)
        state = {"step": jnp.zeros((), jnp.int32), "rng": jnp.copy(keys), **state}
        return jax.device_put(state, replicated)

    def train_one(model_state, clips, step, learning_rate):
        def loss_fn(params):
            logits, updates = model.apply(
                {"params": params, "batch_stats": model_state["batch_stats"]},
                clips,
                train=True,
                rngs={"dropout": jax.random.fold_in(model_state["rng"], step)},
                mutable=["batch_stats"],
            )
            return task.model_loss(logits, model_state["labels"]), updates["batch_stats"]

        (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            model_state["params"]
        )
        opt_state = model_state["opt_state"]
        opt_state.hyperparams["learning_rate"] = learning_rate
        updates, opt_state = tx.update(grads, opt_state, model_state["params"])
        params = optax.apply_updates(model_state["params"], updates)
        finite = jnp.all(jnp.array([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(params)]))
        new = {"params": params, "batch_stats": batch_stats, "opt_state": opt_state}
        return {**new, "rng": model_state["rng"]}, loss, finite

    def train_chunk(models, clips, labels, step, learning_rate):
        clips = _normalize(clips)
        return jax.vmap(lambda m, y: train_one({**m, "labels": y}, clips, step, learning_rate))(
            models, task.stack_labels(labels)
        )

    train_chunk = jax.jit(train_chunk, donate_argnums=0, out_shardings=replicated)

    def train_step(state, clips, labels, learning_rate):
        """One step of every model; returns (new state, (K,) losses, (K,) finite flags)."""
        models = {k: state[k] for k in ("params", "batch_stats", "opt_state", "rng")}
        num_models = len(state["rng"])
        if chunk >= num_models:
            new, loss, finite = train_chunk(models, clips, labels, state["step"], learning_rate)
            return {**state, **new, "step": state["step"] + 1}, loss, finite
        outputs = []
        for start in range(0, num_models, chunk):
            part = jax.tree.map(lambda x, s=start: x[s : s + chunk], models)
            outputs.append(
                train_chunk(part, clips, labels[:, start : start + chunk], state["step"],
                            learning_rate)
            )  # fmt: skip
        new, loss, finite = jax.tree.map(lambda *xs: jnp.concatenate(xs), *outputs)
        return {**state, **new, "step": state["step"] + 1}, loss, finite

    @functools.partial(jax.jit, out_shardings=replicated)
    def predict_chunk(variables, clips):
        clips = _normalize(clips)
        return jax.vmap(lambda v: model.apply(v, clips, train=False))(variables)

    def predict(params, batch_stats, clips):
        """(K, B, 2) logits of every model."""
        variables = {"params": params, "batch_stats": batch_stats}
        parts = [
            predict_chunk(jax.tree.map(lambda x, s=start: x[s : s + chunk], variables), clips)
            for start in range(0, len(jax.tree.leaves(params)[0]), chunk)
        ]
        return jnp.concatenate(parts)

    return init, train_step, predict


# =============================================================================================
# One round of the protocol
# =============================================================================================


def predict_logits(predict, params, batch_stats, data: input_pipeline.ClipSet, mesh, batch_size):
    """(M, N, outputs) logits of every clip of ``data`` by the M stacked models."""
    chunks = []
    for clips, real in input_pipeline.eval_batches(data.clips, batch_size):
        logits = predict(params, batch_stats, sharding.global_batch(mesh, clips))
        chunks.append(np.asarray(logits)[:, :real])
    return np.concatenate(chunks, axis=1)


def train_round(config, round_: protocols.Round, index: int, context: dict) -> dict:
    """Trains, selects on validation and predicts the test subjects of one round.

    Returns the round's test record (clip names, labels, predictions, scores) and saves it as
    ``ROUND/predictions.npz``; a round whose record exists is not run again.
    """
    workdir, task, mesh = context["workdir"], context["task"], context["mesh"]
    init, train_step, predict = context["steps"]
    round_dir = workdir / round_.name
    record_file = round_dir / "predictions.npz"
    if record_file.exists():
        logging.info("%s already finished: %s", round_.name, record_file)
        return dict(np.load(record_file))

    crop = config.input.get("crop_size", 0)

    def load(side):
        data = input_pipeline.load_clips(
            context["builder"],
            round_.split(side),
            config.input.num_frames,
            config.input.image_size,
            config.input.get("temporal_model", "linear"),
        )
        if crop and side != "train":
            data.clips = input_pipeline.center_crop(data.clips, crop)
        return data

    train_data, val_data = load("train"), load("validation")
    batches = input_pipeline.TrainBatches(
        train_data,
        task.labels(train_data.aus),
        config.train.batch_size,
        seed=config.seed + index,
        flip=config.input.flip,
        crop=crop,
    )
    num_steps = config.train.num_epochs * batches.steps_per_epoch
    eval_every = config.train.eval_every_epochs * batches.steps_per_epoch
    val_labels = task.labels(val_data.aus)

    keys = jax.random.split(jax.random.PRNGKey(config.seed + 1000 * index), task.num_models)
    state = init(keys, batches(0)[0][:1])
    selection = {  # copies: the train step donates (deletes) the state's buffers
        "params": jax.tree.map(jnp.copy, state["params"]),
        "batch_stats": jax.tree.map(jnp.copy, state["batch_stats"]),
        "f1": np.full(task.num_models, -1.0),
        "step": np.zeros(task.num_models, np.int32),
    }
    checkpointer = checkpointing.Checkpointer(round_dir / "checkpoints")
    if checkpointer.latest_step() is not None:
        restored = checkpointer.restore({"state": state, "selection": selection})
        state, selection = restored["state"], restored["selection"]
        logging.info("%s: resumed from step %d", round_.name, int(state["step"]))

    schedule = optim.make_schedule(config.optimizer, num_steps, batches.steps_per_epoch)
    start = int(state["step"])
    bar = tqdm(range(start, num_steps), initial=start, total=num_steps, desc=round_.name)
    for step in bar:
        clips, labels = batches(step)
        tick = time.perf_counter()
        state, loss, finite = train_step(
            state,
            sharding.global_batch(mesh, clips),
            sharding.global_batch(mesh, labels),
            np.float32(schedule(step)),
        )
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
            scalars = {"loss": loss.mean(), "learning_rate": schedule(step), "step_time": step_time}
            scalars.update({f"loss/{n}": v for n, v in zip(task.model_names, loss, strict=True)})
            context["writer"].write(round_.name, step + 1, scalars)
        if (step + 1) % eval_every == 0 or step + 1 == num_steps:
            logits = predict_logits(
                predict, state["params"], state["batch_stats"], val_data, mesh,
                config.train.eval_batch_size,
            )  # fmt: skip
            f1 = evaluate.metrics.f1_per_au(val_labels, task.predictions(logits))
            selection = select(selection, state, task.model_scores(f1), step + 1)
            scalars = {f"val_f1/{n}": v for n, v in zip(task.names, f1, strict=True)}
            scalars["val_f1/avg"] = f1.mean()
            context["writer"].write(round_.name, step + 1, scalars)
            checkpointer.save(step + 1, {"state": state, "selection": selection})
    bar.close()
    checkpointer.close()

    test_data = load("test")
    logits = predict_logits(
        predict, selection["params"], selection["batch_stats"], test_data, mesh,
        config.train.eval_batch_size,
    )  # fmt: skip
    record = {
        "names": np.asarray(test_data.names),
        "labels": task.labels(test_data.aus),
        "predictions": task.predictions(logits),
        "scores": task.scores(logits),
        "selected_step": task.per_au(selection["step"]),
        "val_f1": task.per_au(selection["f1"]),
    }
    if jax.process_index() == 0:
        np.savez(record_file, **record)
    return record


def select(selection: dict, state: dict, scores: np.ndarray, step: int) -> dict:
    """Keeps, for each model separately, the parameters of its best validation score
    (``task.model_scores``: its AU's F1, or the average F1 of the multi-task model)."""
    better = scores > np.asarray(selection["f1"])

    def pick(best, current):
        mask = jnp.asarray(better).reshape((-1,) + (1,) * (current.ndim - 1))
        return jnp.where(mask, current, best)

    return {
        "params": jax.tree.map(pick, selection["params"], state["params"]),
        "batch_stats": jax.tree.map(pick, selection["batch_stats"], state["batch_stats"]),
        "f1": np.where(better, scores, selection["f1"]),
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

    Returns:
      The results written to ``workdir/results.json``.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    check_workdir(config, workdir)
    sharding.check_batch_size(config.train.batch_size)
    sharding.check_batch_size(config.train.eval_batch_size, "train.eval_batch_size")
    task = tasks.build(config.task)
    model = models.build(config.model, task.outputs_per_model)
    builder = input_pipeline.database_builder(config.dataset)
    rounds = protocols.PROTOCOLS[config.protocol.name](
        input_pipeline.subjects(builder), tuple(config.protocol.rounds)
    )
    mesh = sharding.data_mesh()
    chunk = config.train.models_per_step or default_models_per_step(task.num_models)
    tx = optim.make_optimizer(config.optimizer)
    context = {
        "workdir": workdir,
        "task": task,
        "mesh": mesh,
        "builder": builder,
        "steps": make_steps(
            model,
            task,
            tx,
            mesh,
            chunk,
            config.input.get("subtract_onset", False),
            config.get("init_from", ""),
        ),
        "writer": reporting.MetricWriter(workdir),
    }
    logging.info(
        "%d devices, %d AU models, %d per step", jax.device_count(), task.num_models, chunk
    )
    try:
        records = [train_round(config, r, i, context) for i, r in enumerate(rounds)]
    finally:
        context["writer"].close()
    results = evaluate.summarize(task.names, rounds, records, config)
    if jax.process_index() == 0:
        evaluate.write_reports(workdir, results)
    return results
