"""Metrics of AU detection and micro-expression recognition.

AU detection: per-AU F1 and their average (STAP Tables III-V, SCA Tables 1-6). Each AU's F1
is computed over all test samples pooled (over the test halves of every round of the
protocol), then averaged over AUs, as the papers report it. scikit-learn computes the
numbers; an AU with no positive label and no positive prediction gets F1 0.

Recognition (:func:`recognition_metrics`), on the predictions of every fold pooled, as MEGC
defines them (See et al., MEGC2019, FG 2019; Yap et al., MEGC2018, FG 2018):

* UF1 (unweighted F1): for each class, F1 from the true / false positives and false negatives
  summed over all folds, then the mean over classes (scikit-learn's macro F1 of the pooled
  predictions);
* UAR (unweighted average recall): the mean over classes of the pooled per-class recall
  (balanced accuracy);
* WAR (weighted average recall): the fraction of samples right, i.e. the accuracy;
* WF1: per-class F1 averaged with the classes' supports as weights (MER-auGCN's CDE table);
* the confusion matrix (rows true, columns predicted).

A class of ``classes`` absent from both labels and predictions would give F1 0 and recall 0
in the means; callers pass the classes of the protocol (e.g. MEGC2019's three) so every
database part is scored over the same classes. :func:`per_database` scores each part of a
composite (MEGC2019's "CASME II / SAMM / SMIC" columns).

Some papers report instead the mean over folds (LOSO: subjects) of each fold's macro F1
(:func:`macro_f1_fold_mean`); each fold is then scored over the classes present in it
(:func:`fold_scores`), since a subject rarely shows every class, and every fold weighs the
same whatever its number of clips. It is not the MEGC UF1 and the two are not comparable.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    recall_score,
)


def f1_per_au(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """F1 of each AU.

    Args:
      labels: (N, K) 0/1 ground truth.
      predictions: (N, K) 0/1 predictions.

    Returns:
      (K,) F1 scores.
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 2:
        raise ValueError(
            f"labels {labels.shape} and predictions {predictions.shape} must be (N, K)"
        )
    # Column by column: scikit-learn reads a single (N, 1) column as a binary target and would
    # score both of its classes.
    f1 = np.array(
        [
            f1_score(labels[:, k], predictions[:, k], labels=[1], average=None, zero_division=0.0)[
                0
            ]
            for k in range(labels.shape[1])
        ],
        np.float64,
    )
    # Recent scikit-learn scores an AU absent from both labels and predictions as 1; the papers'
    # F1 has no true positive there, so it counts 0 (and such an AU is flagged by 0 positives).
    f1[(labels.sum(0) == 0) & (predictions.sum(0) == 0)] = 0.0
    return f1


def accuracy_per_au(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """(K,) accuracy of each AU's decisions (SCA, Li, Huang, Zhao 2021, Fig. 5): the fraction
    of samples where the AU's prediction equals its label. ``accuracy_score`` per column."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 2:
        raise ValueError(
            f"labels {labels.shape} and predictions {predictions.shape} must be (N, K)"
        )
    return np.array(
        [accuracy_score(labels[:, k], predictions[:, k]) for k in range(labels.shape[1])],
        np.float64,
    )


def all_positive_f1(labels: np.ndarray) -> np.ndarray:
    """F1 of the trivial detector that says every AU is present in every sample."""
    return f1_per_au(labels, np.ones_like(labels))


def recognition_metrics(labels, predictions, classes) -> dict:
    """UF1, UAR, WAR (accuracy), WF1 and the confusion matrix of pooled predictions.

    Args:
      labels: (N,) true classes (indices or names).
      predictions: (N,) predicted classes, same kind.
      classes: every class of the protocol, in the order of the confusion matrix.

    Returns:
      ``{"uf1", "uar", "war", "accuracy", "wf1", "confusion", "num_samples"}`` with
      ``confusion`` a nested list (rows true, columns predicted).
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 1 or not len(labels):
        raise ValueError(
            f"labels {labels.shape} and predictions {predictions.shape} must be (N,), N > 0"
        )
    classes = list(classes)
    unknown = sorted(set(labels.tolist()) - set(classes))
    if unknown:
        raise ValueError(f"labels {unknown} are not among the classes {classes}")
    kwargs = {"labels": classes, "zero_division": 0.0}
    accuracy = float(accuracy_score(labels, predictions))
    return {
        "uf1": float(f1_score(labels, predictions, average="macro", **kwargs)),
        "uar": float(recall_score(labels, predictions, average="macro", **kwargs)),
        "war": accuracy,
        "accuracy": accuracy,
        "wf1": float(f1_score(labels, predictions, average="weighted", **kwargs)),
        "confusion": confusion_matrix(labels, predictions, labels=classes).tolist(),
        "num_samples": len(labels),
    }


def per_database(labels, predictions, databases, classes) -> dict:
    """:func:`recognition_metrics` of all samples (``"all"``) and of each database part.

    Args:
      labels, predictions: (N,) pooled over all folds.
      databases: (N,) the ``database`` feature of each sample.
      classes: the protocol's classes.
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    databases = np.asarray(databases)
    result = {"all": recognition_metrics(labels, predictions, classes)}
    for name in sorted(set(databases.tolist())):
        part = databases == name
        result[str(name)] = recognition_metrics(labels[part], predictions[part], classes)
    return result


def fold_scores(labels, predictions) -> dict:
    """UF1, UAR and WAR of one fold, over the classes present in that fold.

    Macro F1 over the classes present in the fold's labels or predictions; UAR the mean recall
    over the classes present in its labels (the recall of a class without test clips is
    undefined); WAR the accuracy.

    Returns:
      ``{"uf1", "uar", "war", "num_samples"}``.
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 1 or not len(labels):
        raise ValueError(
            f"labels {labels.shape} and predictions {predictions.shape} must be (N,), N > 0"
        )
    present = np.union1d(labels, predictions).tolist()
    true = np.unique(labels).tolist()
    kwargs = {"average": "macro", "zero_division": 0.0}
    return {
        "uf1": float(f1_score(labels, predictions, labels=present, **kwargs)),
        "uar": float(recall_score(labels, predictions, labels=true, **kwargs)),
        "war": float(accuracy_score(labels, predictions)),
        "num_samples": len(labels),
    }


def macro_f1_fold_mean(labels, predictions, folds) -> float:
    """The mean over folds of each fold's macro F1 (:func:`fold_scores`), not pooled.

    Args:
      labels, predictions: (N,) pooled over all folds.
      folds: (N,) the fold (round) of each sample; a fold without samples takes no part.
    """
    labels, predictions, folds = np.asarray(labels), np.asarray(predictions), np.asarray(folds)
    if not (labels.shape == predictions.shape == folds.shape) or not len(labels):
        raise ValueError(
            f"labels {labels.shape}, predictions {predictions.shape} and folds {folds.shape} "
            "must be (N,), N > 0"
        )
    return float(
        np.mean(
            [
                fold_scores(labels[folds == f], predictions[folds == f])["uf1"]
                for f in np.unique(folds)
            ]
        )
    )
