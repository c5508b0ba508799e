"""A hand-crafted baseline experiment: descriptors + linear SVMs through the protocols.

The baseline rows of STAP (Li, Huang, Zhao, arXiv:1907.05023, Tables III-V: LBP-TOP, LPQ-TOP)
and SCA (LBP-TOP, LPQ-TOP, LBP-SIP, HOG3D), plus 3DHOG and HOOF, evaluated exactly like the
deep models: the same database builder, clip preprocessing (``config.input``), protocol rounds
(``config.protocol``), AU labels, per-AU F1 pooled over the rounds' test clips next to the
all-positive detector, and the same ``results.json`` / ``results.md``
(:func:`mejax.evaluate.summarize`, :func:`mejax.evaluate.write_reports`).

Per round: one linear SVM per AU trained on the training subjects' descriptors, C chosen on the
validation subjects (or fixed; ``svm.py``), prediction of the test subjects. Descriptors of the
whole database are computed once and cached (``features.py``). Each round's test record is
saved as ``ROUND/predictions.npz`` (as in a deep run), and a round whose record exists is not
run again. In a record and in ``results.json``, ``selected_step`` of an AU is the index of
the selected C in the classifier's candidate list (ascending C; ``-1``: the AU had a single
class in training, constant detector) and ``selected_c`` the C itself; ``scores`` are the SVM
decision values (> 0: present).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import jax
import ml_collections
import numpy as np
from absl import logging

from mejax import evaluate, input_pipeline, protocols, recognition_report, tasks, train
from mejax.baselines import descriptors, features, recognition, svm


def run_round(config, round_: protocols.Round, data, labels, task, workdir: Path) -> dict:
    """Selects, trains and tests the SVMs of one round; returns its test record."""
    record_file = workdir / round_.name / "predictions.npz"
    if record_file.exists():
        logging.info("%s already finished: %s", round_.name, record_file)
        return dict(np.load(record_file))
    settings = svm.Settings.from_config(config.baseline.classifier)
    train_idx, val_idx, test_idx = (
        data.select(round_.split(side)) for side in ("train", "validation", "test")
    )
    x = data.features
    selected = svm.fit_au_detectors(
        x[train_idx], labels[train_idx], x[val_idx], labels[val_idx], settings,
        [f"{round_.name} {n}" for n in task.names], seed=config.seed,
    )  # fmt: skip
    candidates = settings.candidates
    record = {
        "names": np.asarray([data.names[i] for i in test_idx]),
        "labels": labels[test_idx],
        "predictions": np.stack([s.model.predict(x[test_idx]) for s in selected], 1).astype(
            np.int32
        ),
        "scores": np.stack([svm.scores(s.model, x[test_idx]) for s in selected], 1),
        "selected_step": np.asarray(
            [candidates.index(s.c) if s.c in candidates else -1 for s in selected], np.int32
        ),
        "selected_c": np.asarray([s.c for s in selected], np.float64),
        "val_f1": np.asarray([s.val_f1 for s in selected], np.float64),
    }
    logging.info(
        "%s: C %s, validation F1 %s",
        round_.name,
        dict(zip(task.names, record["selected_c"].tolist(), strict=True)),
        np.round(record["val_f1"], 3).tolist(),
    )
    if jax.process_index() == 0:
        record_file.parent.mkdir(parents=True, exist_ok=True)
        np.savez(record_file, **record)
    return record


def run(config: ml_collections.ConfigDict, workdir: str | Path) -> dict:
    """Runs the baseline experiment of ``config`` in ``workdir``.

    Returns:
      The results written to ``workdir/results.json``: for AU detection (``task.aus``) the
      keys of :func:`mejax.evaluate.summarize` (as a deep run) and each round's
      ``selected_c``; for recognition (``task.label``, ``recognition.py``) the keys of
      :func:`mejax.recognition_report.summarize` (UF1, UAR, WAR, WF1 and the confusion matrix,
      overall, per database part and per round, next to the majority-class predictor's) and
      each round's ``selected_c``, also drawn as ``confusion.png``; both with the
      ``descriptor``, ``feature_dim`` and ``features_cache`` used.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    train.check_workdir(config, workdir)
    # Fail on a bad setting before any extraction.
    svm.Settings.from_config(config.baseline.classifier)
    descriptors.make(config.baseline.descriptor, config.baseline.blocks)
    recognition_task = "label" in config.task
    if not recognition_task:
        task = tasks.AUOneVsRest(tuple(config.task.aus))
    builder = input_pipeline.database_builder(config.dataset)
    rounds = protocols.PROTOCOLS[config.protocol.name](
        input_pipeline.subjects(builder), tuple(config.protocol.rounds)
    )
    data = features.extract(config, builder)
    if recognition_task:
        classes, labels = recognition.class_labels(config, data)
        records = [recognition.run_round(config, r, data, labels, classes, workdir) for r in rounds]
        results = recognition.summarize(config, classes, rounds, records)
        _describe(results, config, data)
        if jax.process_index() == 0:
            (workdir / "results.json").write_text(json.dumps(results, indent=2))
            (workdir / "results.md").write_text(recognition.markdown_table(results))
            recognition_report.plot_confusion(
                results["confusion"], results["classes"], workdir / "confusion.png"
            )
        return results
    labels = task.labels(data.aus)
    records = [run_round(config, r, data, labels, task, workdir) for r in rounds]
    results = evaluate.summarize(task.names, rounds, records, config)
    for summary, record in zip(results["rounds"], records, strict=True):
        summary["selected_c"] = {
            n: None if math.isnan(c) else c
            for n, c in zip(task.names, record["selected_c"].tolist(), strict=True)
        }
    _describe(results, config, data)
    if jax.process_index() == 0:
        evaluate.write_reports(workdir, results)
    return results


def _describe(results: dict, config, data) -> None:
    results["descriptor"] = json.loads(json.dumps(config.baseline.descriptor.to_dict()))
    results["feature_dim"] = int(data.features.shape[1])
    results["features_cache"] = str(data.path)
