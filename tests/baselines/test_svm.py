"""Linear SVMs: C chosen on the validation clips only, trained on the training clips only."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from mejax.baselines import svm


def blobs(n, seed, shift=1.0, dims=20):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    x = rng.normal(size=(n, dims))
    x[:, 0] += shift * (2 * y - 1)
    return x, y


def test_c_is_the_best_on_validation_and_the_model_is_trained_on_train_only():
    settings = svm.Settings(log10_c=(-3, -1, 1, 3))
    x_train, y_train = blobs(60, 0)
    x_val, y_val = blobs(40, 1)
    chosen = svm.select_c(x_train, y_train, x_val, y_val, settings)
    # Independently: each C's validation F1 with a model fitted on the training clips.
    f1 = []
    for c in settings.candidates:
        model = svm.make_classifier(c, settings).fit(x_train, y_train)
        f1.append(f1_score(y_val, model.predict(x_val), zero_division=0))
    assert chosen.c == settings.candidates[int(np.argmax(f1))]  # first best: smallest C
    assert chosen.val_f1 == pytest.approx(max(f1))
    reference = svm.make_classifier(chosen.c, settings).fit(x_train, y_train)
    np.testing.assert_allclose(
        chosen.model.decision_function(x_val), reference.decision_function(x_val)
    )


def test_selection_follows_the_validation_labels():
    # Same training clips, two validation sets whose labels favour different C: the choice
    # moves with the validation set (nothing else is looked at).
    settings = svm.Settings(log10_c=(-3, 3))
    x_train, y_train = blobs(60, 0, shift=0.3, dims=40)
    x_val, _ = blobs(40, 1, dims=40)
    small, large = (
        svm.make_classifier(c, settings).fit(x_train, y_train).predict(x_val) for c in (1e-3, 1e3)
    )
    assert not np.array_equal(small, large)
    assert svm.select_c(x_train, y_train, x_val, small, settings).c == 1e-3
    assert svm.select_c(x_train, y_train, x_val, large, settings).c == 1e3


def test_fixed_c_and_constant_detector():
    x_train, y_train = blobs(30, 0)
    x_val, y_val = blobs(20, 1)
    fixed = svm.select_c(x_train, y_train, x_val, y_val, svm.Settings(c_selection="fixed"))
    assert fixed.c == 1000.0 and fixed.log10_c == 3.0
    constant = svm.select_c(x_train, np.zeros(30, int), x_val, y_val, svm.Settings())
    assert np.isnan(constant.c) and not constant.model.predict(x_val).any()
    assert constant.val_f1 == 0.0


def test_multiclass_is_scored_by_macro_f1():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    x = rng.normal(size=(90, 10))
    x[np.arange(90), y] += 2.0
    chosen = svm.select_c(x[:60], y[:60], x[60:], y[60:], svm.Settings(log10_c=(-3, 0)))
    assert chosen.model.decision_function(x[60:]).shape == (30, 3)
    expected = f1_score(y[60:], chosen.model.predict(x[60:]), average="macro")
    assert chosen.val_f1 == pytest.approx(expected)


def test_per_au_detectors_and_bad_settings():
    x_train, y_train = blobs(40, 0)
    x_val, y_val = blobs(20, 1)
    labels_train = np.stack([y_train, 1 - y_train], 1)
    labels_val = np.stack([y_val, 1 - y_val], 1)
    chosen = svm.fit_au_detectors(
        x_train, labels_train, x_val, labels_val, svm.Settings(), ["AU1", "AU2"]
    )
    assert len(chosen) == 2
    with pytest.raises(ValueError, match="c_selection"):
        svm.Settings(c_selection="test")
    with pytest.raises(ValueError, match="class_weight"):
        svm.Settings(class_weight="auto")


def test_two_class_recognition_can_ask_for_macro_f1():
    x_train, y_train = blobs(40, 0)
    x_val, y_val = blobs(30, 1)
    chosen = svm.select_c(x_train, y_train, x_val, y_val, svm.Settings(), metric="macro_f1")
    expected = f1_score(y_val, chosen.model.predict(x_val), average="macro")
    assert chosen.val_f1 == pytest.approx(expected)
    with pytest.raises(ValueError, match="metric"):
        svm.select_c(x_train, y_train, x_val, y_val, svm.Settings(), metric="auc")
