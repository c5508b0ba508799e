"""Micro-expression recognition with a multi-class linear SVM on a hand-crafted descriptor.

The recognition baselines of the ME databases and challenges -- LBP-TOP + SVM in CASME II
(Yan et al., PLoS ONE 2014), SMIC and the MEGC2019 baseline (See et al., FG 2019), with
LBP-SIP, LPQ-TOP, HOOF and the others as alternatives -- classify each clip's descriptor with
one linear SVM over the classes. A config selects this task with ``config.task.label``
(``"emotion"`` or ``"objective_class"``, a feature of every mejax database) in place of
``task.aus``; ``config.task.classes`` lists the classes (empty: every value in the database).
Clips without a label (objective class -1, empty emotion) are left out.

Per round the SVM is trained on the training subjects with C selected by the macro F1 (UF1) on
the validation subjects (``svm.py``); each round's record also keeps the majority class of its
training clips (the trivial majority-class predictor). The test predictions of all rounds are
pooled and scored as MEGC does by :mod:`mejax.recognition_report`, as for the deep models (UF1,
UAR, WAR, WF1, confusion matrix, overall and per database part of a composite, each next to
the majority-class predictor's), with the selected C of every round added.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mejax import protocols, recognition_report
from mejax.baselines import svm
from mejax.datasets import aus as au_vocab

LABELS = ("emotion", "objective_class")


def class_labels(config, data) -> tuple[list[str], np.ndarray]:
    """(class names, (N,) class index of every clip, -1 where unlabelled)."""
    label = config.task.label
    if label == "objective_class":
        values = [
            au_vocab.OBJECTIVE_CLASSES[i] if i >= 0 else "" for i in data.objective_class.tolist()
        ]
    elif label == "emotion":
        values = list(data.emotion)
    else:
        raise ValueError(f"task.label {label!r} not in {LABELS}")
    classes = list(config.task.get("classes", ()) or sorted({v for v in values if v}))
    if len(classes) < 2:
        raise ValueError(f"task.label {label!r}: fewer than two classes ({classes})")
    index = {name: i for i, name in enumerate(classes)}
    unknown = sorted({v for v in values if v and v not in index})
    if unknown:
        raise ValueError(f"task.classes {classes} lacks the {label} values {unknown}")
    return classes, np.asarray([index.get(v, -1) for v in values], np.int64)


def run_round(config, round_: protocols.Round, data, labels, classes, workdir: Path) -> dict:
    """Selects, trains and tests the multi-class SVM of one round; returns its test record."""
    train_idx, val_idx, test_idx = (
        np.intersect1d(data.select(round_.split(side)), np.flatnonzero(labels >= 0))
        for side in ("train", "validation", "test")
    )
    # The most frequent class of the training clips (the lowest index on a tie).
    majority = np.asarray([np.bincount(labels[train_idx], minlength=len(classes)).argmax()])
    record_file = workdir / round_.name / "predictions.npz"
    if record_file.exists():  # a record written before "majority" was saved lacks it
        with np.load(record_file) as saved:
            return {"majority": majority, **saved}
    settings = svm.Settings.from_config(config.baseline.classifier)
    x = data.features
    chosen = svm.select(
        x[train_idx], labels[train_idx], x[val_idx], labels[val_idx], settings,
        config.seed, round_.name, metric="macro_f1",
    )  # fmt: skip
    raw = svm.scores(chosen.model, x[test_idx])
    present = np.asarray(chosen.model.classes_)
    if raw.ndim == 1:  # two classes present: the decision value favours the second
        raw = np.stack([-raw, raw], 1) if len(present) == 2 else raw[:, None]
    scores = np.full((len(test_idx), len(classes)), -np.inf)
    scores[:, present] = raw
    record = {
        "names": np.asarray([data.names[i] for i in test_idx]),
        "labels": labels[test_idx],
        "predictions": np.asarray(chosen.model.predict(x[test_idx]), np.int64),
        "scores": scores,
        "databases": np.asarray([data.databases[i] for i in test_idx]),
        "majority": majority,
        "selected_c": np.asarray([chosen.c]),
        "val_f1": np.asarray([chosen.val_f1]),
    }
    record_file.parent.mkdir(parents=True, exist_ok=True)
    np.savez(record_file, **record)
    return record


def summarize(config, classes, rounds, records) -> dict:
    """Results of a recognition experiment from its rounds' test records.

    :func:`mejax.recognition_report.summarize`'s results, after the experiment's description
    and its ``rounds`` (subjects, selected C and validation UF1 of every round).
    """
    report = recognition_report.summarize(records, [r.name for r in rounds], classes)
    c = [float(r["selected_c"][0]) for r in records]
    return {
        "experiment": config.get("name", ""),
        "database": config.dataset.name,
        "protocol": config.protocol.name,
        "task": "mer",
        "label": config.task.label,
        "rounds": [
            {
                "name": r.name,
                "train": list(r.train),
                "validation": list(r.validation),
                "test": list(r.test),
                "selected_c": None if math.isnan(value) else value,
                "validation_uf1": float(rec["val_f1"][0]),
            }
            for r, rec, value in zip(rounds, records, c, strict=True)
        ],
        **report,
    }


def markdown_table(results: dict) -> str:
    """``results.md``: :func:`mejax.recognition_report.markdown` of the results."""
    method = results["experiment"] or "model"
    return recognition_report.markdown(
        results,
        f"{method} on {results['database']} ({results['protocol']}, {results['label']})",
        "C selected on validation subjects only.",
    )
