"""The training loop: one-vs-rest arithmetic, resume after SIGKILL, data parallelism, bad input."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from mejax import (
    experiment,
    input_pipeline,
    optim,
    run_files,
    sharding,
    tasks,
    train,
)
from mejax.models import compiler, layers
from mejax.models.batch_norm import BatchNorm
from tests import tiny_configs

REPO = Path(__file__).resolve().parents[1]


def tiny_config(data_dir, **overrides):
    config = tiny_configs.tiny("stapf").unlock()
    config.dataset.data_dir = str(data_dir)
    config.update_from_flattened_dict(overrides)
    return config.lock()


def stacked_steps(aus, chunk):
    """mejax's steps for one-vs-rest models of ``aus`` of ConvBN (below), a convolutional model
    with BatchNorm that compiles in moments."""
    config = tiny_config("")
    task = tasks.AUOneVsRest(aus, "focal", {"alpha": 0.25, "gamma": 2.0})
    tx = optim.make_optimizer(config.optimizer)
    return train.make_steps(ConvBN(), task, tx, sharding.data_mesh(), chunk, config.input)


def test_normalize_scales_and_subtracts_the_onset():
    clips = np.zeros((2, 3, 4, 4, 3), np.uint8)
    clips[:, 0] = 100
    clips[:, 1:] = 102
    plain = ml_collections.ConfigDict({"subtract_onset": False})
    onset = ml_collections.ConfigDict({"subtract_onset": True})
    np.testing.assert_allclose(
        input_pipeline.normalize(clips, plain)[0, :, 0, 0, 0], [-0.2157, -0.2, -0.2], atol=1e-4
    )
    np.testing.assert_allclose(
        input_pipeline.normalize(clips, onset)[0, :, 0, 0, 0], [0, 2 / 127.5, 2 / 127.5],
        atol=1e-6,
    )  # fmt: skip
    flow = np.ones((1, 4, 4, 2), np.float32)
    uvm = ml_collections.ConfigDict({"flow_encoding": "uvm"})
    np.testing.assert_allclose(input_pipeline.normalize(flow, uvm)[0, 0, 0], [1, 1, 2**0.5])


def run_steps(steps, keys, clips, labels, num_steps=2, learning_rate=0.01):
    init, train_step, predict, _ = steps
    state = init(keys, clips[:1])
    losses = []
    batch = {"inputs": clips, "targets": labels}
    for _ in range(num_steps):
        state, loss, _ = train_step(state, batch, {"learning_rate": np.float32(learning_rate)})
        losses.append(np.asarray(loss))
    return jax.device_get(state), np.stack(losses, 1), np.asarray(predict(
        state["params"], state["batch_stats"], clips))  # fmt: skip


def test_one_vs_rest_vmap_equals_separate_runs():
    rng = np.random.default_rng(0)
    clips = rng.integers(0, 256, (4, 8, 32, 32, 3), dtype=np.uint8)
    labels = np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0]], np.int32)
    keys = jax.random.split(jax.random.PRNGKey(3), 3)
    aus = (1, 4, 12)

    # One compiled program serves every run with one model per call: the task's AU numbers
    # do not enter the arithmetic (labels come in with the batch).
    per_model = stacked_steps(aus, chunk=1)
    one_per_call = run_steps(per_model, keys, clips, labels)
    separate = [
        run_steps(per_model, keys[k : k + 1], clips, labels[:, k : k + 1]) for k in range(3)
    ]
    for k in range(3):
        # Calling the one-model program per model is exactly a separate run of that model.
        np.testing.assert_array_equal(one_per_call[1][k], separate[k][1][0])
        np.testing.assert_array_equal(one_per_call[2][k], separate[k][2][0])
        for a, b in zip(
            jax.tree.leaves(jax.tree.map(lambda x, k=k: x[k], one_per_call[0]["params"])),
            jax.tree.leaves(jax.tree.map(lambda x: x[0], separate[k][0]["params"])),
            strict=True,
        ):
            np.testing.assert_array_equal(a, b)
    # All K in one vmapped program (chunk=K) is the same computation up to float32 rounding,
    # shown in float64 by test_vmapped_one_vs_rest_is_the_same_computation_in_float64 below.
    # The models differ (other labels, other keys), so the equalities above are not trivial.
    assert np.abs(one_per_call[2][0] - one_per_call[2][1]).max() > 0.1


def test_training_and_prediction_programs_compile_with_the_model_options(monkeypatch):
    """The train, fold and predict programs go through ``mejax.models.compiler.jit`` (XLA's
    own CPU convolutions, not YNNPACK's)."""
    compiled = []

    def recording_jit(fun=None, **kwargs):
        if fun is None:
            return lambda f: recording_jit(f, **kwargs)
        compiled.append(fun.__name__)
        return jax.jit(fun, **kwargs)

    monkeypatch.setattr(compiler, "jit", recording_jit)
    stacked_steps((4,), chunk=1)
    assert sorted(compiled) == ["chunk_step", "folds_chunk", "predict_chunk"]


class PooledClassifier(nn.Module):
    """A model with the classifiers' interface that compiles in a moment."""

    @nn.compact
    def __call__(self, clips, *, train: bool):
        x = nn.BatchNorm(use_running_average=not train)(clips.mean(axis=(1, 2, 3)))
        return nn.Dense(2)(x)


def test_init_from_sets_every_models_initial_variables(tmp_path):
    from mejax.weights import npz

    model = PooledClassifier()
    clips = np.random.default_rng(1).integers(0, 256, (2, 8, 32, 32, 3), dtype=np.uint8)
    config = tiny_config("")
    inputs = input_pipeline.normalize(clips, config.input)
    pretrained = model.init(jax.random.PRNGKey(7), inputs, train=False)
    pretrained = jax.tree.map(lambda x: x + 0.5, pretrained)  # not what any key would draw
    path = npz.save(tmp_path / "pretrained.npz", dict(pretrained))
    tx = optim.make_optimizer(config.optimizer)
    init, *_ = train.make_steps(
        model, tasks.AUOneVsRest((4, 7)), tx, sharding.data_mesh(), 1, config.input, str(path)
    )
    state = init(jax.random.split(jax.random.PRNGKey(0), 2), clips[:1])
    for collection in ("params", "batch_stats"):
        for got, want in zip(
            jax.tree.leaves(state[collection]),
            jax.tree.leaves(pretrained[collection]),
            strict=True,
        ):
            for k in range(2):  # both AU models start from the file, not from their keys
                np.testing.assert_array_equal(got[k], want)


# --- The same computation, shown in float64 ------------------------------------------------------
#
# Float32 runs of one computation on 1 and 8 devices, or vmapped and looped, differ by far more
# than float32's epsilon (1.2e-7). That is float32 rounding, not another computation. Measured
# once on the tests' STAPF model (8 clips, 2 AU models, one SGD step at lr 0.01, 1 vs 8 host
# devices), with the model computing in float64 (model.dtype float64, the state cast to float64,
# JAX_ENABLE_X64):
#
#   float64, 8 devices vs 1:  losses equal, parameters within 7e-14.
#   float32, 8 devices vs 1:  losses 1.3e-5 relative apart, parameters up to 6.4e-3 apart
#                             (7,807 of 105,050 above 1e-4), most in Conv3d_1a_7x7's kernel.
#   float32 against float64:  1 device 6.4e-3 (the same Conv3d_1a_7x7 entries), 8 devices 1.4e-5.
#
# So the 8-device difference of the parameters (about 2e-3 on other machines) is the float32
# error of the single-device run: the gradient of the first convolution's kernel is a sum over
# every position of every clip of the batch, accumulated in float32 in one long reduction on one
# device (its error grows with the number of terms, and the sum cancels), where 8 devices add
# eight shorter partial sums. How large that error depends on the CPU's reduction order (vector
# width): a float32 tolerance measured on one machine fails on another. The tests below show the
# equivalence itself in float64, on a small convolutional model with BatchNorm that compiles in
# moments, run through mejax's own steps in float32 and float64 on as many host devices as
# XLA_FLAGS gives: float64 differences must be below 1e-12 (measured: ~6e-17), float32
# differences within twice the float32 error of the same run against its float64 twin, measured
# in each run.

PRECISION_SCRIPT = """
import json, sys
sys.path.insert(0, {tests!r})
from test_train import precision_runs
print(json.dumps(precision_runs({mode!r})))
"""


class ConvBN(nn.Module):
    """Convolutions with BatchNorm, computing in the dtype of its parameters; the models' own
    layers (time-folded convolution, hand-differentiated BatchNorm)."""

    @nn.compact
    def __call__(self, clips, *, train: bool):
        x = clips
        for features in (4, 8):
            conv = layers.conv_general_dilated
            x = nn.Conv(features, (3, 3, 3), strides=(1, 2, 2), conv_general_dilated=conv)(x)
            x = nn.relu(BatchNorm(use_running_average=not train, momentum=0.9)(x))
        return nn.Dense(2)(x.mean(axis=(1, 2, 3)))


def _as(dtype, state):
    def cast(x):
        return x.astype(dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x

    return jax.tree.map(cast, state)


def _train(steps, num_models, clips, labels, dtype, num_steps=2):
    """Flat parameters and (models, steps) losses of ``num_steps`` steps of ConvBN models."""
    init, train_step, *_ = steps
    mesh = sharding.data_mesh()
    state = _as(dtype, init(jax.random.split(jax.random.PRNGKey(3), num_models), clips[:1]))
    batch = {"inputs": sharding.global_batch(mesh, clips),
             "targets": sharding.global_batch(mesh, labels)}  # fmt: skip
    losses = []
    for _ in range(num_steps):
        state, loss, _ = train_step(state, batch, {"learning_rate": np.float32(0.05)})
        losses.append(np.asarray(loss, np.float64))
    leaves = jax.tree.leaves(state["params"])
    assert all(x.dtype == dtype for x in leaves)
    params = np.concatenate([np.asarray(x, np.float64).ravel() for x in leaves])
    return {"params": params.tolist(), "losses": np.stack(losses, 1).tolist()}


def _train_rounds(steps, clips, labels, dtype, together: bool) -> dict:
    """Three rounds of two ConvBN models, each round with its own clips, labels, learning rate
    and keys, the last one stopping after one of the two steps: trained together
    (``folds_step``) or one after another (``train_step``)."""
    init, train_step, _, folds_step = steps
    mesh = sharding.data_mesh()
    orders = [np.arange(8), np.arange(8)[::-1], np.roll(np.arange(8), 3)]
    batches = [
        {key: sharding.global_batch(mesh, value[order])
         for key, value in (("inputs", clips), ("targets", labels))}
        for order in orders
    ]  # fmt: skip
    hparams = [{"learning_rate": np.float32(rate)} for rate in (0.05, 0.02, 0.1)]
    num_steps = (2, 2, 1)
    keys = [jax.random.split(jax.random.PRNGKey(3 + r), 2) for r in range(3)]
    states = [_as(dtype, init(k, clips[:1])) for k in keys]
    losses = np.zeros((3, 2, 2))
    if together:
        for step in range(2):
            running = np.array([step < n for n in num_steps])
            states, loss, _ = folds_step(states, batches, hparams, running)
            losses[running, :, step] = np.asarray(loss, np.float64)[running]
    else:
        for r in range(3):
            for step in range(num_steps[r]):
                states[r], loss, _ = train_step(states[r], batches[r], hparams[r])
                losses[r, :, step] = np.asarray(loss, np.float64)
    leaves = jax.tree.leaves([state["params"] for state in states])
    assert all(x.dtype == dtype for x in leaves)
    params = np.concatenate([np.asarray(x, np.float64).ravel() for x in leaves])
    return {"params": params.tolist(), "losses": losses.tolist(),
            "steps": [int(state["step"]) for state in states]}  # fmt: skip


def precision_runs(mode: str) -> dict:
    """``mode`` "one_vs_rest": three models vmapped and one at a time; "devices": two models on
    this process's devices; "folds": three rounds of two models trained together and one after
    another. Each in float32 and float64."""
    rng = np.random.default_rng(0)
    clips = rng.integers(0, 256, (8, 4, 16, 16, 3), dtype=np.uint8)
    labels = (rng.random((8, 3)) < 0.5).astype(np.int32)
    config = tiny_config("")
    tx = optim.make_optimizer(config.optimizer)
    mesh = sharding.data_mesh()

    def steps(chunk, num_models):
        task = tasks.AUOneVsRest((1, 4, 12)[:num_models], "focal", {"alpha": 0.25, "gamma": 2.0})
        return train.make_steps(ConvBN(), task, tx, mesh, chunk, config.input)

    runs = {"devices": jax.device_count()}
    if mode == "folds":
        for bits, dtype in (("32", jnp.float32), ("64", jnp.float64)):
            for name in ("together", "separate"):
                runs[name + bits] = _train_rounds(
                    steps(1, 2), clips, labels[:, :2], dtype, name == "together"
                )
        return runs
    programs = (
        {"vmapped": (steps(3, 3), 3), "looped": (steps(1, 3), 3)}
        if mode == "one_vs_rest"
        else {"run": (steps(1, 2), 2)}
    )
    for name, (program, num_models) in programs.items():
        for bits, dtype in (("32", jnp.float32), ("64", jnp.float64)):
            runs[name + bits] = _train(program, num_models, clips, labels[:, :num_models], dtype)
    return runs


def run_precision(mode, devices=1):
    env = dict(os.environ, JAX_ENABLE_X64="1")
    env["XLA_FLAGS"] = (
        env.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={devices}"
    )
    script = PRECISION_SCRIPT.format(tests=str(REPO / "tests"), mode=mode)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-3000:]
    runs = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        k: v if k == "devices" else {f: np.asarray(a) for f, a in v.items()}
        for k, v in runs.items()
    }


