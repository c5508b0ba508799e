import ml_collections
import numpy as np
import pytest

from mejax import clipset, protocols

SUBJECTS = [f"sub{i:02d}" for i in range(1, 12)]


def test_two_fold_rounds_are_subject_independent_and_cover_every_subject_once():
    rounds = protocols.stap_two_fold(SUBJECTS)
    assert len(rounds) == 4
    tested = [s for r in rounds for s in r.test]
    assert sorted(tested) == SUBJECTS
    for r in rounds:
        assert not set(r.test) & (set(r.train) | set(r.validation))
        assert not set(r.train) & set(r.validation)
        assert sorted(r.train + r.validation + r.test) == SUBJECTS
    # rounds 0/1 train on the same fold and swap validation and test
    assert rounds[0].train == rounds[1].train
    assert rounds[0].validation == rounds[1].test


def test_split_strings_and_round_selection():
    (r,) = protocols.stap_two_fold(["s4", "s1", "s3", "s2"], rounds=(2,))
    assert r.split("train") == "s2+s4"
    assert r.split("validation") == "s1" and r.split("test") == "s3"


def test_bad_protocol_inputs():
    with pytest.raises(ValueError, match="at least 4 subjects"):
        protocols.stap_two_fold(["a", "b", "c"])
    with pytest.raises(ValueError, match="not a round"):
        protocols.stap_two_fold(SUBJECTS, rounds=(4,))
    with pytest.raises(ValueError, match="two sides"):
        protocols.Round("r", ("a", "b"), ("c",), ("b",))


COMPOSITE = [f"casme2_sub{i:02d}" for i in range(1, 8)] + [
    f"samm_{i:03d}" for i in (6, 7, 9, 11, 12)
]


def _check_independent(rounds, subjects):
    for r in rounds:
        assert not set(r.test) & (set(r.train) | set(r.validation)), r.name
        assert not set(r.train) & set(r.validation), r.name
        assert sorted(r.train + r.validation + r.test) == sorted(subjects), r.name


@pytest.mark.parametrize(
    "protocol, subjects, num_rounds",
    [
        ("loso", SUBJECTS, 11),
        ("cde", COMPOSITE, 12),
        ("megc2019_loso", COMPOSITE, 12),
        ("subject_kfold", SUBJECTS, 4),
        ("stap_two_fold", SUBJECTS, 4),
    ],
)
def test_no_test_subject_reaches_training_or_model_selection(protocol, subjects, num_rounds):
    rounds = protocols.SUBJECT_PROTOCOLS[protocol](subjects, ())
    if protocol == "stap_two_fold":
        rounds = protocols.stap_two_fold(subjects)
    assert len(rounds) == num_rounds
    _check_independent(rounds, subjects)
    assert sorted(s for r in rounds for s in r.test) == sorted(subjects)


def test_megc2019_validation_from_the_test_subjects_database():
    for r in protocols.megc2019_loso(COMPOSITE):
        assert r.validation[0].split("_")[0] == r.test[0].split("_")[0]


def test_kfold_is_two_train_one_validation_one_test():
    rounds = protocols.subject_kfold(SUBJECTS, k=4)
    assert [len(r.test) for r in rounds] == [3, 3, 3, 2]
    assert rounds[0].validation == rounds[1].test
    assert protocols.subject_kfold(SUBJECTS, (2,))[0].name == "fold2"


def test_hde_trains_on_one_database_and_tests_the_other():
    a_to_b, b_to_a = protocols.hde(COMPOSITE)
    assert all(s.startswith("casme2_") for s in a_to_b.train + a_to_b.validation)
    assert all(s.startswith("samm_") for s in a_to_b.test) and len(a_to_b.test) == 5
    assert all(s.startswith("samm_") for s in b_to_a.train + b_to_a.validation)
    _check_independent([a_to_b], COMPOSITE)
    with pytest.raises(ValueError, match="two databases"):
        protocols.hde(SUBJECTS)


