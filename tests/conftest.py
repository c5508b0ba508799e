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