def _max_difference(a, b, field):
    return float(np.abs(a[field] - b[field]).max())


def assert_same_computation(a32, b32, a64, b64, what):
    """a and b agree tightly in float64, and in float32 within the float32 error (against
    float64) of the computation itself, measured here."""
    for field in ("params", "losses"):
        scale = float(np.abs(a64[field]).max())
        difference64 = _max_difference(a64, b64, field)
        difference32 = _max_difference(a32, b32, field)
        error32 = max(_max_difference(a32, a64, field), _max_difference(b32, b64, field))
        print(f"{what} {field}: float64 {difference64:.2g}, float32 {difference32:.2g} "
              f"(float32 error {error32:.2g}, max |value| {scale:.2g})")  # fmt: skip
        assert difference64 <= 1e-12 * max(scale, 1.0), (what, field, difference64)
        assert error32 < 1e-2 * max(scale, 1.0)  # the float32 runs are runs of the same model
        assert difference32 <= 2.0 * error32 + 1e-6 * scale, (what, field, difference32, error32)


def test_vmapped_one_vs_rest_is_the_same_computation_in_float64():
    runs = run_precision("one_vs_rest")
    assert_same_computation(
        runs["vmapped32"], runs["looped32"], runs["vmapped64"], runs["looped64"], "vmap"
    )


