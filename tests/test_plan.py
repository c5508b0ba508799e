"""The real databases' shape: batches that fill a short epoch (``train.last_batch``), the plan of
a run (``python -m mejax.main --plan``) and the list of paper settings."""

import json
import subprocess
import sys

import numpy as np
import pytest

from mejax import config_args, input_pipeline, paper_settings, plan
from tests import tiny_configs
from tests.conftest import REPO


def _epoch(batches):
    """The clip indices of every step of epoch 0 (inputs are the clip indices themselves)."""
    return [batches(step)["inputs"].ravel() for step in range(batches.steps_per_epoch)]


def _batches(count, batch_size, last_batch):
    inputs = np.arange(count, dtype=np.float32).reshape(count, 1)
    return input_pipeline.TrainBatches(
        inputs, np.zeros(count), batch_size, seed=3, flip=False, last_batch=last_batch
    )


def test_fill_runs_a_side_smaller_than_the_batch_every_clip_once_then_repeats():
    # SCA's batch of 64 on a SAMM training side of 41 clips (4-fold, fold 0).
    batches = _batches(41, 64, "fill")
    (step,) = _epoch(batches)
    values, counts = np.unique(step, return_counts=True)
    assert len(step) == 64 and set(values) == set(range(41))
    assert sorted(counts) == [1] * 18 + [2] * 23  # 23 drawn again, no clip three times


def test_fill_keeps_every_clip_of_an_epoch_and_completes_the_last_batch_from_the_rest():
    # CASME II fold 0 under SCA's 4-fold: 101 training clips at batch 64.
    batches = _batches(101, 64, "fill")
    steps = _epoch(batches)
    assert batches.steps_per_epoch == 2 and [len(s) for s in steps] == [64, 64]
    seen = np.concatenate(steps)
    values, counts = np.unique(seen, return_counts=True)
    assert set(values) == set(range(101)) and counts.max() == 2 and (counts == 2).sum() == 27
    # Drop: one step, 37 clips left out of the epoch.
    dropped = _batches(101, 64, "drop")
    assert dropped.steps_per_epoch == 1 and len(np.unique(_epoch(dropped))) == 64


def test_drop_refuses_a_side_smaller_than_the_batch_and_names_fill():
    with pytest.raises(ValueError, match="there are 41.*last_batch='fill'"):
        _batches(41, 64, "drop")
    with pytest.raises(ValueError, match="last_batch"):
        _batches(10, 4, "wrap")


def test_paper_settings_fill_the_synthetic_ones_drop():
    for arg in ("casme2", "samm"):
        assert tiny_configs.config("sca", arg).train.last_batch == "fill"
        assert tiny_configs.config("stapf", arg).train.last_batch == "fill"
    assert tiny_configs.config("sca", "synth").train.last_batch == "drop"
    neural = config_args.load_file(REPO / "configs/neural_mer.py", "megc2019")
    assert neural.train.last_batch == "fill"


def test_paper_settings_are_every_licensed_argument_of_the_configs():
    names = {s.name for s in paper_settings.settings()}
    # Every database and protocol token that the configs accept, synth_me never.
    for expected in ("sca:samm", "sca:casme2", "sca:casme", "stapf:cross_casme2_casme_samm",
                     "neural_mer:megc2019", "au_gcn:megc2018,cde", "au_gcn:megc2018",
                     "lbp_top:megc2019,mer", "micro_attention:samm,pretrain",
                     "mer_resnet:megc2018,apex,hde"):  # fmt: skip
        assert expected in names
    assert not any("synth" in n.split(":")[1].split(",") for n in names)
    # Model-variant tokens (depth, attention, row) do not make settings of their own.
    assert not any(n.startswith("sca:") and ("r50" in n or "sca_max" in n) for n in names)


def _tiny(config, data_dir):
    config = config.unlock()
    config.dataset.data_dir = str(data_dir)
    return config


def test_plan_of_a_synthetic_run_counts_every_round(tiny_data_dir):
    config = _tiny(tiny_configs.tiny("sca"), tiny_data_dir)
    result = plan.plan(config)
    assert not result.impossible
    assert [r["name"] for r in result.rounds] == ["fold0", "fold1"]
    for round_ in result.rounds:
        sides = [round_[s]["clips"] for s in ("train", "validation", "test")]
        assert sum(sides) == 24  # synth_me/tiny: every clip on one side of each round
        assert set(round_["train"]["counts"]) == {"AU4", "AU7"}
        assert round_["steps_per_epoch"] == round_["train"]["clips"] // 4
        assert round_["total_steps"] == 2 * round_["steps_per_epoch"]


def test_plan_reports_a_batch_larger_than_the_side_and_exits_non_zero(tiny_data_dir, tmp_path):
    out = tmp_path / "plan.json"
    command = [
        sys.executable, "-m", "mejax.main", "--config=tests/tiny_configs.py:sca",
        "--config.train.batch_size=64", f"--config.dataset.data_dir={tiny_data_dir}",
        "--plan", f"--plan_json={out}",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "IMPOSSIBLE: fold0: train.batch_size=64 needs 64 training clips" in result.stdout
    written = json.loads(out.read_text())
    assert written["impossible"] and written["rounds"][0]["train"]["clips"] == 8
    assert written["rounds"][0]["train"]["subjects"] and "problems" in written
    # Filled, the same run is possible: one step per epoch.
    command.insert(4, "--config.train.last_batch=fill")
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(out.read_text())["rounds"][0]["steps_per_epoch"] == 1


def test_plan_refuses_weights_that_are_not_there(tiny_data_dir, tmp_path):
    config = _tiny(tiny_configs.tiny("sca"), tiny_data_dir)
    config.init_from = str(tmp_path / "r3d18_K_200ep.pth")
    result = plan.plan(config)
    assert result.impossible == [f"init_from = {config.init_from!r}: no such file or run directory"]
    (tmp_path / "r3d18_K_200ep.pth").write_bytes(b"")
    assert not plan.plan(config).impossible


def test_plan_names_a_copy_that_is_not_complete(tmp_path):
    config = tiny_configs.config("sca", "samm").unlock()
    config.init_from = "none"
    config.dataset.manual_dir, config.dataset.data_dir = str(tmp_path), str(tmp_path / "tfds")
    result = plan.plan(config)
    (problem,) = result.impossible
    assert problem.startswith(f"samm/faces cannot be read from {tmp_path}")
    assert "SAMM_Micro_FACS_Codes_v2.xlsx" in problem  # the missing sheet is named
