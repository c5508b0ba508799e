"""Using mejax's models from another JAX project: importing them costs no TensorFlow, TFDS or
OpenCV, and the package works when installed from a built wheel (not only in editable mode)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
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
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    for folder in ("mejax", "configs"):
        shutil.copytree(
            REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
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
    # Every model module shipped, with no test or experiment directories beside the package
    # (bin: the console scripts).
    installed = sorted(p.name for p in target.iterdir() if not p.name.endswith(".dist-info"))
    assert installed in (["mejax"], ["bin", "mejax"])
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


def _metadata(wheel: Path, name: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        (path,) = [p for p in archive.namelist() if p.endswith(f".dist-info/{name}")]
        return archive.read(path).decode()


def test_the_wheel_ships_the_configs_and_the_commands_but_no_dummy_data(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    configs = sorted(p.removeprefix("mejax/configs/") for p in names if "/configs/" in p)
    assert configs == sorted(p.name for p in (REPO / "configs").glob("*.py"))
    assert not [p for p in names if "/dummy_data/" in p]  # the builders' test data stay out
    assert any(p.endswith(".dist-info/licenses/LICENSE") for p in names)
    scripts = _metadata(wheel, "entry_points.txt")
    for line in (
        "mejax-train = mejax.main:cli",
        "mejax-plan = mejax.main:plan_cli",
        "mejax-predict = mejax.predict:main",
    ):
        assert line in scripts


def test_the_models_install_needs_neither_tensorflow_tfds_opencv_nor_mtcnn(wheel):
    """The wheel's own requirements (no extra) leave the heavy packages to the extra "data"
    (and "colab", its part without TensorFlow and OpenCV)."""
    requires = [
        line.removeprefix("Requires-Dist: ")
        for line in _metadata(wheel, "METADATA").splitlines()
        if line.startswith("Requires-Dist: ")
    ]
    base = [r for r in requires if "extra ==" not in r]
    heavy = ("tensorflow", "opencv", "mtcnn", "scikit-learn")
    assert base and not [r for r in base if r.startswith(heavy)], base
    data = [r for r in requires if 'extra == "data"' in r or 'extra == "colab"' in r]
    for name in ("tensorflow-cpu", "tensorflow-datasets", "opencv-contrib-python-headless",
                 "mtcnn"):  # fmt: skip
        assert any(r.startswith(name) for r in data), name
    colab = [r for r in requires if 'extra == "colab"' in r]
    assert not [r for r in colab if r.startswith(("tensorflow-cpu", "opencv"))], colab
