"""Results and reports of a micro-expression recognition (MER) experiment.

One place that turns the test predictions of every round of a protocol into the numbers and
the reports of a recognition run, for the deep models and the hand-crafted baselines alike
(:mod:`mejax.baselines.fitter`).

The figures are those of the MEGC challenges (See et al., MEGC2019, FG 2019; Yap et al.,
MEGC2018, FG 2018), computed by scikit-learn through :mod:`mejax.metrics` on the predictions of
every fold (round) POOLED: UF1 (macro F1 of the pooled predictions), UAR (mean per-class
recall), WAR (accuracy) and WF1 (support-weighted F1), with the confusion matrix. Every part of
a composite database (MEGC2019's CASME II / SAMM / SMIC columns) is scored over the protocol's
classes, so a class absent from a part still counts, with F1 and recall 0, in that part's
means, as MEGC scores it.

``macro_f1_fold_mean`` is the other figure some papers report under the name of F1: the mean
over folds of each fold's macro F1, every fold scored over the classes present in its labels or
predictions and weighing the same whatever its size (:func:`mejax.metrics.macro_f1_fold_mean`).
In LOSO a subject rarely shows every class, so the two differ, often by much; only the pooled
UF1 is comparable with MEGC results.

Next to every figure stands that of the trivial majority-class predictor on the same clips:
each round predicts, for every one of its test clips, the most frequent class among its
training clips (the record's ``majority``). A model that has learned nothing scores at or near
it -- the recognition counterpart of the all-positive detector of ``mejax/evaluate.py``.

:func:`summarize` builds the JSON results, :func:`markdown` the ``results.md``,
:func:`plot_confusion` the ``confusion.png`` and :func:`headline` the console line.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mejax import metrics, reporting

# The pooled figures of every row (the per-fold mean is added next to them).
_POOLED = ("uf1", "uar", "war", "wf1", "confusion", "num_samples")


def _scores(labels, predictions, folds, num_classes: int) -> dict:
    pooled = metrics.recognition_metrics(labels, predictions, range(num_classes))
    return {
        **{k: pooled[k] for k in _POOLED},
        "macro_f1_fold_mean": metrics.macro_f1_fold_mean(labels, predictions, folds),
    }


def _with_majority(labels, predictions, majority, folds, num_classes: int) -> dict:
    result = _scores(labels, predictions, folds, num_classes)
    result["majority"] = _scores(labels, majority, folds, num_classes)
    return result


def summarize(records: list[dict], round_names: list[str], classes: Sequence[str]) -> dict:
    """The results of a recognition experiment from its rounds' test records.

    Args:
      records: one per round: ``labels`` and ``predictions`` ((n,) class indices),
        ``databases`` ((n,) the database part of each clip) and ``majority`` (0-d or (1,): the
        most frequent class index among the round's training clips). A round may have no
        test clip.
      round_names: the rounds' names, in the order of ``records``.
      classes: the protocol's class names, in the order of the class indices.

    Returns:
      A JSON-serialisable dict: ``classes``, ``num_test_clips``; the pooled ``uf1``, ``uar``,
      ``war``, ``wf1``, ``confusion`` (rows true, columns predicted), ``num_samples`` and
      ``macro_f1_fold_mean``; ``majority``, the same figures of the majority-class predictor;
      ``per_database``, ``{part: the same figures and their own "majority"}`` for every
      database part; ``per_fold``, one ``{name, num_samples, uf1, uar, war, majority_class}``
      per round, scored over the classes present in the round (``None`` without test clip).
    """
    classes = [str(c) for c in classes]
    if len(records) != len(round_names):
        raise ValueError(f"{len(records)} records but {len(round_names)} round names")
    labels, predictions, majority, databases, folds, per_fold = [], [], [], [], [], []
    for fold, (name, record) in enumerate(zip(round_names, records, strict=True)):
        y = np.asarray(record["labels"], np.int64).reshape(-1)
        p = np.asarray(record["predictions"], np.int64).reshape(-1)
        d = np.asarray(record["databases"]).reshape(-1).astype(str)
        m = np.asarray(record["majority"]).reshape(-1)
        if m.shape != (1,) or not 0 <= int(m[0]) < len(classes):
            raise ValueError(f"{name}: majority {record['majority']!r} is not one class index")
        if not (y.shape == p.shape == d.shape):
            raise ValueError(
                f"{name}: labels {y.shape}, predictions {p.shape}, databases {d.shape}"
            )
        for key, values in (("labels", y), ("predictions", p)):
            if len(values) and not (values.min() >= 0 and values.max() < len(classes)):
                raise ValueError(f"{name}: {key} outside the {len(classes)} classes {classes}")
        row = {"name": str(name), "num_samples": len(y), "uf1": None, "uar": None, "war": None}
        if len(y):
            row.update(metrics.fold_scores(y, p))
        row["majority_class"] = classes[int(m[0])]
        per_fold.append(row)
        labels.append(y)
        predictions.append(p)
        majority.append(np.full_like(y, int(m[0])))
        databases.append(d)
        folds.append(np.full(len(y), fold))
    labels, predictions, majority, databases, folds = map(
        np.concatenate, (labels, predictions, majority, databases, folds)
    )
    if not len(labels):
        raise ValueError("no test clip in any round")
    n = len(classes)
    results = {
        "classes": classes,
        "num_test_clips": len(labels),
        **_with_majority(labels, predictions, majority, folds, n),
        "per_database": {},
        "per_fold": per_fold,
    }
    for part in sorted(set(databases.tolist())):
        s = databases == part
        results["per_database"][part] = _with_majority(
            labels[s], predictions[s], majority[s], folds[s], n
        )
    return results


def fold_mean(per_fold: list[dict], key: str) -> float:
    """Mean of the rounds' ``key`` (``uf1``, ``uar``, ``war``) over the rounds with test clips
    (MEGC2018 HDE's "Avg" of its two folds)."""
    return float(np.mean([f[key] for f in per_fold if f["num_samples"]]))


def _pair(m: dict, key: str) -> str:
    return f"{m[key]:.3f} ({m['majority'][key]:.3f})"


def markdown(results: dict, title: str, selection_note: str) -> str:
    """``results.md`` of :func:`summarize`'s results.

    Args:
      results: :func:`summarize`'s dict (extra keys are ignored).
      title: the report's title.
      selection_note: how the models were selected, e.g. "C selected on validation subjects
        only.".
    """
    rounds = len(results["per_fold"])
    note = selection_note.strip()
    if note and not note.endswith((".", "!", "?")):
        note += "."
    rows = [("all", results), *results["per_database"].items()]
    lines = [
        f"# {title}",
        "",
        f"{results['num_test_clips']} test clips pooled over {rounds} round(s); {note}",
        "",
        "UF1, UAR, WAR and WF1 of the predictions of every round pooled, as MEGC scores them, "
        "each part over all the classes. In parentheses: the majority-class predictor's figure "
        "on the same clips (each round predicts the most frequent class of its training clips).",
        "",
        "| part | clips | UF1 | UAR | WAR | WF1 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for part, m in rows:
        cells = " | ".join(_pair(m, k) for k in ("uf1", "uar", "war", "wf1"))
        lines.append(f"| {part} | {m['num_samples']} | {cells} |")
    if len(results["per_database"]) > 1:  # a composite: the layout of MEGC2019's tables
        parts = [("Full", results), *results["per_database"].items()]
        lines += [
            "",
            "UF1 / UAR by part, laid out as MEGC2019 reports them:",
            "",
            "| method | " + " | ".join(name for name, _ in parts) + " |",
            "|---|" + "---:|" * len(parts),
            f"| {title.split(' on ')[0]} | "
            + " | ".join(f"{m['uf1']:.4f} / {m['uar']:.4f}" for _, m in parts)
            + " |",
            "| majority class | "
            + " | ".join(
                f"{m['majority']['uf1']:.4f} / {m['majority']['uar']:.4f}" for _, m in parts
            )
            + " |",
        ]
    lines += [
        "",
        "Mean over rounds of each round's macro F1 (over the classes present in the round; "
        "not pooled, not comparable with UF1): "
        + ", ".join(f"{part} {_pair(m, 'macro_f1_fold_mean')}" for part, m in rows)
        + ".",
    ]
    classes = results["classes"]
    lines += ["", "Confusion matrix (rows true, columns predicted):", ""]
    lines += ["| true \\ predicted | " + " | ".join(classes) + " |"]
    lines += ["|---|" + "---:|" * len(classes)]
    for name, row in zip(classes, results["confusion"], strict=True):
        lines.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
    lines += [
        "",
        "Per round (over the classes present in the round):",
        "",
        "| round | clips | UF1 | UAR | WAR | majority class |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for f in results["per_fold"]:
        cells = " | ".join("-" if f[k] is None else f"{f[k]:.3f}" for k in ("uf1", "uar", "war"))
        lines.append(f"| {f['name']} | {f['num_samples']} | {cells} | {f['majority_class']} |")
    tested = [f for f in results["per_fold"] if f["num_samples"]]
    if len(tested) > 1:  # MEGC2018 HDE's "Avg": the mean of the two folds' figures
        cells = " | ".join(f"{fold_mean(tested, k):.3f}" for k in ("uf1", "uar", "war"))
        lines.append(f"| mean over rounds | | {cells} | |")
    lines += ["", "![confusion matrix](confusion.png)"]
    return "\n".join(lines) + "\n"


def plot_confusion(confusion, classes, path) -> None:
    """Writes the confusion matrix as a PNG: counts in the cells, colour the row fraction."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    counts = np.asarray(confusion, np.int64)
    classes = [str(c) for c in classes]
    if counts.shape != (len(classes), len(classes)):
        raise ValueError(f"confusion {counts.shape} does not match {len(classes)} classes")
    totals = counts.sum(1, keepdims=True)
    fractions = counts / np.maximum(totals, 1)
    size = 2.0 + 0.8 * len(classes)
    fig = Figure(figsize=(size + 1.5, size), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(fractions, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(
                j, i, str(counts[i, j]), ha="center", va="center", fontsize=11,
                color="white" if fractions[i, j] > 0.5 else "black",
            )  # fmt: skip
    ticks = range(len(classes))
    ax.set_xticks(ticks, classes)
    if len(classes) > 4 or max(map(len, classes)) > 10:  # slanted, ending under their column
        for label in ax.get_xticklabels():
            label.set(rotation=30, ha="right", rotation_mode="anchor")
    ax.set_yticks(ticks, [f"{c} ({t})" for c, t in zip(classes, totals[:, 0], strict=True)])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix ({int(counts.sum())} clips)")
    reporting.write_atomic(path, lambda file: fig.savefig(file, dpi=100, format="png"), binary=True)


def headline(results: dict) -> str:
    """One console line: UF1, UAR and WAR with the majority-class predictor's in parentheses."""
    m = results["majority"]
    return (
        f"UF1 {results['uf1']:.3f} (majority {m['uf1']:.3f}), "
        f"UAR {results['uar']:.3f} ({m['uar']:.3f}), WAR {results['war']:.3f} ({m['war']:.3f})"
    )
