"""The Colab notebooks of ``experiments/colab`` run top to bottom (on a CPU, in their tiny
setting) and are committed without outputs."""

from __future__ import annotations

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


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom(path, tmp_path, monkeypatch):
    monkeypatch.setenv("MEJAX_NOTEBOOK_TINY", "1")
    monkeypatch.setenv("MEJAX_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.setenv("MEJAX_WORKDIR", str(tmp_path / "run"))
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}
    )
    client.execute()
    text = "\n".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )
    if path.stem == "quickstart":
        assert (tmp_path / "run" / "results.md").is_file()
        assert "average F1" in text
        shown = [o for c in notebook.cells for o in c.get("outputs", []) if "data" in o]
        assert any("image/png" in o["data"] for o in shown)
        assert any("text/markdown" in o["data"] for o in shown)
    else:
        assert "casme2/cropped_2014" in text
