"""Test-wide settings: fast XLA compilation and a shared tiny synthetic database."""

import os

# Tests run tiny models for a few steps: compile time dominates, so skip XLA's expensive
# backend optimisations (results are the same computation). Subprocesses inherit this.
os.environ.setdefault(
    "XLA_FLAGS", "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory) -> Path:
    """TFDS data_dir holding ``synth_me/tiny`` (built once per test process)."""
    import tensorflow_datasets as tfds

    import mejax.datasets.synth_me  # noqa: F401  (registers the builder)

    data_dir = tmp_path_factory.mktemp("tfds")
    tfds.builder("synth_me/tiny", data_dir=str(data_dir)).download_and_prepare()
    return data_dir


@pytest.fixture(scope="session")
def stapf_tiny_cli_run(tmp_path_factory) -> dict:
    """A run started as a user starts one, ``python -m mejax.main
    --config=tests/tiny_configs.py:stapf`` (STAPF's tiny config, rounds 0 and 1, building
    synth_me/tiny in its own data_dir first), once per test process: the console tests read its
    output and the predict tests apply its models; those tests are marked
    ``xdist_group("stapf_tiny_cli_run")`` so that ``pytest -n`` runs them in one process,
    which then runs it once. Returns {"workdir", "data_dir", "command", "returncode",
    "stdout", "stderr"}, the outputs decoded from bytes (text mode would turn the progress bars'
    carriage returns into new lines)."""
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("stapf_cli")
    workdir, data_dir = root / "run", root / "tfds"
    command = [
        sys.executable, "-m", "mejax.main", "--config=tests/tiny_configs.py:stapf",
        f"--workdir={workdir}", f"--config.dataset.data_dir={data_dir}",
    ]  # fmt: skip
    run = subprocess.run(command, cwd=REPO, capture_output=True, timeout=1200)
    return {
        "workdir": workdir,
        "data_dir": data_dir,
        "command": command,
        "returncode": run.returncode,
        "stdout": run.stdout.decode(),
        "stderr": run.stderr.decode(),
    }
