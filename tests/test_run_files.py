"""Run files survive kills: atomic writes, cut-short metrics lines, steps logged once after a
resume, unreadable predictions and configs written again."""

import json
import os
import shutil
import stat
from pathlib import Path

import flax.linen as nn
import numpy as np
import pytest

from mejax import checkpointing, experiment, reporting, run_files, train
from tests import tiny_configs


class PooledModel(nn.Module):
    """A model with the interface of mejax's models that compiles in a moment."""

    outputs: int

    @nn.compact
    def __call__(self, clips, *, train: bool):
        x = nn.BatchNorm(use_running_average=not train)(clips.mean(axis=(1, 2, 3)))
        return nn.Dense(self.outputs)(x)


def tiny_config(data_dir, **overrides):
    config = tiny_configs.tiny("stapf").unlock()
    config.dataset.data_dir = str(data_dir)
    config.update_from_flattened_dict({"protocol.rounds": (0,), **overrides})
    return config.lock()


def test_an_interrupted_write_leaves_the_previous_file(tmp_path):
    path = tmp_path / "results.json"
    reporting.write_text(path, "old")

    def interrupted(file):
        file.write("new, cut sh")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reporting.write_atomic(path, interrupted)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temporary left
    reporting.savez(tmp_path / "p.npz", scores=np.arange(3))
    np.testing.assert_array_equal(np.load(tmp_path / "p.npz")["scores"], np.arange(3))


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_run_files_have_the_permissions_the_umask_gives(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        reporting.write_text(tmp_path / "results.md", "| AU | F1 |")
        reporting.savez(tmp_path / "predictions.npz", labels=np.zeros(2))
    finally:
        os.umask(previous)
    for name in ("results.md", "predictions.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode


def test_temporary_files_of_a_killed_run_are_removed_at_the_next_start(finished_run, tmp_path):
    reference, config, results = finished_run
    workdir = _copy(reference, tmp_path)
    left = [workdir / ".results.json.k2j3.tmp", workdir / "round0" / ".predictions.npz.x9.tmp"]
    for path in left:
        path.write_text("cut sh")
    assert experiment.run(config, workdir) == results
    assert not any(path.exists() for path in left)


def test_a_cut_short_last_metrics_line_is_ignored(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"round": "r", "step": 1, "loss": 1.0}\n{"round": "r", "step": 2, "lo')
    assert reporting.read_metrics(path) == [{"round": "r", "step": 1, "loss": 1.0}]
    path.write_text('{"round": "r", "st\n{"round": "r", "step": 2}\n')
    with pytest.raises(ValueError, match="metrics.jsonl:1 is not a JSON record"):
        reporting.read_metrics(path)


def test_metric_writer_completes_the_file_and_drops_steps_past_a_resume(tmp_path):
    path = tmp_path / "metrics.jsonl"
    lines = [{"round": r, "step": s, "loss": 0.5} for r in ("a", "b") for s in (1, 2, 3)]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"round": "b", "st')
    writer = reporting.MetricWriter(tmp_path)
    writer.drop_after("b", 1)  # round b resumed at step 1: its steps 2 and 3 come again
    writer.write("b", 2, {"loss": 0.25})
    writer.close()
    records = reporting.read_metrics(path)
    assert [(r["round"], r["step"]) for r in records] == [
        ("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2),
    ]  # fmt: skip
    assert records[-1]["loss"] == 0.25
    assert path.read_text().endswith("}\n")


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("lines", [[], [{"round": "round0", "step": 10, "loss": 0.5}]])
def test_curves_are_drawn_without_warnings_even_when_nothing_was_logged(tmp_path, lines):
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text("".join(json.dumps(x) + "\n" for x in lines))
    reporting.plot_curves(metrics, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")


def test_a_cut_short_config_json_is_written_again(tmp_path, tiny_data_dir):
    config = tiny_config(tiny_data_dir)
    (tmp_path / "config.json").write_text('{"dataset": {"na')
    run_files.check_workdir(config, tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["protocol"]["rounds"] == [0]
    run_files.check_workdir(config, tmp_path)  # and is then the workdir's config


def test_an_unreadable_config_json_cannot_let_another_config_in(finished_run, tmp_path):
    """The rounds record their config's hash: with config.json damaged, a run of another
    config is refused, the run's own config writes it again (and resumes), and rounds that
    record no hash are refused."""
    run, config, _ = finished_run
    copy = _copy(run, tmp_path)
    (copy / "config.json").write_bytes(b"\x00\xff garbage")
    other = config.copy_and_resolve_references().unlock()
    other.optimizer.learning_rate = 0.5
    with pytest.raises(run_files.AnotherConfig, match="round0 of .* do not record this config"):
        run_files.check_workdir(other.lock(), copy)
    assert (copy / "config.json").read_bytes() == b"\x00\xff garbage"  # left as it was
    run_files.check_workdir(config, copy)
    assert json.loads((copy / "config.json").read_text())["optimizer"]["learning_rate"] != 0.5
    (copy / "config.json").write_text('{"cut sh')
    (copy / "round0" / run_files.CONFIG_HASH_FILE).unlink()
    with pytest.raises(run_files.AnotherConfig, match="round0"):
        run_files.check_workdir(config, copy)


@pytest.fixture
def pooled_model(monkeypatch):
    monkeypatch.setattr(train.models, "build", lambda config, outputs=1: PooledModel(outputs))


@pytest.fixture
def finished_run(tmp_path_factory, tiny_data_dir, pooled_model):
    """A finished one-round run (kept as the reference) and its config."""
    workdir = tmp_path_factory.mktemp("run")
    config = tiny_config(tiny_data_dir)
    results = experiment.run(config, workdir)
    return workdir, config, results


def _copy(run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    return copy


def _logged_steps(workdir: Path) -> list[tuple]:
    return [
        (r["round"], r["step"], tuple(sorted(r)))
        for r in reporting.read_metrics(workdir / "metrics.jsonl")
    ]


@pytest.mark.xdist_group("stapf_tiny_cli_run")
def test_a_cut_short_predictions_file_is_predicted_again(finished_run, tmp_path):
    reference, config, results = finished_run
    workdir = _copy(reference, tmp_path)
    record = workdir / "round0" / "predictions.npz"
    record.write_bytes(record.read_bytes()[:100])
    (workdir / "results.json").unlink()
    assert experiment.run(config, workdir) == results
    for key, value in np.load(reference / "round0" / "predictions.npz").items():
        np.testing.assert_array_equal(np.load(record)[key], value)
    assert _logged_steps(workdir) == _logged_steps(reference)


def test_a_checkpoint_outside_the_schedule_is_set_aside(finished_run, tmp_path):
    """A complete checkpoint copied in as step 999 (another run's, or a hand copy) is not
    taken as the latest: it is moved aside as 999.foreign and the round ends as before."""
    reference, config, results = finished_run
    workdir = _copy(reference, tmp_path)
    checkpoints = workdir / "round0" / "checkpoints"
    latest = max(int(p.name) for p in checkpoints.iterdir() if p.name.isdigit())
    shutil.copytree(checkpoints / str(latest), checkpoints / "999")
    (workdir / "round0" / "predictions.npz").unlink()
    (workdir / "results.json").unlink()
    assert experiment.run(config, workdir) == results
    assert (checkpoints / "999.foreign").is_dir() and not (checkpoints / "999").exists()
    # At a step of the schedule, but saved by a run of another config.
    (checkpoints / str(latest) / checkpointing.OWNER_FILE).write_text("another run\n")
    (workdir / "round0" / "predictions.npz").unlink()
    experiment.run(config, workdir)
    assert (checkpoints / f"{latest}.foreign").is_dir()


@pytest.mark.xdist_group("stapf_tiny_cli_run")
def test_a_resumed_round_logs_each_step_once(finished_run, tmp_path):
    reference, config, results = finished_run
    workdir = _copy(reference, tmp_path)
    checkpoints = workdir / "round0" / "checkpoints"
    steps = sorted(int(p.name) for p in checkpoints.iterdir() if p.name.isdigit())
    assert len(steps) == 2
    shutil.rmtree(checkpoints / str(steps[-1]))  # as if killed before the last checkpoint
    (workdir / "round0" / "predictions.npz").unlink()
    assert experiment.run(config, workdir) == results
    logged = _logged_steps(workdir)
    assert len(logged) == len(set(logged))
    assert logged == _logged_steps(reference)
