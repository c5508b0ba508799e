"""Using mejax's models from another JAX project: importing them costs no TensorFlow, TFDS or
OpenCV, and the package works when installed from a built wheel (not only in editable mode)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "tensorflow_datasets", "cv2")
# What a model user imports: the package, every model module and the weight loaders.
LIGHT_MODULES = (
    "mejax",
    "mejax.models",
    *sorted(
        f"mejax.models.{path.stem}"
        for path in (REPO / "mejax" / "models").glob("*.py")
        if path.stem != "__init__"
    ),
    "mejax.weights",
    "mejax.weights.kinetics",
    "mejax.weights.init_from",
)

# Imports each module in turn in a fresh interpreter and names the first that brought in a heavy
# package (importing all in one process finds any offender; the order names it).
CHECK = textwrap.dedent(
    """
    import importlib, json, sys
    heavy, found = {heavy!r}, {{}}
    for name in {modules!r}:
        importlib.import_module(name)
        new = sorted({{m.split(".")[0] for m in sys.modules}} & set(heavy) - set(found))
        for package in new:
            found[package] = name
    print(json.dumps({{"found": found, "mejax": importlib.import_module("mejax").__file__}}))
    """
)


def _check_imports(modules, env=None, cwd=None) -> dict:
    code = CHECK.format(heavy=HEAVY, modules=tuple(modules))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_models_import_neither_tensorflow_tfds_nor_opencv():
    out = _check_imports(LIGHT_MODULES)
    assert out["found"] == {}, "imported by: " + ", ".join(
        f"{package} by {module}" for package, module in out["found"].items()
    )


def test_the_check_sees_a_heavy_import():
    out = _check_imports(["mejax.models", "cv2"])
    assert out["found"] == {"cv2": "cv2"}


NETWORK_ERRORS = (
    "No matching distribution",
    "Could not find a version",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "ConnectionError",
    "NewConnectionError",
    "Max retries exceeded",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel of mejax built from a copy of the sources (the work tree stays untouched)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(
        REPO / "mejax", source / "mejax", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(root / "dist")],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        if any(error in result.stdout + result.stderr for error in NETWORK_ERRORS):
            pytest.skip("building the wheel needs setuptools from the package index: no network")
        raise AssertionError(f"pip wheel failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    (built,) = (root / "dist").glob("mejax-*.whl")
    return built


def test_models_import_from_the_installed_wheel(wheel, tmp_path):
    target = tmp_path / "target"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), wheel],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # Every model module shipped, with no test or experiment directories beside the package.
    assert sorted(p.name for p in target.iterdir() if not p.name.endswith(".dist-info")) == [
        "mejax"
    ]
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = _check_imports(LIGHT_MODULES, env=env, cwd=tmp_path)  # outside the repository
    assert Path(out["mejax"]).is_relative_to(target), out["mejax"]
    assert out["found"] == {}
    # A model builds and runs from the wheel.
    code = (
        "import jax, jax.numpy as jnp, ml_collections\n"
        "from mejax import models\n"
        "config = ml_collections.ConfigDict({'name': 'i3d_classifier_tiny', 'head': 'stap'})\n"
        "model = models.build(config, num_outputs=2)\n"
        "clips = jnp.zeros((1, 8, 32, 32, 3))\n"
        "variables = jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), "
        "clips)\n"
        "print(jax.eval_shape(lambda v: model.apply(v, clips, train=False), variables).shape)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "(1, 2)"
