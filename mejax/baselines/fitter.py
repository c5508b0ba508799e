"""The per-round fitter of the hand-crafted baselines: descriptors + linear SVMs.

The baseline rows of STAP (Li, Huang, Zhao, arXiv:1907.05023, Tables III-V: LBP-TOP, LPQ-TOP)
and SCA (LBP-TOP, LPQ-TOP, LBP-SIP, HOG3D), plus 3DHOG and HOOF, and the recognition
baselines of the ME databases and challenges (LBP-TOP + SVM in CASME II, Yan et al., PLoS ONE
2014; SMIC; the MEGC2019 baseline, See et al., FG 2019) run through the one experiment path
(:mod:`mejax.experiment`) exactly like the deep models: the same database builders, clip
preprocessing (``config.input``), protocol rounds, task, summary and reports.

The descriptors of the whole database are computed once and cached (``features.py``). Per
round, what is fitted follows the kind of target the task has (:attr:`mejax.tasks.Task.
target_kind`): for AU labels one binary linear SVM per AU, for a class one multi-class linear
SVM, each trained on the training subjects with C selected on the validation subjects by F1
(UF1 for a class; or fixed; ``svm.py``), then predicting the test subjects. In a record and in
``results.json``, ``selected_step`` is the index of the selected C in the classifier's
candidate list (ascending C; ``-1``: the AU had a single class in training, constant
detector), ``selected_c`` the C itself and ``selected_score`` its validation F1; ``scores`` are
the SVM decision values (> 0: present). A class record keeps the majority class of the
round's training clips (the trivial majority-class predictor).
"""

from __future__ import annotations

import json
import math

import numpy as np
from absl import logging

from mejax import clipset, input_pipeline, protocols
from mejax.baselines import descriptors, features, svm


class SVMFitter:
    """Fits a round's SVM(s) on the run's descriptors (see the module docstring)."""

    selected_label, selected_key = "C", "selected_c"

    @staticmethod
    def method(config) -> str:
        """What the run fits, in a word or two (the console's first line)."""
        return f"{config.baseline.get('descriptor', {}).get('name', 'hand-crafted')} baseline"

    def __init__(self, config):
        self.config = config
        # A bad setting fails before any extraction.
        self.settings = svm.Settings.from_config(config.baseline.classifier)
        descriptors.make(config.baseline.descriptor, config.baseline.blocks)

    def load(self) -> clipset.ClipSet:
        """The clips of the run's database(s), their descriptors as inputs (cached)."""
        blocks = input_pipeline.dataset_blocks(self.config.dataset)
        parts = [
            features.extract(
                self.config, input_pipeline.database_builder(b), prefix=len(blocks) > 1
            )
            for b in blocks
        ]
        self.caches = [cache for _, cache in parts]
        if len(parts) == 1:
            return parts[0][0]
        return clipset.ClipSet.concatenate([data for data, _ in parts])

    def prepare(self, task, data, targets: np.ndarray, workdir) -> None:
        if task.target_kind not in ("au_labels", "class"):
            raise ValueError(f"a baseline fits AU labels or a class, not {task.target_kind}")
        self.task, self.data, self.targets = task, data, targets

    def fit(self, pending: list[tuple[int, protocols.Round]]):
        """Yields (index, test record) of each pending round."""
        for index, round_ in pending:
            sides = [round_.indices(s, self.data) for s in ("train", "validation", "test")]
            if self.task.target_kind == "class":
                yield index, self._classes(round_, *sides)
            else:
                yield index, self._au_labels(round_, *sides)

    def _au_labels(self, round_, train, val, test) -> dict:
        """One binary SVM per AU."""
        x, labels, names = self.data.inputs, self.targets, self.task.names
        selected = svm.fit_au_detectors(
            x[train], labels[train], x[val], labels[val], self.settings,
            [f"{round_.name} {n}" for n in names], seed=self.config.seed,
        )  # fmt: skip
        record = {
            **self._test_side(test),
            "predictions": np.stack([s.model.predict(x[test]) for s in selected], 1).astype(
                np.int32
            ),
            "scores": np.stack([svm.scores(s.model, x[test]) for s in selected], 1),
            **self._selected(selected),
            "validation_positives": labels[val].sum(0),
        }
        logging.info(
            "%s: C %s, validation F1 %s",
            round_.name,
            dict(zip(names, record["selected_c"].tolist(), strict=True)),
            np.round(record["selected_score"], 3).tolist(),
        )
        return record

    def _classes(self, round_, train, val, test) -> dict:
        """One multi-class SVM, C selected by UF1."""
        x, labels, classes = self.data.inputs, self.targets, self.task.classes
        # The most frequent class of the training clips (the lowest index on a tie).
        majority = np.asarray([np.bincount(labels[train], minlength=len(classes)).argmax()])
        chosen = svm.select_c(
            x[train], labels[train], x[val], labels[val], self.settings,
            self.config.seed, round_.name, metric="macro_f1",
        )  # fmt: skip
        raw = svm.scores(chosen.model, x[test])
        present = np.asarray(chosen.model.classes_)
        if raw.ndim == 1:  # two classes present: the decision value favours the second
            raw = np.stack([-raw, raw], 1) if len(present) == 2 else raw[:, None]
        scores = np.full((len(test), len(classes)), -np.inf)
        scores[:, present] = raw
        return {
            **self._test_side(test),
            "predictions": np.asarray(chosen.model.predict(x[test]), np.int64),
            "scores": scores,
            "databases": np.asarray([self.data.databases[i] for i in test]),
            "majority": majority,
            **self._selected([chosen]),
        }

    def _test_side(self, test) -> dict:
        return {
            "names": np.asarray([self.data.names[i] for i in test]),
            "labels": self.targets[test],
        }

    def _selected(self, chosen: list[svm.Selected]) -> dict:
        candidates = self.settings.candidates
        return {
            "selected_c": np.asarray([s.c for s in chosen], np.float64),
            "selected_step": np.asarray(
                [candidates.index(s.c) if s.c in candidates else -1 for s in chosen], np.int32
            ),
            "selected_score": np.asarray([s.val_f1 for s in chosen], np.float64),
        }

    def add_results(self, results: dict, records: list[dict]) -> None:
        """Adds each round's ``selected_c`` and the descriptor, its size and its cache."""
        for summary, record in zip(results["rounds"], records, strict=True):
            c = [None if math.isnan(v) else v for v in record["selected_c"].tolist()]
            by_au = self.task.target_kind == "au_labels"
            summary["selected_c"] = dict(zip(self.task.names, c, strict=True)) if by_au else c[0]
        results["descriptor"] = json.loads(json.dumps(self.config.baseline.descriptor.to_dict()))
        results["feature_dim"] = int(self.data.inputs.shape[1])
        results["features_cache"] = ", ".join(str(cache.path) for cache in self.caches)

    def close(self) -> None:
        """Nothing held open."""
