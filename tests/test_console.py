"""The console of ``python -m mejax.main``: quiet by default (what the run does, progress bars,
validation figures, the headline), every library's INFO lines with ``--verbosity=0``."""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path

import ml_collections
import pytest

from mejax import main

REPO = Path(__file__).resolve().parents[1]


def shown(text: str) -> list[str]:
    """The lines a terminal keeps: each carriage return overwrites the line it is on."""
    lines = (line.rsplit("\r", 1)[-1] for line in text.split("\n"))
    return [line for line in lines if line.strip()]


def _record(path: str, level: int) -> logging.LogRecord:
    return logging.LogRecord("absl", level, path, 1, "message %d", (7,), None)


def test_quiet_filter_keeps_mejax_and_the_libraries_errors():
    own = str(Path(main.__file__).parent / "train.py")
    library = "/site-packages/orbax/checkpoint/checkpoint_manager.py"
    assert main._own_or_serious(_record(own, logging.INFO))
    assert not main._own_or_serious(_record(library, logging.INFO))
    assert not main._own_or_serious(_record(library, logging.WARNING))
    assert main._own_or_serious(_record(library, logging.ERROR))
    formatter = main._PlainFormatter()
    assert formatter.format(_record(own, logging.INFO)) == "message 7"
    assert formatter.format(_record(own, logging.WARNING)) == "WARNING: message 7"


def test_describe_says_what_the_run_does(tmp_path):
    config = ml_collections.ConfigDict(
        {
            "name": "STAPF",
            "model": {"name": "i3d_classifier"},
            "dataset": {"name": "casme2"},
            "protocol": {"name": "stap_two_fold", "rounds": (0, 1)},
            "task": {"aus": (1, 4), "emotions": ()},
        }
    )
    line = main.describe(config, str(tmp_path / "run"))
    assert line == (
        f"STAPF: i3d_classifier on casme2 (stap_two_fold, rounds 0, 1), AUs 1, 4; "
        f"writing to {tmp_path / 'run'}"
    )
    (tmp_path / "run" / "round0" / "checkpoints").mkdir(parents=True)
    line = main.describe(config, str(tmp_path / "run"))
    assert line.endswith(f"continuing the run in {tmp_path / 'run'}")


STEP = ("step", "selected_step")


def test_round_lines_of_each_kind_of_run():
    au = {"rounds": [{"name": "round0", "validation": ["s2"], "selected_step": {"AU4": 3, "AU7": 6},
                      "validation_f1": {"AU4": 0.5, "AU7": 0.25}}]}  # fmt: skip
    assert main.round_lines(au, STEP) == [
        "round0: validation mean F1 0.375: AU4 0.500 (step 3), AU7 0.250 (step 6)"
    ]
    mer = {"rounds": [{"name": "loso_s1", "selected_step": 40, "validation_uf1": 0.61}]}
    assert main.round_lines(mer, STEP) == ["loso_s1: validation UF1 0.610 (step 40)"]
    svm = {"rounds": [{"name": "r0", "selected_c": {"AU4": 0.01}, "validation_f1": {"AU4": 0.8}}]}
    assert main.round_lines(svm, ("C", "selected_c")) == ["r0: validation F1 0.800 (C 0.01)"]
    many = {"rounds": [{"name": f"loso_{i}", "validation_uf1": i / 20} for i in range(20)]}
    assert main.round_lines(many, STEP) == [
        "20 rounds: validation UF1 mean 0.475 (lowest 0.000, highest 0.950)"
    ]
    assert main.round_lines({"rounds": [{"name": "r", "test": ["s1"]}]}, STEP) == []


@pytest.mark.slow
@pytest.mark.xdist_group("stapf_tiny_cli_run")
def test_a_run_fits_on_one_screen_and_verbosity_shows_the_libraries(stapf_tiny_cli_run):
    # The session's run of tests/tiny_configs.py:stapf (tests/conftest.py), which builds its
    # database too; tests/test_predict.py applies its models.
    run = stapf_tiny_cli_run
    workdir, command = run["workdir"], run["command"]
    stdout, stderr = run["stdout"], run["stderr"]
    assert run["returncode"] == 0, stderr[-3000:]
    lines = shown(stdout) + shown(stderr)
    assert len(lines) <= 15, "\n".join(lines)
    console = stdout + stderr
    for noise in ("orbax", "checkpoint_manager", "oneDNN", "tfrecord", "xla_bridge"):
        assert noise not in console, noise
    assert not re.search(r"^[IWE]\d{4} ", console, re.M), "an absl-formatted line"
    assert "STAPF: i3d_classifier_tiny on synth_me/tiny" in stdout
    assert "round0: validation mean F1" in stdout and "round1: validation" in stdout
    assert any(line.startswith("round1: 100%") for line in shown(stderr))
    assert stdout.rstrip().endswith(f"see {workdir}/results.md")

    again = subprocess.run([*command, "--verbosity=0"], cwd=REPO, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-3000:]
    assert re.search(r"^I\d{4} .* experiment\.py:\d+\] round0 already finished", again.stderr, re.M)
    assert "continuing the run in" in again.stdout


def test_a_models_only_install_is_told_to_install_the_data_extra(monkeypatch):
    import builtins

    from mejax import console

    real_import = builtins.__import__

    def without_tensorflow(name, *args, **kwargs):
        if name == "tensorflow":
            raise ModuleNotFoundError("No module named 'tensorflow'", name="tensorflow")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_tensorflow)
    with pytest.raises(console.MissingExtra, match=r"pip install 'mejax\[data\]'"):
        console.import_tensorflow_quietly()
