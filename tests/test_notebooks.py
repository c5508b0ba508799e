"""The Colab notebooks of ``experiments/colab`` run top to bottom (on a CPU, in their tiny
setting) and are committed without outputs; their first cell finds mejax where ``REPOSITORY``
says (a folder or a git URL) and stops with a clear message where it is not set."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "experiments" / "colab").glob("*.ipynb"))


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["quickstart.ipynb", "real_database.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]


def first_code_cell(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return next(c.source for c in notebook.cells if c.cell_type == "code")


def run_cell(source: str) -> dict:
    namespace = {"__name__": "__notebook__"}
    exec(compile(source, "<first cell>", "exec"), namespace)  # noqa: S102
    return namespace


def test_first_cell_finds_mejax_where_repository_says(tmp_path, monkeypatch):
    sources = {first_code_cell(path) for path in NOTEBOOKS}
    assert len(sources) == 1  # both notebooks start alike
    source = sources.pop()
    assert "YOUR_ACCOUNT" not in source and 'REPOSITORY = ""' in source
    monkeypatch.delenv("MEJAX_REPOSITORY", raising=False)
    outside = tmp_path / "outside"
    outside.mkdir()

    # Outside a copy of the repository, with REPOSITORY unset: a message saying what to set.
    monkeypatch.chdir(outside)
    with pytest.raises(RuntimeError, match="REPOSITORY is not set: set REPOSITORY in this cell"):
        run_cell(source)
    # Inside one: REPOSITORY is not needed.
    monkeypatch.chdir(REPO)
    assert run_cell(source)["REPO"] == REPO
    # A folder holding a copy (as on Google Drive): used where it is.
    monkeypatch.chdir(outside)
    monkeypatch.setenv("MEJAX_REPOSITORY", str(REPO))
    assert run_cell(source)["REPO"] == REPO and Path.cwd() == REPO
    # A git URL: cloned into ./mejax (a small repository with mejax's layout stands in).
    origin = tmp_path / "origin"
    (origin / "configs").mkdir(parents=True)
    (origin / "mejax").mkdir()
    (origin / "configs" / "stapf.py").write_text("")
    (origin / "mejax" / "__init__.py").write_text("")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(origin)]
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "layout"]):
        subprocess.run([*git, *command], check=True, env=env)
    monkeypatch.chdir(outside)
    monkeypatch.setenv("MEJAX_REPOSITORY", f"file://{origin}")
    cloned = run_cell(source)["REPO"]
    assert cloned == (outside / "mejax").resolve() and (cloned / "configs" / "stapf.py").is_file()
    # What is neither.
    for value, message in ((str(tmp_path), "no configs/ and mejax/ in it"),
                           ("nowhere", "neither a folder nor a git URL")):  # fmt: skip
        monkeypatch.chdir(outside)
        monkeypatch.setenv("MEJAX_REPOSITORY", value)
        with pytest.raises(RuntimeError, match=message):
            run_cell(source)


def execute(path: Path, tmp_path: Path, monkeypatch, platform: str) -> tuple[dict, str]:
    """Runs the notebook at ``path`` in its tiny setting, asking for ``platform``; returns the
    executed notebook and the text of its outputs (a failing cell raises)."""
    monkeypatch.setenv("MEJAX_NOTEBOOK_TINY", "1")
    monkeypatch.setenv("MEJAX_NOTEBOOK_PLATFORM", platform)
    monkeypatch.setenv("MEJAX_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.setenv("MEJAX_WORKDIR", str(tmp_path / "run"))
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}
    )
    try:
        client.execute()
    finally:
        texts = [
            output.get("text", "") + output.get("evalue", "")
            for cell in notebook.cells
            for output in cell.get("outputs", [])
        ]
    return notebook, "\n".join(texts)


def test_the_notebook_stops_on_another_platform_than_it_asks_for(tmp_path, monkeypatch):
    """Asking for a TPU on a machine whose JAX runs on the CPU stops the notebook before it
    builds or trains anything, with the message shown in the notebook."""
    import jax

    if jax.default_backend() == "tpu":
        pytest.skip("this machine has a TPU")
    path = REPO / "experiments" / "colab" / "quickstart.ipynb"
    with pytest.raises(nbclient.exceptions.CellExecutionError) as error:
        execute(path, tmp_path, monkeypatch, "tpu")
    message = f"require_platform = 'tpu', but JAX runs on {jax.default_backend()}"
    assert message in str(error.value)
    assert not (tmp_path / "tfds").exists() and not (tmp_path / "run").exists()


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom(path, tmp_path, monkeypatch):
    import jax

    notebook, text = execute(path, tmp_path, monkeypatch, jax.default_backend())
    if path.stem == "quickstart":
        assert (tmp_path / "run" / "results.md").is_file()
        assert "average F1" in text
        # Trained in the notebook's own kernel, its progress shown as it ran.
        assert "it/s]" in text or "s/it]" in text, text[-2000:]
        environment = json.loads((tmp_path / "run" / "results.json").read_text())["environment"]
        assert environment["devices"]["platform"] == jax.default_backend()
        shown = [o for c in notebook.cells for o in c.get("outputs", []) if "data" in o]
        assert any("image/png" in o["data"] for o in shown)
        assert any("text/markdown" in o["data"] for o in shown)
    else:
        assert "casme2/cropped_2014" in text