def test_rounds_trained_together_are_the_same_computation_in_float64():
    # train.folds_per_step: rounds of a protocol stacked in one program, each with its own
    # batches and schedule, a round past its schedule waiting; against each round alone.
    runs = run_precision("folds")
    for name in ("together32", "separate32", "together64", "separate64"):
        assert runs[name]["steps"].tolist() == [2, 2, 1], name
    assert_same_computation(
        runs["together32"], runs["separate32"], runs["together64"], runs["separate64"], "folds"
    )
    # The rounds differ (other batches, rates and keys): the agreement is not trivial.
    params = runs["separate32"]["params"].reshape(3, -1)
    assert np.abs(params[0] - params[1]).max() > 1e-3


def test_eight_devices_are_the_same_computation_in_float64():
    one, eight = run_precision("devices", 1), run_precision("devices", 8)
    assert (one["devices"], eight["devices"]) == (1, 8)
    assert_same_computation(one["run32"], eight["run32"], one["run64"], eight["run64"], "devices")


def main_command(workdir, data_dir, *extra):
    # Recognition with an auxiliary database mixed into every batch: the batch draw of both
    # databases is a function of (seed, step), so a resumed run ends as an uninterrupted one.
    return [
        sys.executable, "-m", "mejax.main", "--config=tests/tiny_configs.py:mer_resnet",
        f"--workdir={workdir}", f"--config.dataset.data_dir={data_dir}",
        "--config.aux_dataset.name=synth_me/macro_tiny", "--config.aux_dataset.ratio=0.5",
        f"--config.aux_dataset.data_dir={data_dir}", "--config.train.num_epochs=4", *extra,
    ]  # fmt: skip


