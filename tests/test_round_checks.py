"""What a run says about its own model selection and refuses: per-AU accuracy (SCA Fig. 5), AUs
without validation positives named in results.md, and init_from=WORKDIR starting a round whose
test subjects the source run saw."""

import json

import ml_collections
import numpy as np
import pytest

from mejax import clipset, metrics, protocols, tasks, train
from mejax.datasets import aus as au_vocab


def test_accuracy_per_au_counts_agreements_column_by_column():
    labels = np.array([[1, 0], [0, 0], [1, 1], [0, 1]])
    predictions = np.array([[1, 1], [0, 1], [0, 1], [0, 1]])
    np.testing.assert_allclose(metrics.accuracy_per_au(labels, predictions), [0.75, 0.5])
    with pytest.raises(ValueError, match="must be"):
        metrics.accuracy_per_au(labels, predictions[:, :1])


def _config(aus):
    return ml_collections.ConfigDict(
        {"name": "STAPF", "dataset": {"name": "casme2"}, "protocol": {"name": "loso"},
         "task": {"aus": aus}}
    )  # fmt: skip


def test_aus_without_validation_positives_are_named_in_results():
    task = tasks.build(ml_collections.ConfigDict({"aus": (4, 12), "loss": "focal"}))
    rounds = [protocols.Round("r0", ("a",), ("b",), ("c",)),
              protocols.Round("r1", ("b",), (), ("a",))]  # fmt: skip
    records = [
        {"labels": np.array([[1, 0], [0, 1]]), "predictions": np.array([[1, 0], [1, 1]]),
         "selected_step": np.array([3, 1]), "selected_score": np.array([0.5, 0.0]),
         "validation_positives": np.array([2, 0])},
        # No validation side (train.selection=last): nothing to flag.
        {"labels": np.array([[0, 1]]), "predictions": np.array([[0, 0]]),
         "selected_step": np.array([5, 5]), "selected_score": np.array([np.nan, np.nan]),
         "validation_positives": np.array([0, 0])},
    ]  # fmt: skip
    results = task.summarize(records, rounds, _config((4, 12)))
    assert results["no_validation_positives"] == {"r0": ["AU12"]}
    assert results["accuracy"] == {"AU4": 2 / 3, "AU12": 2 / 3}
    text = task.markdown(results)
    assert "No validation positives" in text and "r0: AU12." in text
    assert "| AU4 | 1 | 0.667 | 0.500 | 0.667 |" in text


def _clips(subjects, databases):
    count = len(subjects)
    return clipset.ClipSet(
        inputs=np.zeros((count, 1)), names=[f"c{i}" for i in range(count)],
        subjects=list(subjects), databases=list(databases),
        aus=np.zeros((count, len(au_vocab.AU_VOCAB)), bool), emotion=["x"] * count,
        objective_class=np.zeros(count, np.int32), phases=np.zeros((count, 3), np.int32),
    )  # fmt: skip


def _source_run(path, train_subjects, validation=()):
    (path / "round0" / "checkpoints").mkdir(parents=True)
    seen = {"train": list(train_subjects), "validation": list(validation)}
    (path / "round0" / "subjects.json").write_text(json.dumps(seen))
    return str(path)


def test_init_from_a_run_that_trained_on_a_tested_subject_is_refused(tmp_path):
    # A composite run prefixes subjects by database; the person is the same.
    clips = _clips(["casme2_sub01", "casme2_sub02", "samm_006"], ["casme2", "casme2", "samm"])
    assert clips.people == ["casme2:sub01", "casme2:sub02", "samm:006"]
    round_ = protocols.Round("loso_casme2_sub01", ("casme2_sub02",), (), ("casme2_sub01",))
    source = _source_run(tmp_path / "source", ["casme2:sub02"], ["casme2:sub01"])
    with pytest.raises(ValueError, match=r"1 subject\(s\) that round loso_casme2_sub01 tests "
                                         r"\(casme2:sub01\)"):  # fmt: skip
        train.check_init_subjects(source, round_, clips)
    # A source that never saw the tested person, another database's, or no workdir: accepted.
    train.check_init_subjects(_source_run(tmp_path / "other", ["samm:006"]), round_, clips)
    train.check_init_subjects("", round_, clips)
    train.check_init_subjects("kinetics400", round_, clips)


def test_a_clip_name_of_several_subjects_is_told_apart_by_its_key():
    # CASME II numbers its clips per subject: EP02_01f is a clip of sub01 and of sub02.
    casme2 = _clips(["casme2_sub02", "casme2_sub01"], ["casme2", "casme2"])
    casme2.names = ["EP02_01f", "EP02_01f"]
    samm = _clips(["samm_006"], ["samm"])
    joined = clipset.ClipSet.concatenate([casme2, samm])
    assert joined.keys == ["casme2_sub01/EP02_01f", "casme2_sub02/EP02_01f", "samm_006/c0"]
    with pytest.raises(ValueError, match=r"repeat.*casme2_sub01/EP02_01f"):
        clipset.ClipSet.concatenate([casme2, casme2.take([1])])
    (pretrain,) = protocols.pretrain(joined.keys, holdout=0.34)
    assert len(pretrain.indices("train", joined)) + len(pretrain.indices("validation", joined)) == 3
