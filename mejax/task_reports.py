"""The reports of the clip tasks (:mod:`mejax.tasks`): each task's ``results.md`` and console
headline, laid out like its paper's tables, beside the tasks rather than inside them.

* AU detection (:func:`au_markdown`): STAP's Tables III-V, AUs as rows, F1 per method next to
  the all-positive detector;
* recognition (:func:`recognition_markdown`): MEGC's UF1 / UAR / WAR / WF1 per database part
  next to the majority-class predictor (:mod:`mejax.recognition_report`), and the confusion
  matrix (:func:`write_recognition`);
* recognition with AU detectors (:func:`recognition_au_markdown`): MER-auGCN's Table VII added.
"""

from __future__ import annotations

import numpy as np

from mejax import recognition_report, reporting


def _cell(value) -> str:
    return "" if value is None else f"{value:.3f}"


def au_markdown(results: dict) -> str:
    """The results laid out like STAP's Tables III-V (AUs as rows, F1 per method)."""
    method = results["experiment"] or "model"
    lines = [
        f"# {method} on {results['database']} ({results['protocol']})",
        "",
        f"F1 per AU on {results['num_test_clips']} test clips pooled over "
        f"{len(results['rounds'])} round(s); "
        f"{results.get('selected_by', 'models selected on validation subjects only')}.",
        "",
        f"| AU | test positives | {method} | all-positive | {method} accuracy |",
        "|---|---:|---:|---:|---:|",
    ]
    accuracy = results.get("accuracy", {})
    for name, f1 in results["f1"].items():
        lines.append(
            f"| {name} | {results['positives'][name]} | {f1:.3f} "
            f"| {results['f1_all_positive'][name]:.3f} | {_cell(accuracy.get(name))} |"
        )
    lines.append(
        f"| **Avg** | | **{results['average_f1']:.3f}** "
        f"| {results['average_f1_all_positive']:.3f} "
        f"| {_cell(results.get('average_accuracy'))} |"
    )
    unselectable = results.get("no_validation_positives", {})
    if unselectable:
        lines += [
            "",
            "No validation positives (validation F1 0 at every evaluation, so it cannot "
            "guide the model selection; a one-vs-rest model of such an AU is the first "
            "evaluation's, a baseline's SVM the first C): "
            + "; ".join(f"{r}: {', '.join(aus)}" for r, aus in unselectable.items())
            + ".",
        ]
    return "\n".join(lines) + "\n"


def au_headline(results: dict) -> str:
    """The console line of an AU run: average F1 next to the all-positive detector's."""
    return (
        f"average F1 {results['average_f1']:.3f} "
        f"(all-positive {results['average_f1_all_positive']:.3f})"
    )


def recognition_markdown(results: dict) -> str:
    """A recognition run's ``results.md`` (:func:`mejax.recognition_report.markdown`)."""
    title = (
        f"{results['experiment'] or 'model'} on {results['database']} "
        f"({results['protocol']}, {results['label_set']})"
    )
    if not results["num_test_clips"]:
        return (
            f"# {title}\n\nNo test side (protocol {results['protocol']}): the run trains "
            f"weights for a later run's init_from. Validation UF1 "
            f"{results['validation_uf1']:.3f}.\n"
        )
    note = results.get("selected_by") or (  # results.json of a run before "selected_by"
        "models (or a baseline's C) selected on validation subjects only"
        if results["selection"] == "validation"
        else "the model of the last step (the papers' fixed schedule)"
    )
    return recognition_report.markdown(results, title, note)


def recognition_headline(results: dict) -> str:
    """The console line of a recognition run."""
    if not results["num_test_clips"]:
        return f"no test side; validation UF1 {results['validation_uf1']:.3f}"
    return recognition_report.headline(results)


def write_recognition(workdir, results: dict, markdown: str) -> None:
    """Writes a recognition run's ``results.md`` (``markdown``) and ``confusion.png``."""
    reporting.write_text(workdir / "results.md", markdown)
    if results["num_test_clips"]:
        recognition_report.plot_confusion(
            results["confusion"], results["classes"], workdir / "confusion.png"
        )


def recognition_au_markdown(results: dict) -> str:
    """A joint recognition and AU-detection run's ``results.md``: recognition, then MER-auGCN's
    Table VII (per-AU F1 per round, their mean, pooled, and the all-positive detector)."""
    text = recognition_markdown(results)
    detection = results.get("au_detection")
    if not detection:
        return text
    rounds = list(detection["per_round"])
    lines = [
        "",
        f"## AU detection ({detection['num_test_clips']} test clips, F1 per AU; Table VII "
        "of MER-auGCN)",
        "",
        "| AU | positives | " + " | ".join(rounds) + " | mean over rounds | pooled "
        "| all-positive |",
        "|---|---:|" + "---:|" * (len(rounds) + 4 - 1),
    ]
    for name in detection["aus"]:
        cells = " | ".join(f"{detection['per_round'][r][name]:.3f}" for r in rounds)
        lines.append(
            f"| {name} | {detection['positives'][name]} | {cells} "
            f"| {detection['round_mean'][name]:.3f} | {detection['f1'][name]:.3f} "
            f"| {detection['f1_all_positive'][name]:.3f} |"
        )
    means = " | ".join(f"{np.mean(list(detection['per_round'][r].values())):.3f}" for r in rounds)
    lines.append(
        f"| **Avg** | | {means} | **{detection['average_round_mean']:.3f}** "
        f"| {detection['average_f1']:.3f} | {detection['average_f1_all_positive']:.3f} |"
    )
    return text + "\n".join(lines) + "\n"