def test_cross_database_rounds():
    (r,) = protocols.cross_database("casme2", "samm", "casme")
    assert (r.train, r.validation, r.test) == ("casme2", "samm", "casme")
    with pytest.raises(ValueError, match="must differ"):
        protocols.cross_database("casme2", "samm", "casme2")


def test_round_selection_errors():
    with pytest.raises(ValueError, match="not a round of loso"):
        protocols.loso(SUBJECTS, (11,))
    assert [r.test for r in protocols.loso(SUBJECTS, (0, 2))] == [("sub01",), ("sub03",)]


def made_up_clips(subjects, per_subject=3):
    """A ClipSet of ``per_subject`` clips per subject, the database from the subject prefix."""
    rows = [
        {
            "input": np.zeros(2, np.float32),
            "name": f"{subject}_ep{k}",
            "subject": subject,
            "database": subject.split("_")[0],
            "aus": np.zeros(45, bool),
            "emotion": "",
            "objective_class": -1,
            "phases": [0, 1, 2],
        }
        for subject in subjects
        for k in range(per_subject)
    ]
    return clipset.from_rows(rows)


def _block(name, **fields):
    return ml_collections.ConfigDict({"name": name, "rounds": (), **fields})


@pytest.mark.parametrize("name", ["hde", "cde", "megc2019_loso", "loso"])
def test_no_test_clip_reaches_training_or_selection_through_build(name):
    clips = made_up_clips(COMPOSITE)
    rounds = protocols.build(_block(name), clips)
    tested = []
    for r in rounds:
        train, val, test = (set(r.indices(side, clips).tolist()) for side in r.describe())
        assert test and train and not (test & (train | val)) and not train & val, r.name
        # Whole subjects on each side: no subject has clips on two sides.
        sides = [{clips.subjects[i] for i in side} for side in (train, val, test)]
        assert not (sides[0] & sides[2]) and not (sides[1] & sides[2]), r.name
        tested += sorted(test)
    if name != "hde":
        assert sorted(tested) == list(range(len(clips)))  # every clip tested exactly once


def test_cross_database_sides_are_whole_databases():
    clips = made_up_clips(COMPOSITE + ["casme_sub01", "casme_sub02"])
    block = _block("cross_database", train="casme2", validation="samm", test="casme")
    (r,) = protocols.build(block, clips)
    for side, database in (("train", "casme2"), ("validation", "samm"), ("test", "casme")):
        assert {clips.databases[i] for i in r.indices(side, clips)} == {database}
    missing = _block("cross_database", train="casme2", validation="samm", test="smic")
    with pytest.raises(ValueError, match="no clips of database 'smic'.*dataset.extra"):
        protocols.build(missing, clips)[0].indices("test", clips)


def test_pretrain_holds_out_a_seeded_tenth_of_the_clips_and_tests_nothing():
    clips = made_up_clips([f"mac{i:02d}" for i in range(1, 11)], per_subject=5)  # 50 clips
    (r,) = protocols.build(_block("pretrain"), clips, seed=3)
    train, val = r.indices("train", clips), r.indices("validation", clips)
    assert len(val) == 5 and len(train) == 45 and not set(train) & set(val)
    assert len(r.indices("test", clips)) == 0
    assert protocols.build(_block("pretrain"), clips, seed=3)[0] == r  # seeded
    assert protocols.build(_block("pretrain"), clips, seed=4)[0].validation != r.validation
    # Clips, not subjects: the held-out clips' subjects also train.
    assert {clips.subjects[i] for i in val} & {clips.subjects[i] for i in train}


def test_selection_last_trains_on_the_validation_subjects_too():
    clips = made_up_clips(SUBJECTS)
    (kept,) = protocols.build(ml_collections.ConfigDict({"name": "loso", "rounds": (0,)}), clips)
    (last,) = protocols.build(
        ml_collections.ConfigDict({"name": "loso", "rounds": (0,)}), clips, selection="last"
    )
    assert last.train == kept.train + kept.validation and last.validation == ()
    assert last.test == kept.test
    with pytest.raises(ValueError, match="train.selection"):
        protocols.build(_block("loso"), clips, selection="test")
