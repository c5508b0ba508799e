import pytest

from mejax import protocols

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
    rounds = protocols.PROTOCOLS[protocol](subjects, ())
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
    assert (r.train, r.validation, r.test, r.split("test")) == ("casme2", "samm", "casme", "all")
    with pytest.raises(ValueError, match="must differ"):
        protocols.cross_database("casme2", "samm", "casme2")


def test_round_selection_errors():
    with pytest.raises(ValueError, match="not a round of loso"):
        protocols.loso(SUBJECTS, (11,))
    assert [r.test for r in protocols.loso(SUBJECTS, (0, 2))] == [("sub01",), ("sub03",)]
