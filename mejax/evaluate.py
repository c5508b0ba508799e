"""Pooling of the protocol's rounds into the final numbers and the reports.

Per-AU F1 is computed over the test clips of all rounds pooled (each test clip is predicted by
the models of the round that held it out, selected on that round's validation subjects), then
averaged over AUs, as in STAP's Tables III-V. Next to every F1 stands the F1 of the trivial
detector that calls every AU present in every clip, on the same clips: a model that has learned
nothing scores at or below it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mejax import metrics, protocols, reporting


def summarize(names: list[str], rounds: list[protocols.Round], records: list[dict], config) -> dict:
    """Results dict of an experiment from its rounds' test records."""
    labels = np.concatenate([r["labels"] for r in records])
    predictions = np.concatenate([r["predictions"] for r in records])
    f1 = metrics.f1_per_au(labels, predictions)
    baseline = metrics.all_positive_f1(labels)
    return {
        "experiment": config.get("name", ""),
        "database": config.dataset.name,
        "protocol": config.protocol.name,
        "rounds": [
            {
                "name": r.name,
                "train": list(r.train),
                "validation": list(r.validation),
                "test": list(r.test),
                "selected_step": dict(zip(names, rec["selected_step"].tolist(), strict=True)),
                "validation_f1": dict(zip(names, rec["val_f1"].tolist(), strict=True)),
            }
            for r, rec in zip(rounds, records, strict=True)
        ],
        "num_test_clips": int(len(labels)),
        "positives": dict(zip(names, labels.sum(0).tolist(), strict=True)),
        "f1": dict(zip(names, f1.tolist(), strict=True)),
        "f1_all_positive": dict(zip(names, baseline.tolist(), strict=True)),
        "average_f1": float(f1.mean()),
        "average_f1_all_positive": float(baseline.mean()),
    }


def markdown_table(results: dict) -> str:
    """The results laid out like STAP's Tables III-V (AUs as rows, F1 per method)."""
    method = results["experiment"] or "model"
    lines = [
        f"# {method} on {results['database']} ({results['protocol']})",
        "",
        f"F1 per AU on {results['num_test_clips']} test clips pooled over "
        f"{len(results['rounds'])} round(s); models selected on validation subjects only.",
        "",
        f"| AU | test positives | {method} | all-positive |",
        "|---|---:|---:|---:|",
    ]
    for name, f1 in results["f1"].items():
        lines.append(
            f"| {name} | {results['positives'][name]} | {f1:.3f} "
            f"| {results['f1_all_positive'][name]:.3f} |"
        )
    lines.append(
        f"| **Avg** | | **{results['average_f1']:.3f}** "
        f"| {results['average_f1_all_positive']:.3f} |"
    )
    return "\n".join(lines) + "\n"


def write_reports(workdir: Path, results: dict) -> None:
    """Writes ``results.json``, ``results.md`` and ``curves.png`` into ``workdir``."""
    workdir = Path(workdir)
    (workdir / "results.json").write_text(json.dumps(results, indent=2))
    (workdir / "results.md").write_text(markdown_table(results))
    if (workdir / "metrics.jsonl").exists():
        reporting.plot_curves(workdir / "metrics.jsonl", workdir / "curves.png")
