"""Metrics of AU detection: per-AU F1 and their average (STAP Tables III-V, SCA Tables 1-6).

Each AU's F1 is computed over all test samples pooled (over the test halves of every round of
the protocol), then averaged over AUs, as the papers report it. scikit-learn computes the
numbers; an AU with no positive label and no positive prediction gets F1 0.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score


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
    f1 = np.asarray(f1_score(labels, predictions, average=None, zero_division=0.0), np.float64)
    # Recent scikit-learn scores an AU absent from both labels and predictions as 1; the papers'
    # F1 has no true positive there, so it counts 0 (and such an AU is flagged by 0 positives).
    f1[(labels.sum(0) == 0) & (predictions.sum(0) == 0)] = 0.0
    return f1


def all_positive_f1(labels: np.ndarray) -> np.ndarray:
    """F1 of the trivial detector that says every AU is present in every sample."""
    return f1_per_au(labels, np.ones_like(labels))
