"""Config and workdir checks before a run: counts >= 1, usable workdirs, unknown override keys."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mejax import config_checks, experiment
from tests import tiny_configs

REPO = Path(__file__).resolve().parents[1]


def tiny_config(**overrides):
    config = tiny_configs.tiny("stapf").unlock()
    config.update_from_flattened_dict(overrides)
    return config.lock()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("train.num_epochs", -1),
        ("train.num_epochs", 0),
        ("train.eval_every_epochs", 0),
        ("train.batch_size", 0),
        ("train.eval_batch_size", -2),
        ("train.log_every_steps", 0),
        ("train.models_per_step", -1),
        ("train.folds_per_step", 0),
    ],
)
def test_each_invalid_count_is_refused_before_the_run(tmp_path, key, value):
    config = tiny_config(**{key: value})
    with pytest.raises(config_checks.ConfigError, match=rf"{key} = {value}: must be an integer"):
        experiment.run(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()  # refused before anything is written


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("model.name", "nosuchmodel", "model.name = 'nosuchmodel': no such model"),
        ("input.num_frames", 0, "input.num_frames = 0: must be an integer >= 1"),
        ("input.image_size", -8, "input.image_size = -8: must be an integer >= 1"),
        ("task.aus", (4, 99), r"task.aus = \(4, 99\): AU\(s\) \[99\] are not"),
        ("optimizer.learning_rate", -0.01, "optimizer.learning_rate = -0.01: must be a finite"),
        ("optimizer.learning_rate", float("nan"), "optimizer.learning_rate = nan: must be"),
        ("init_from", "/nowhere/r3d18.pth", "init_from = '/nowhere/r3d18.pth': no such file"),
    ],
)
def test_a_setting_the_run_would_fail_on_is_refused_before_anything_is_written(
    tmp_path, key, value, message
):
    config = tiny_config(**{key: value})
    with pytest.raises(config_checks.ConfigError, match=message):
        experiment.run(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_round_that_does_not_exist_leaves_the_workdir_as_it_was(tmp_path, tiny_data_dir):
    """protocol.rounds is checked against the database's subjects, once they are read: the
    refused run leaves nothing behind, and the corrected command then runs in the same
    workdir (it is not "a run of another config")."""
    config = tiny_config(**{"protocol.rounds": (7,), "dataset.data_dir": str(tiny_data_dir),
                            "train.num_epochs": 1})  # fmt: skip
    with pytest.raises(ValueError, match="protocol.rounds: 7 is not a round"):
        experiment.run(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    with pytest.raises(ValueError, match="protocol.rounds: 7 is not a round"):
        experiment.run(config, existing)
    assert sorted(p.name for p in existing.iterdir()) == ["run.lock"]
    corrected = tiny_config(**{"protocol.rounds": (0,), "dataset.data_dir": str(tiny_data_dir),
                               "train.num_epochs": 1})  # fmt: skip
    experiment.run(corrected, existing)
    assert (existing / "results.json").exists()


def test_every_problem_is_listed_at_once(tmp_path):
    config = tiny_config(**{"train.num_epochs": -1, "train.eval_every_epochs": 0})
    (tmp_path / "file").write_text("")
    with pytest.raises(config_checks.ConfigError) as error:
        config_checks.check(config, tmp_path / "file")
    lines = str(error.value).splitlines()[1:]
    assert [line.split(" =")[0].split(" /")[0].strip() for line in lines] == [
        "train.num_epochs",
        "train.eval_every_epochs",
        "workdir",
    ]


def test_valid_config_and_new_workdir_pass(tmp_path):
    config_checks.check(tiny_config(), tmp_path / "new" / "run")
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_workdir_that_is_a_file_or_under_one(tmp_path):
    (tmp_path / "file").write_text("")
    assert config_checks.workdir_errors(tmp_path / "file") == [
        f"workdir {tmp_path / 'file'} is a file, not a directory"
    ]
    assert "cannot be created" in config_checks.workdir_errors(tmp_path / "file" / "run")[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any directory")
def test_unwritable_workdir(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        assert "is not writable" in config_checks.workdir_errors(locked)[0]
        assert "is not writable" in config_checks.workdir_errors(locked / "run")[0]
    finally:
        locked.chmod(0o700)


def test_unwritable_workdir_as_seen_by_os_access(tmp_path, monkeypatch):
    monkeypatch.setattr(config_checks.os, "access", lambda path, mode: False)
    assert config_checks.workdir_errors(tmp_path) == [f"workdir {tmp_path} is not writable"]


def test_override_error_names_the_override_and_the_key():
    argv = ["main", "--config=c.py", "--config.train.num_epochs=2", "--config.train.foo=1"]
    message = config_checks.override_error(argv, AttributeError(KeyError("'foo'")))
    assert message == "unknown config key 'foo' in --config.train.foo: the config has no such field"
    typo = KeyError('\'trian\'\nDid you mean "train" instead of "trian"?')
    message = config_checks.override_error(["m", "--config.trian.num_epochs=1"], typo)
    assert "'trian' in --config.trian.num_epochs" in message and 'Did you mean "train"' in message


def test_main_explains_an_unknown_override_key(tmp_path):
    command = [
        sys.executable, "-m", "mejax.main", "--config=tests/tiny_configs.py:stapf",
        f"--workdir={tmp_path}", "--config.train.num_epoch=3",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "unknown config key 'num_epoch' in --config.train.num_epoch" in result.stderr
    assert "Traceback" not in result.stderr


def test_sca_paper_setting_without_weights_stops_naming_both_ways_forward(tmp_path):
    config = tiny_configs.config("sca", "casme2")
    with pytest.raises(config_checks.ConfigError) as error:
        config_checks.check(config, tmp_path / "run")
    assert "--config.init_from=/path/to/r3d18_K_200ep.pth" in str(error.value)
    assert "--config.init_from=none" in str(error.value)
    config = config.unlock()
    config.init_from = "none"
    config_checks.check(config.lock(), tmp_path / "run")  # trains from scratch knowingly


@pytest.mark.parametrize("case", ["unknown model", "another config", "not built"])
def test_known_errors_are_a_fatal_message_without_a_traceback(tmp_path, case):
    workdir = tmp_path / "run"
    config, overrides = "tests/tiny_configs.py:sca", []
    if case == "unknown model":
        overrides = ["--config.model.name=nosuchmodel"]
        expected = "model.name = 'nosuchmodel': no such model"
    elif case == "another config":
        workdir.mkdir()
        (workdir / "config.json").write_text('{"name": "another"}')
        expected = "holds a run of another config"
    else:
        config, overrides = "configs/sca.py:samm", ["--config.init_from=none"]
        expected = "samm/faces is not built in"
    command = [sys.executable, "-m", "mejax.main", f"--config={config}", f"--workdir={workdir}",
               f"--config.dataset.data_dir={tmp_path / 'tfds'}", *overrides]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.startswith("FATAL ") and expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    if case != "another config":
        assert not workdir.exists()  # nothing written
