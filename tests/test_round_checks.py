"""What a run says about its own model selection and refuses: per-AU accuracy (SCA Fig. 5), AUs
without validation positives named in results.md, how the models were selected, and a round
whose test persons an auxiliary database holds or an init_from chain (the source run, the runs
it started from, their auxiliary data) saw."""

import json
from pathlib import Path

import ml_collections
import numpy as np
import pytest

from mejax import clipset, experiment, metrics, protocols, tasks, train
from mejax.datasets import aus as au_vocab
from mejax.weights import init_from
from tests import tiny_configs

REPO = Path(__file__).resolve().parents[1]


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


def _recorded_run(path, **sides):
    """A previous run's round directory with its ``subjects.json`` (sides as given)."""
    (path / "round0" / "checkpoints").mkdir(parents=True)
    (path / "round0" / "subjects.json").write_text(json.dumps(sides))
    return str(path)


def test_init_from_chain_refuses_a_tested_person_its_sources_or_their_aux_data_saw(tmp_path):
    clips = _clips(["casme2_sub01", "casme2_sub02", "samm_006"], ["casme2", "casme2", "samm"])
    round_ = protocols.Round("loso_casme2_sub01", ("casme2_sub02",), (), ("casme2_sub01",))
    # The source trained on SAMM only, but with CASME II's sub01 as its auxiliary database.
    aux = _recorded_run(tmp_path / "aux", train=["samm:006"], validation=[],
                        auxiliary=["casme2:sub01", "casme2:sub03"])  # fmt: skip
    with pytest.raises(ValueError, match=r"aux/round0 trained, as its auxiliary database "
                                         r"\(aux_dataset\), on 1 subject\(s\) that round "
                                         r"loso_casme2_sub01 tests \(casme2:sub01\)"):  # fmt: skip
        train.check_init_subjects(aux, round_, clips)
    # The source never saw sub01, but the run it started from did (two links up the chain).
    first = str(tmp_path / "first" / "round0")
    chained = _recorded_run(
        tmp_path / "chained", train=["samm:006"], validation=[], auxiliary=[],
        inherited={first: {"train": ["samm:007"], "validation": ["casme2:sub01"],
                           "auxiliary": []}},
    )  # fmt: skip
    started = r"first/round0 \(a run the source started from\) trained or selected its model on 1"
    with pytest.raises(ValueError, match=started):
        train.check_init_subjects(chained, round_, clips)
    assert init_from.run_subjects(chained)[1] == {"samm:006", "samm:007", "casme2:sub01"}
    # Neither it nor its sources saw the tested person: accepted.
    train.check_init_subjects(
        _recorded_run(tmp_path / "clean", train=["samm:006"], validation=[],
                      auxiliary=["ckplus:S005"], inherited={first: {"train": ["samm:007"]}}),
        round_, clips,
    )  # fmt: skip


def test_aux_dataset_holding_a_tested_person_is_refused():
    clips = _clips(["sub01", "sub02", "sub03"], ["synth_me"] * 3)
    round_ = protocols.Round("loso_sub01", ("sub02",), ("sub03",), ("sub01",))
    config = ml_collections.ConfigDict({"aux_dataset": {"name": "synth_me/tiny"}})
    with pytest.raises(ValueError, match=r"aux_dataset synth_me/tiny: holds 1 subject\(s\) that "
                                         r"round loso_sub01 tests \(synth_me:sub01\)"):  # fmt: skip
        train.check_aux_subjects(config, round_, clips, ["synth_me:sub01", "synth_me:sub02"])
    # Persons of another database, or of the training side only: accepted.
    train.check_aux_subjects(config, round_, clips, ["synth_me_macro:mac01", "synth_me:sub02"])
    train.check_aux_subjects(config, round_, clips, [])


