"""Linear SVMs on hand-crafted descriptors, with C selected on validation subjects only.

The ME papers train a linear SVM on each descriptor: one binary SVM per AU for AU detection
(STAP, Li, Huang, Zhao, arXiv:1907.05023, Sec. IV-C; SCA, Sec. 4.3) and one multi-class SVM
for recognition (CASME II's baseline, Yan et al. 2014). Features are standardised (zero mean,
unit variance over the training clips) before the SVM, in one scikit-learn ``Pipeline``
(``StandardScaler`` + ``LinearSVC``, squared hinge loss, L2 penalty: liblinear's default, what
the papers' LIBLINEAR/LIBSVM linear kernels compute up to the loss).

C: either selected per AU from a grid of 10^e (SCA: 10^-3 ... 10^3) by the F1 of the SVM
trained on the training subjects and scored on the validation subjects (ties go to the
smaller C, the stronger regularisation), or fixed (STAP: C = 1000). Either way the final
model is the one trained on the training subjects; validation subjects never train and test
subjects are never seen before prediction. For recognition the grid is scored by macro F1
(UF1). An AU with a single class among the training clips gets a constant detector.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence

import numpy as np
from absl import logging
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from mejax import metrics

SELECTIONS = ("validation", "fixed")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Classifier settings (``config.baseline.classifier``).

    Attributes:
      c_selection: ``validation`` (grid search on the validation subjects) or ``fixed``.
      log10_c: the grid's exponents (C = 10^e).
      fixed_c: C when ``c_selection == "fixed"``.
      class_weight: ``""`` (none, the papers) or ``"balanced"``.
      standardize: StandardScaler before the SVM.
      max_iter: liblinear iterations.
    """

    c_selection: str = "validation"
    log10_c: tuple[float, ...] = (-3, -2, -1, 0, 1, 2, 3)
    fixed_c: float = 1000.0
    class_weight: str = ""
    standardize: bool = True
    max_iter: int = 10000

    def __post_init__(self):
        if self.c_selection not in SELECTIONS:
            raise ValueError(f"classifier.c_selection {self.c_selection!r} not in {SELECTIONS}")
        if self.c_selection == "validation" and not self.log10_c:
            raise ValueError("classifier.log10_c: empty grid")
        if self.c_selection == "fixed" and not self.fixed_c > 0:
            raise ValueError(f"classifier.fixed_c {self.fixed_c} must be > 0")
        if self.class_weight not in ("", "balanced"):
            raise ValueError(f"classifier.class_weight {self.class_weight!r}: '' or 'balanced'")

    @property
    def candidates(self) -> list[float]:
        """The C values tried, in increasing order of C."""
        if self.c_selection == "fixed":
            return [float(self.fixed_c)]
        return [10.0 ** float(e) for e in sorted(self.log10_c)]

    @classmethod
    def from_config(cls, config) -> Settings:
        values = dict(config)
        if "log10_c" in values:
            values["log10_c"] = tuple(values["log10_c"])
        return cls(**values)


def make_classifier(c: float, settings: Settings, seed: int = 0) -> Pipeline:
    """StandardScaler (optional) + LinearSVC(C=c)."""
    svc = LinearSVC(
        C=c,
        class_weight=settings.class_weight or None,
        max_iter=settings.max_iter,
        random_state=seed,
    )
    steps = [("scale", StandardScaler())] if settings.standardize else []
    return Pipeline([*steps, ("svm", svc)])


def scores(model, x: np.ndarray) -> np.ndarray:
    """Decision values: (N,) for a binary model (positive = present), (N, classes) else."""
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(x), np.float64)
    return np.asarray(model.predict(x), np.float64)  # a constant detector


@dataclasses.dataclass
class Selected:
    """A trained classifier and how it was chosen."""

    model: object
    c: float
    val_f1: float

    @property
    def log10_c(self) -> float:
        return math.log10(self.c) if self.c > 0 else float("nan")


def _fit(model, x, y, what: str):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(x, y)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        logging.info("%s: liblinear did not converge in max_iter iterations", what)
    return model


def _binary_f1(labels, predictions) -> float:
    """F1 of the present class (``metrics.f1_per_au`` of one AU)."""
    return float(metrics.f1_per_au(np.c_[labels], np.c_[predictions])[0])


def _macro_f1(labels, predictions) -> float:
    classes = np.unique(np.concatenate([labels, predictions]))
    return float(f1_score(labels, predictions, labels=classes, average="macro", zero_division=0))


def select_c(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    settings: Settings,
    seed: int = 0,
    what: str = "svm",
    metric: str = "auto",
) -> Selected:
    """Trains one SVM per candidate C on the training clips, keeps the best on validation.

    Args:
      x_train, y_train: training features (N, D) and labels (N,): 0/1 for a binary detector,
        class indices for recognition (scored by macro F1 then).
      x_val, y_val: validation features and labels.
      settings: the classifier settings.
      seed: liblinear's random state.
      what: name in log messages.
      metric: ``f1`` (of the present class 1), ``macro_f1`` (UF1), or ``auto``: ``f1`` for
        0/1 labels, ``macro_f1`` otherwise.

    Returns:
      The selected model (trained on the training clips only), its C and validation F1.
    """
    y_train, y_val = np.asarray(y_train), np.asarray(y_val)
    present = np.unique(y_train)
    if metric == "auto":
        binary = set(present.tolist()) <= {0, 1} and set(np.unique(y_val).tolist()) <= {0, 1}
        metric = "f1" if binary else "macro_f1"
    if metric not in ("f1", "macro_f1"):
        raise ValueError(f"svm.select: unknown metric {metric!r}")
    score = _binary_f1 if metric == "f1" else _macro_f1
    if len(present) < 2:
        model = DummyClassifier(strategy="constant", constant=present[0]).fit(x_train, y_train)
        logging.info("%s: only class %s among the training clips; constant detector", what, present)
        return Selected(model, float("nan"), score(y_val, model.predict(x_val)))
    best = None
    for c in settings.candidates:
        model = _fit(make_classifier(c, settings, seed), x_train, y_train, f"{what} C={c:g}")
        f1 = score(y_val, model.predict(x_val))
        if best is None or f1 > best.val_f1:
            best = Selected(model, c, f1)
    return best


def fit_au_detectors(
    x_train, labels_train, x_val, labels_val, settings: Settings, names: Sequence[str], seed=0
) -> list[Selected]:
    """One selected binary SVM per AU (column of the (N, K) 0/1 label matrices)."""
    return [
        select_c(x_train, labels_train[:, k], x_val, labels_val[:, k], settings, seed, name)
        for k, name in enumerate(names)
    ]
