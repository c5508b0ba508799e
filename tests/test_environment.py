"""What a run records of its environment, where it may run (``require_platform``), how a config
is named on the command line, the curves' selected steps and the TFDS builders' messages."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jax
import ml_collections
import pytest

from mejax import config_args, config_checks, environment, main, reporting, run_files

REPO = Path(__file__).resolve().parents[1]


def test_environment_names_versions_and_devices():
    found = environment.describe()
    assert found["python"] == ".".join(map(str, sys.version_info[:3]))
    assert set(found["versions"]) >= {
        "jax", "jaxlib", "flax", "optax", "numpy", "tensorflow", "tensorflow-datasets",
        "scikit-learn", "opencv",
    }  # fmt: skip
    assert found["versions"]["jax"] == jax.__version__
    assert found["devices"]["platform"] == jax.default_backend()
    assert found["devices"]["device_count"] == jax.device_count()
    assert environment.version(("no-such-distribution",)) is None
    json.dumps(found)  # goes into results.json as it is


class _Task:
    score_name = "average F1"

    def write_reports(self, workdir, results):
        (Path(workdir) / "results.md").write_text("table")


def test_results_record_the_environment_and_curves_mark_the_selected_steps(tmp_path):
    lines = [{"round": "round0", "step": s, "loss": 1 / s, "val/score": s / 10} for s in (1, 2, 3)]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    results = {"rounds": [{"name": "round0", "selected_step": {"AU4": 2, "AU7": 3}}]}
    reporting.write_results(tmp_path, results, _Task())
    written = json.loads((tmp_path / "results.json").read_text())
    assert written == results and written["environment"] == environment.describe()
    marked = (tmp_path / "curves.png").read_bytes()
    reporting.plot_curves(tmp_path / "metrics.jsonl", tmp_path / "plain.png")
    assert marked.startswith(b"\x89PNG") and marked != (tmp_path / "plain.png").read_bytes()


def _config(**fields) -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict(fields).lock()


def test_a_run_on_another_platform_than_required_stops_with_a_message(tmp_path):
    here = jax.default_backend()
    elsewhere = "tpu" if here != "tpu" else "cpu"
    config = _config(require_platform=elsewhere)
    with pytest.raises(config_checks.PlatformError) as error:
        config_checks.check(config, tmp_path / "run")
    message = str(error.value)
    assert message.startswith(f"require_platform = {elsewhere!r}, but JAX runs on {here}")
    assert "did not start" in message
    for fine in ("", here):
        config_checks.check(_config(require_platform=fine), tmp_path / "run")
    config_checks.check(_config(), tmp_path / "run")  # a config without the field runs anywhere


def test_an_unknown_platform_is_refused():
    errors = config_checks.setting_errors(_config(require_platform="xpu"))
    assert errors == ["require_platform = 'xpu': one of ('cpu', 'gpu', 'tpu'), or '' for any"]
    config = _config()
    config_checks.require_platform(config, "gpu")  # what --config.require_platform=gpu does
    assert config.require_platform == "gpu"


def test_require_platform_does_not_change_a_runs_config_hash():
    config = ml_collections.ConfigDict({"seed": 0})
    before = run_files.config_hash(config)
    config_checks.require_platform(config, "tpu")
    assert run_files.config_hash(config) == before


def test_a_config_is_named_alike_from_a_checkout_and_an_installed_package(tmp_path, monkeypatch):
    stapf = (REPO / "configs" / "stapf.py").resolve()
    monkeypatch.chdir(tmp_path)  # outside the checkout: configs/stapf.py is not here
    for value in ("stapf", "stapf.py", "configs/stapf.py"):
        assert Path(config_args.config_file(value)).resolve() == stapf
    assert Path(config_args.config_file("sca:casme2,r50").split(":")[0]).resolve().name == "sca.py"
    assert config_args.config_file("sca:casme2,r50").endswith(":casme2,r50")
    assert config_args.config_file("nowhere/stapf.py") == "nowhere/stapf.py"  # left as given
    assert config_args.config_file("no_such_config") == "no_such_config"
    (tmp_path / "mine.py").write_text("")
    assert config_args.config_file("mine.py:x") == "mine.py:x"  # a file here is used as it is
    argv = ["prog", "--config", "stapf:synth", "--config.require_platform=tpu", "--workdir=w"]
    resolved = main._resolve_arguments(argv)
    assert resolved[1].startswith("--config=") and resolved[1].endswith("stapf.py:synth")
    assert resolved[2:] == ["--workdir=w"] and main._platform == ["tpu"]
    main._platform.clear()


def test_builders_say_what_they_build_without_tfds_download_sizes(tmp_path, capsys, monkeypatch):
    import tensorflow_datasets as tfds

    import mejax.datasets.synth_me  # noqa: F401  (registers the builder)
    from mejax.datasets import local_build

    # The messages themselves, whatever handlers an earlier test of this process left on absl.
    logged = []
    monkeypatch.setattr(local_build.logging, "info", lambda text, *a: logged.append(text % a))
    builder = tfds.builder("synth_me/tiny", data_dir=str(tmp_path))
    builder._log_download_bytes()  # what download_and_prepare prints before a build
    builder._log_download_done()
    assert capsys.readouterr().out == ""
    text = "\n".join(logged)
    assert "building synth_me/tiny" in text and "Unknown size" not in text