def test_subjects_json_records_the_auxiliary_persons_and_the_init_from_chain(
    tmp_path, tiny_data_dir, monkeypatch
):
    """A run with an auxiliary database and ``init_from`` a previous run: each round's
    ``subjects.json`` holds the auxiliary persons and the source's chain (the source's weights
    are not read here: the recorded run has none)."""
    from mejax.weights import init_from as weights

    monkeypatch.setattr(
        weights, "initialize", lambda variables, *a, **k: (dict(variables), weights.InitReport())
    )
    first = str(tmp_path / "first" / "round0")
    source = _recorded_run(tmp_path / "source", train=["synth_me_macro:mac01"], validation=[],
                           auxiliary=[], inherited={first: {"train": ["ckplus:S005"]}})  # fmt: skip
    config = tiny_configs.tiny("mer_resnet").unlock()
    config.update_from_flattened_dict({
        "dataset.data_dir": str(tiny_data_dir), "init_from": source, "protocol.rounds": (0,),
        "aux_dataset.name": "synth_me/macro_tiny", "aux_dataset.data_dir": str(tiny_data_dir),
        "aux_dataset.ratio": 0.5, "train.num_epochs": 1,
    })  # fmt: skip
    experiment.run(config.lock(), tmp_path / "run")
    (round_dir,) = [p for p in (tmp_path / "run").iterdir() if (p / "subjects.json").is_file()]
    seen = json.loads((round_dir / "subjects.json").read_text())
    assert seen["auxiliary"] and all(p.startswith("synth_me_macro:mac") for p in seen["auxiliary"])
    assert set(seen["inherited"]) == {str(Path(source).resolve() / "round0"), first}
    assert seen["inherited"][first]["train"] == ["ckplus:S005"]
    # A run started from this one inherits the whole chain.
    lineage = init_from.run_lineage(str(round_dir))
    assert list(lineage)[0] == str(round_dir.resolve()) and first in lineage


def test_results_md_says_how_the_models_were_selected():
    """Validation subjects, a validation database, the last step, a fixed C: results.md says
    which, not always "validation subjects only"."""
    rounds = [protocols.Round("r0", ("a",), ("b",), ("c",))]
    unvalidated = [protocols.Round("r0", ("a", "b"), (), ("c",))]

    def config(**fields):
        base = {"name": "m", "dataset": {"name": "d"}, "protocol": {"name": "loso"},
                "train": {"selection": "validation"}}  # fmt: skip
        for key, value in fields.items():
            base[key] = value
        return ml_collections.ConfigDict(base)

    assert tasks.selection_note(config(), rounds) == "models selected on validation subjects only"
    last = config(train={"selection": "last"})
    assert tasks.selection_note(last, unvalidated).startswith("the model of the last step")
    cross = config(protocol={"name": "cross_database", "validation": "casme"})
    assert "the validation database (casme)" in tasks.selection_note(cross, rounds)
    fixed = config(baseline={"classifier": {"c_selection": "fixed", "fixed_c": 1000.0}})
    del fixed["train"]
    assert tasks.selection_note(fixed, rounds) == "a fixed C = 1000 for every SVM (no selection)"
    svm = config(baseline={"classifier": {"c_selection": "validation"}})
    assert tasks.selection_note(svm, rounds) == "C selected on validation subjects only"

    task = tasks.build(ml_collections.ConfigDict({"aus": (4,), "loss": "focal"}))
    record = {"labels": np.array([[1], [0]]), "predictions": np.array([[1], [1]]),
              "selected_step": np.array([3]), "selected_score": np.array([np.nan])}  # fmt: skip
    text = task.markdown(task.summarize([record], unvalidated, last))
    assert "the model of the last step" in text and "validation subjects" not in text
    text = task.markdown(task.summarize([record], rounds, fixed))
    assert "a fixed C = 1000" in text
    recognition = tasks.Recognition(label_set="megc2019")
    results = recognition.summarize(
        [{"labels": np.array([0, 1, 2]), "predictions": np.array([0, 1, 1]),
          "scores": np.eye(3), "databases": np.array(["x"] * 3), "majority": np.array(0),
          "names": np.array(["a", "b", "c"]), "selected_step": np.array([2]),
          "selected_score": np.array([np.nan])}],
        unvalidated, last,
    )  # fmt: skip
    assert "the model of the last step" in recognition.markdown(results)