def checkpoint_steps(workdir):
    return sorted(int(p.name) for p in workdir.glob("*/checkpoints/*") if p.name.isdigit())


@pytest.mark.slow
def test_killed_run_resumes_and_ends_like_an_uninterrupted_run(tmp_path, tiny_data_dir):
    # The reference trains its two rounds one after the other; the killed run trains them
    # together (train.folds_per_step=2) and resumes one after the other: each round's
    # checkpoints, selection and record are its own whichever way the rounds ran.
    reference = tmp_path / "reference"
    done = subprocess.run(main_command(reference, tiny_data_dir), cwd=REPO, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-3000:]

    killed = tmp_path / "killed"
    process = subprocess.Popen(
        main_command(killed, tiny_data_dir, "--config.train.folds_per_step=2"),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 600
    while not checkpoint_steps(killed) and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (killed / "results.json").exists()
    resumed = subprocess.run(main_command(killed, tiny_data_dir), cwd=REPO, capture_output=True)
    assert resumed.returncode == 0, resumed.stderr.decode()[-3000:]
    assert b"resumed from step" in resumed.stderr

    expected = json.loads((reference / "results.json").read_text())
    got = json.loads((killed / "results.json").read_text())
    assert got == expected
    rounds = sorted(reference.glob("loso_*"))
    assert len(rounds) == 2
    for round_dir in rounds:
        a = np.load(round_dir / "predictions.npz")
        b = np.load(killed / round_dir.name / "predictions.npz")
        np.testing.assert_array_equal(a["selected_step"], b["selected_step"])
        # Equal up to float32 rounding (test_rounds_trained_together_are_the_same_computation).
        np.testing.assert_allclose(a["scores"], b["scores"], atol=1e-5)
    for name in ("results.md", "confusion.png", "curves.png", "metrics.jsonl", "config.json"):
        assert (killed / name).exists()
    assert list((killed / "tensorboard").iterdir())


def test_workdir_of_another_config_is_refused(tmp_path, tiny_data_dir):
    config = tiny_config(tiny_data_dir)
    run_files.check_workdir(config, tmp_path)
    (tmp_path / "round0" / "checkpoints" / "3").mkdir(parents=True)
    other = tiny_config(tiny_data_dir, **{"optimizer.learning_rate": 0.5})
    with pytest.raises(ValueError, match=r"another config \(optimizer.learning_rate: 0.01 -> 0.5"):
        experiment.run(other, tmp_path)
    assert (tmp_path / "round0" / "checkpoints" / "3").is_dir()
    run_files.check_workdir(config, tmp_path)  # the same config may resume


def test_non_finite_loss_stops_and_keeps_the_last_checkpoint(tmp_path, tiny_data_dir):
    # A learning rate that explodes after the first epoch (4 steps of synth_me/tiny's first
    # round): epoch 1 trains and checkpoints, epoch 2 diverges.
    config = tiny_configs.tiny("mer_resnet").unlock()
    config.dataset.data_dir = str(tiny_data_dir)
    config.update_from_flattened_dict(
        {
            "optimizer.schedule": "step",
            "optimizer.decay_every": 4,
            "optimizer.decay_factor": 1e36,
            "protocol.rounds": (0,),
        }
    )
    with pytest.raises(FloatingPointError, match="non-finite .* at step .* is intact"):
        experiment.run(config.lock(), tmp_path)
    steps = checkpoint_steps(tmp_path)
    assert steps == [4]
    assert not (tmp_path / "results.json").exists()
    # Non-finite before the first checkpoint: the message says there is none (not "step None").
    config.update_from_flattened_dict({"optimizer.schedule": "constant",
                                       "optimizer.learning_rate": 1e38})  # fmt: skip
    with pytest.raises(FloatingPointError, match="the round has no checkpoint yet"):
        experiment.run(config.lock(), tmp_path / "at_once")
