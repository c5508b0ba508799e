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
