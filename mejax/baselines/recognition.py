"""Micro-expression recognition with a multi-class linear SVM on a hand-crafted descriptor.

The recognition baselines of the ME databases and challenges -- LBP-TOP + SVM in CASME II
(Yan et al., PLoS ONE 2014), SMIC and the MEGC2019 baseline (See et al., FG 2019), with
LBP-SIP, LPQ-TOP, HOOF and the others as alternatives -- classify each clip's descriptor with
one linear SVM over the classes. A config selects it with the recognition task
(``config.task.name = "mer"``, :class:`mejax.tasks.Recognition`: a label set of
:mod:`mejax.datasets.labels` and its classes); clips outside the label set are left out.

Per round the SVM is trained on the training subjects with C selected by the macro F1 (UF1) on
the validation subjects (``svm.py``); each round's record also keeps the majority class of its
training clips (the trivial majority-class predictor). The test predictions of all rounds are
pooled and scored as MEGC does by :mod:`mejax.recognition_report`, as for the deep models (UF1,
UAR, WAR, WF1, confusion matrix, overall and per database part of a composite, each next to
the majority-class predictor's), with the selected C of every round added
(:mod:`mejax.baselines.run`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mejax import protocols, reporting, train
from mejax.baselines import svm


def run_round(config, round_: protocols.Round, data, labels, task, workdir: Path) -> dict:
    """Selects, trains and tests the multi-class SVM of one round; returns its test record."""
    classes = task.classes
    train_idx, val_idx, test_idx = (
        round_.indices(side, data) for side in ("train", "validation", "test")
    )
    # The most frequent class of the training clips (the lowest index on a tie).
    majority = np.asarray([np.bincount(labels[train_idx], minlength=len(classes)).argmax()])
    record_file = workdir / round_.name / "predictions.npz"
    if record_file.exists():
        return dict(np.load(record_file))
    train.mark_round(workdir / round_.name, config)
    settings = svm.Settings.from_config(config.baseline.classifier)
    x = data.inputs
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
        "selected_step": np.asarray(
            [settings.candidates.index(chosen.c) if chosen.c in settings.candidates else -1]
        ),
        "selected_score": np.asarray([chosen.val_f1]),
    }
    record_file.parent.mkdir(parents=True, exist_ok=True)
    reporting.savez(record_file, **record)
    return record
