"""Action-unit vocabulary and the MEGC objective classes.

The multi-hot ``aus`` feature of every database indexes :data:`AU_VOCAB`; the objective
classes follow Davison et al., "Objective classes for micro-facial expression recognition"
(J. Imaging 2018), Table 2, as used by MEGC2018 (classes I-V) and MER-auGCN.

Laterality (``L``/``R``) and intensity (``A``-``E``) prefixes/suffixes are kept in the raw
code string of each sample, not in the multi-hot: an ``L12`` is an AU12.
"""

from __future__ import annotations

import re

# AUs that occur in CASME, CASME II, SAMM (and the synthetic database), in FACS order.
AU_VOCAB: tuple[int, ...] = (
    1, 2, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 21, 22, 23, 24, 25, 26,
    27, 28, 31, 34, 38, 39, 43,
)  # fmt: skip
AU_INDEX: dict[int, int] = {au: i for i, au in enumerate(AU_VOCAB)}

OBJECTIVE_CLASSES: tuple[str, ...] = ("I", "II", "III", "IV", "V", "VI", "VII")
NO_OBJECTIVE_CLASS = -1  # value of the ``objective_class`` feature where none is annotated

# Davison et al. 2018, Table 2: AU combinations defining classes I-VI; anything else is VII.
OBJECTIVE_CLASS_COMBINATIONS: dict[str, tuple[frozenset[int], ...]] = {
    "I": tuple(map(frozenset, [(6,), (12,), (6, 12), (6, 7, 12), (7, 12)])),
    "II": tuple(map(frozenset, [(1, 2), (5,), (25,), (1, 2, 25), (25, 26), (5, 24)])),
    "III": tuple(
        map(frozenset, [(23,), (4,), (4, 7), (4, 5), (4, 5, 7), (17, 24), (4, 6, 7), (4, 38)])
    ),
    "IV": tuple(
        map(
            frozenset,
            [
                (10,),
                (9,),
                (4, 9),
                (4, 40),
                (4, 5, 40),
                (4, 7, 9),
                (4, 9, 17),
                (4, 7, 10),
                (4, 5, 7, 9),
                (7, 10),
            ],
        )
    ),  # fmt: skip
    "V": tuple(map(frozenset, [(1,), (15,), (1, 4), (6, 15), (15, 17)])),
    "VI": tuple(map(frozenset, [(1, 2, 4), (20,)])),
}

_SIMPLE_TOKEN = re.compile(r"^(?P<side>[LRBT]?)(?P<au>\d+)(?P<intensity>[A-E]?)$")


def au_numbers(code: str) -> frozenset[int]:
    """AU numbers of a simple '+'-joined FACS code such as ``"4+L10"`` or ``"R12B"``.

    Only the plain grammar (optional side prefix L/R/B/T, AU number, optional intensity
    A-E) is accepted here; the full grammar of the real databases lives with their parser.

    Args:
      code: the FACS code string.

    Returns:
      The set of AU numbers in the code.

    Raises:
      ValueError: naming the code and the token that is not of that grammar.
    """
    numbers = set()
    for token in code.replace(" ", "").split("+"):
        match = _SIMPLE_TOKEN.match(token)
        if match is None:
            raise ValueError(f"AU code {code!r}: token {token!r} is not [L|R|B|T]<AU>[A-E]")
        numbers.add(int(match["au"]))
    return frozenset(numbers)


def multi_hot(aus: frozenset[int] | set[int]) -> list[bool]:
    """Multi-hot over :data:`AU_VOCAB`; raises ValueError for an AU outside it."""
    unknown = sorted(set(aus) - set(AU_INDEX))
    if unknown:
        raise ValueError(f"AUs {unknown} are not in the vocabulary {AU_VOCAB}")
    return [au in aus for au in AU_VOCAB]


def objective_class(aus: frozenset[int] | set[int]) -> str:
    """Objective class (I-VII) of an AU set, by exact match with Davison et al.'s table."""
    key = frozenset(aus)
    for name, combinations in OBJECTIVE_CLASS_COMBINATIONS.items():
        if key in combinations:
            return name
    return "VII"
