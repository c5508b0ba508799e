"""A hand-crafted baseline experiment: descriptors + linear SVMs through the protocols.

The baseline rows of STAP (Li, Huang, Zhao, arXiv:1907.05023, Tables III-V: LBP-TOP, LPQ-TOP)
and SCA (LBP-TOP, LPQ-TOP, LBP-SIP, HOG3D), plus 3DHOG and HOOF, evaluated exactly like the
deep models: the same database builders (``dataset`` and ``dataset.extra``), clip preprocessing
(``config.input``), protocol rounds (``config.protocol``), task (``config.task``: its targets,
summary and reports; per-AU F1 next to the all-positive detector, or UF1 / UAR / WAR / WF1 next
to the majority-class predictor) and the same ``results.json`` / ``results.md``.

Per round: one linear SVM per AU (``run_round``), or one multi-class SVM
(``recognition.run_round``), trained on the training subjects' descriptors, C chosen on the
validation subjects (or fixed; ``svm.py``), prediction of the test subjects. Descriptors of the
whole database are computed once and cached (``features.py``). Each round's test record is
saved as ``ROUND/predictions.npz`` (as in a deep run), and a round whose record exists is not
run again. In a record and in ``results.json``, ``selected_step`` is the index of the selected
C in the classifier's candidate list (ascending C; ``-1``: the AU had a single class in
training, constant detector), ``selected_c`` the C itself and ``selected_score`` its validation
F1 (UF1 for recognition); ``scores`` are the SVM decision values (> 0: present).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import jax
import ml_collections
import numpy as np
from absl import logging

from mejax import (
    checkpointing,
    clipset,
    evaluate,
    input_pipeline,
    paper_sets,
    protocols,
    reporting,
    tasks,
    train,
)
from mejax.baselines import descriptors, features, recognition, svm


def run_round(config, round_: protocols.Round, data, labels, task, workdir: Path) -> dict:
    """Selects, trains and tests the per-AU SVMs of one round; returns its test record."""
    record_file = workdir / round_.name / "predictions.npz"
    if record_file.exists():
        logging.info("%s already finished: %s", round_.name, record_file)
        return dict(np.load(record_file))
    train.mark_round(workdir / round_.name, config)
    settings = svm.Settings.from_config(config.baseline.classifier)
    train_idx, val_idx, test_idx = (
        round_.indices(side, data) for side in ("train", "validation", "test")
    )
    x = data.inputs
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
        "selected_score": np.asarray([s.val_f1 for s in selected], np.float64),
        "validation_positives": labels[val_idx].sum(0),
    }
    logging.info(
        "%s: C %s, validation F1 %s",
        round_.name,
        dict(zip(task.names, record["selected_c"].tolist(), strict=True)),
        np.round(record["selected_score"], 3).tolist(),
    )
    if jax.process_index() == 0:
        record_file.parent.mkdir(parents=True, exist_ok=True)
        reporting.savez(record_file, **record)
    return record


def run(config: ml_collections.ConfigDict, workdir: str | Path) -> dict:
    """Runs the baseline experiment of ``config`` in ``workdir``.

    Returns:
      The results written to ``workdir/results.json``: the task's summary (as a deep run's),
      each round's ``selected_c``, and the ``descriptor``, ``feature_dim`` and
      ``features_cache`` used.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    with checkpointing.workdir_lock(workdir):  # the deep runs' lock: one run per workdir
        return _run_in(config, workdir)


def _run_in(config: ml_collections.ConfigDict, workdir: Path) -> dict:
    """:func:`run` in a locked ``workdir``."""
    train.check_workdir(config, workdir)
    # Fail on a bad setting before any extraction.
    svm.Settings.from_config(config.baseline.classifier)
    descriptors.make(config.baseline.descriptor, config.baseline.blocks)
    blocks = input_pipeline.dataset_blocks(config.dataset)
    parts = [
        features.extract(config, input_pipeline.database_builder(b), prefix=len(blocks) > 1)
        for b in blocks
    ]
    data = parts[0][0] if len(parts) == 1 else clipset.ClipSet.concatenate([d for d, _ in parts])
    data = paper_sets.select(data, config.task)
    task = tasks.build(config.task, data)
    data, targets = task.take_part(data)
    rounds = protocols.build(config.protocol, data, config.seed)
    fit = recognition.run_round if isinstance(task, tasks.Recognition) else run_round
    records = [fit(config, r, data, targets, task, workdir) for r in rounds]
    results = task.summarize(records, rounds, config)
    for summary, record in zip(results["rounds"], records, strict=True):
        c = [None if math.isnan(v) else v for v in record["selected_c"].tolist()]
        recognition_task = isinstance(task, tasks.Recognition)
        summary["selected_c"] = c[0] if recognition_task else dict(zip(task.names, c, strict=True))
    results["descriptor"] = json.loads(json.dumps(config.baseline.descriptor.to_dict()))
    results["feature_dim"] = int(data.inputs.shape[1])
    results["features_cache"] = ", ".join(str(cache.path) for _, cache in parts)
    if jax.process_index() == 0:
        evaluate.write_reports(workdir, results, task)
    return results
