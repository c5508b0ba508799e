"""The reports of a finished experiment: ``results.json``, the task's ``results.md`` (and its
figures), and ``curves.png``.

The numbers themselves are the task's (:meth:`mejax.tasks.Task.summarize`): per-AU F1 of the
test clips of all rounds pooled next to the all-positive detector (STAP Tables III-V), or UF1 /
UAR / WAR / WF1 pooled over all folds as MEGC defines them next to the majority-class predictor.
Each test clip is predicted by the model(s) of the round that held it out, selected on that
round's validation subjects (or at the last step, ``train.selection=last``), never on the test
side.
"""

from __future__ import annotations

import json
from pathlib import Path

from mejax import reporting


def write_reports(workdir: Path, results: dict, task) -> None:
    """Writes ``results.json``, the task's reports and ``curves.png`` into ``workdir`` (each
    atomically: :func:`mejax.reporting.write_atomic`)."""
    workdir = Path(workdir)
    reporting.write_text(workdir / "results.json", json.dumps(results, indent=2))
    task.write_reports(workdir, results)
    if (workdir / "metrics.jsonl").exists():
        reporting.plot_curves(workdir / "metrics.jsonl", workdir / "curves.png", task.score_name)
