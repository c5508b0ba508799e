"""Tests of the AU vocabulary and the FACS code parser."""

import pytest

from mejax.datasets import aus


@pytest.mark.parametrize(
    "code, expected_aus, laterality, intensity",
    [
        ("12", {12}, {}, {}),
        (12, {12}, {}, {}),
        (12.0, {12}, {}, {}),
        ("4+L10", {4, 10}, {10: "L"}, {}),
        ("R12", {12}, {12: "R"}, {}),
        ("1+2+4", {1, 2, 4}, {}, {}),
        ("7B", {7}, {}, {7: "B"}),
        ("A12B", {12}, {12: "A"}, {12: "B"}),
        ("T23", {23}, {23: "T"}, {}),
        ("B18+25", {18, 25}, {18: "B"}, {}),
        ("12+15 ", {12, 15}, {}, {}),
        ("10A/B", {10}, {}, {10: "A/B"}),
        ("A/L12", {12}, {12: "A/L"}, {}),
    ],
)
def test_simple_codes(code, expected_aus, laterality, intensity):
    parsed = aus.parse_code(code)
    assert parsed.aus == expected_aus
    assert parsed.laterality == laterality
    assert parsed.intensity == intensity


def test_alternatives_enter_the_multi_hot_and_are_flagged():
    parsed = aus.parse_code("(R6 or R12) + R15")
    assert parsed.aus == {6, 12, 15}
    assert [t.status for t in parsed.terms] == ["alternative", "alternative", "present"]
    assert aus.parse_code("R14A or 17A or 24A").aus == {14, 17, 24}


def test_reference_aus_are_metadata_only():
    parsed = aus.parse_code("ref(7B)+43")
    assert parsed.aus == {43}
    assert parsed.reference_aus == {7}
    assert aus.parse_code("4D+ref(6)+7C+43E").aus == {4, 7, 43}
    # An AU both referenced and coded stays in the multi-hot.
    assert aus.parse_code("7B+ref(7)").reference_aus == frozenset()


def test_descriptors_are_not_aus():
    parsed = aus.parse_code("R14+17+soft focus")
    assert parsed.aus == {14, 17} and parsed.descriptors == ("soft focus",)
    assert aus.parse_code("7B+56").descriptors == ("56",)
    assert aus.parse_code("L12 + 61").aus == {12}


@pytest.mark.parametrize(
    "code, message",
    [
        ("?", "undetermined"),
        ("soft focus", "no action unit"),
        ("", "empty"),
        (None, "empty"),
        ("4+x", "'x' is not"),
        ("3", "not a FACS action code"),
        ("12+", "empty term"),
        ("(4", "unbalanced"),
        ("4)", "unbalanced"),
        ("47", "not a FACS action code"),
    ],
)
def test_bad_codes_are_errors_naming_the_code(code, message):
    with pytest.raises(aus.AUCodeError, match=message):
        aus.parse_code(code)


def test_vocabulary_covers_the_facs_face_codes():
    assert 3 not in aus.AU_VOCAB and len(aus.AU_VOCAB) == 45
    assert {8, 18, 43, 46} <= set(aus.AU_VOCAB)
    hot = aus.multi_hot(aus.parse_code("4+L10").aus)
    assert [au for au, on in zip(aus.AU_VOCAB, hot, strict=True) if on] == [4, 10]
    with pytest.raises(ValueError, match="not in the vocabulary"):
        aus.multi_hot({61})


def test_objective_classes():
    assert aus.objective_class({6, 12}) == "I"
    assert aus.objective_class({4, 7}) == "III"
    assert aus.objective_class({4, 10}) == "VII"
