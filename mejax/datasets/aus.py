"""Action-unit vocabulary, the parser of the databases' FACS codes, and the objective classes.

Vocabulary
  :data:`AU_VOCAB` holds every FACS code of a facial action from 1 to 46 (Ekman, Friesen &
  Hager, *Facial Action Coding System*, 2002: the action units 1-28, the action descriptors
  8, 19, 21, 29-40 and the eye codes 41-46; FACS has no code 3). The full range, rather than
  the AUs one database happens to use, keeps one multi-hot layout for CASME, CASME II, SAMM,
  CK+ and the synthetic database, so that a new database never forces a schema change. Head
  and eye position codes (50-69) and gross-behaviour descriptors are not facial actions: they
  stay in the raw code string only.

Code grammar (:func:`parse_code`), every rule from a code that occurs in the databases:

1. A cell holding a number (``12``, ``12.0``) is the code of that single AU.
2. The code is split at ``+`` outside parentheses; spaces around terms are ignored
   (``"12+15 "``, ``"(R6 or R12) + R15"``). Digits are ASCII ``0``-``9`` only, and a number
   is never joined across a space: ``1 2`` and ``L3 4`` are errors, not AU12 and AU34.
3. A simple term is ``[side]<AU>[intensity]``:

   * side ``L`` / ``R``: unilateral on the subject's left / right (``4+L10``, ``R12``);
     ``A``: asymmetric, both sides but stronger on one (SAMM's key, ``A12B``); ``T`` / ``B``:
     top / bottom lip (FACS 2002 codes ``T18``, ``B18``, ``T23``); ``A/L`` etc.: either side
     code (SAMM ``A/L12``).
   * intensity ``A``-``E`` (FACS trace to maximum: ``7B``, ``43E``) or a range of two
     (``10A/B``: between A and B).

   The AU is in the multi-hot; side and intensity are metadata of the term.
4. ``ref(term)``: an AU the coder notes beside the movement, not as part of it. It is kept as
   metadata but not in the multi-hot. SAMM's own objective classes treat it so: 011_6_13
   ``ref(L10)+A12B`` and 014_3_3 ``12A+ref(24)`` are class I (AU12 alone), not IV / VII.
5. ``X or Y [or Z]``, optionally in parentheses: the coder could not decide between the
   alternatives (SAMM ``(R6 or R12)+R15``, ``L12 or L14``). All alternatives enter the
   multi-hot (the movement is labelled rather than silently called a negative), each term is
   flagged ``alternative``. This is also what parsers that collect every number of the code do,
   which is how the AU counts of the papers were obtained.
6. Codes 50-69 (head and eye positions, e.g. SAMM ``56``, ``61``) and the descriptor
   ``soft focus`` are recorded as descriptors, not AUs.
7. A code with no AU left (``?`` in CASME II's 2014 coding, an empty cell, only descriptors)
   raises :class:`AUCodeError`, as does any term outside this grammar or an AU number that is
   not a FACS code. Builders keep such a sample out and list it, with file, row and text, in
   their build report.

The objective classes follow Davison et al., "Objective classes for micro-facial expression
recognition" (J. Imaging 2018), Table 2, as used by MEGC2018 and MER-auGCN.
"""

from __future__ import annotations

import dataclasses
import re

# Every FACS code of a facial action, 1-46 (there is no AU3).
AU_VOCAB: tuple[int, ...] = tuple(au for au in range(1, 47) if au != 3)
AU_INDEX: dict[int, int] = {au: i for i, au in enumerate(AU_VOCAB)}
# Head (50-59) and eye (60-69) position codes: behaviour, not facial actions (rule 6).
POSITION_CODES = range(50, 70)
DESCRIPTORS: tuple[str, ...] = ("soft focus",)

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

# Digits are ASCII only ([0-9]: Python's \d and str.isdigit also take "①", "²" or Arabic-Indic
# digits), and a number is never joined across a space ("1 2" is not AU12, "L3 4" not AU34);
# spaces are allowed only between a side or intensity letter and the number ("L 12", "7 B").
_SIMPLE_TOKEN = re.compile(r"^(?P<side>[LRBT]?)(?P<au>[0-9]+)(?P<intensity>[A-E]?)$")
_TERM = re.compile(
    r"^(?P<side>(?:[LRATB](?:/[LRATB])?)?) *(?P<au>[0-9]{1,2}) *"
    r"(?P<intensity>(?:[A-E](?:/[A-E])?)?)$"
)
_NUMBER = re.compile(r"[0-9]+")
_REF = re.compile(r"^ref\((?P<inner>[^()]*)\)$", re.IGNORECASE)
_OR = re.compile(r"\s+or\s+", re.IGNORECASE)


class AUCodeError(ValueError):
    """A FACS code outside the grammar of :func:`parse_code` (or without any AU)."""


@dataclasses.dataclass(frozen=True)
class AUTerm:
    """One AU of a parsed code.

    Attributes:
      au: the AU number.
      side: ``""`` (bilateral / unspecified), ``"L"``, ``"R"``, ``"A"``, ``"T"``, ``"B"`` or a
        two-way choice such as ``"A/L"``.
      intensity: ``""``, ``"A"``-``"E"`` or a range such as ``"A/B"``.
      status: ``"present"``, ``"alternative"`` (one of an ``or`` group) or ``"reference"``
        (in ``ref(...)``, not in the multi-hot).
    """

    au: int
    side: str = ""
    intensity: str = ""
    status: str = "present"


@dataclasses.dataclass(frozen=True)
class ParsedCode:
    """A parsed FACS code: its AU terms and the non-AU descriptors."""

    code: str
    terms: tuple[AUTerm, ...]
    descriptors: tuple[str, ...] = ()

    @property
    def aus(self) -> frozenset[int]:
        """AUs of the multi-hot: present and alternative terms (rules 3 and 5)."""
        return frozenset(t.au for t in self.terms if t.status != "reference")

    @property
    def reference_aus(self) -> frozenset[int]:
        """AUs noted only as ``ref(...)`` (rule 4)."""
        return frozenset(t.au for t in self.terms if t.status == "reference") - self.aus

    @property
    def laterality(self) -> dict[int, str]:
        """Side code of each lateral AU of the multi-hot, e.g. ``{10: "L"}`` for ``4+L10``."""
        return {t.au: t.side for t in self.terms if t.side and t.status != "reference"}

    @property
    def intensity(self) -> dict[int, str]:
        """Intensity of each AU of the multi-hot coded with one, e.g. ``{7: "B"}``."""
        return {t.au: t.intensity for t in self.terms if t.intensity and t.status != "reference"}


def normalize_code(value) -> str:
    """The code text of a spreadsheet cell (rule 1): numbers become their integer digits."""
    if isinstance(value, bool):
        raise AUCodeError(f"AU code {value!r}: expected text or a number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _split_terms(code: str) -> list[str]:
    """Splits at '+' outside parentheses (rule 2)."""
    terms, depth, current = [], 0, []
    for char in code:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise AUCodeError(f"AU code {code!r}: unbalanced ')'")
        if char == "+" and depth == 0:
            terms.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if depth:
        raise AUCodeError(f"AU code {code!r}: unbalanced '('")
    terms.append("".join(current).strip())
    return terms


def _simple_term(code: str, text: str, status: str) -> AUTerm:
    match = _TERM.match(text.strip())
    if match is None:
        raise AUCodeError(
            f"AU code {code!r}: term {text!r} is not [L|R|A|T|B]<AU>[A-E], ref(...) or 'X or Y'"
        )
    au = int(match["au"])
    if au not in AU_INDEX:
        raise AUCodeError(f"AU code {code!r}: {au} in {text!r} is not a FACS action code")
    return AUTerm(au, match["side"], match["intensity"], status)


def parse_code(value) -> ParsedCode:
    """Parses a FACS code as the databases write it (see the module docstring for the rules).

    Args:
      value: the spreadsheet cell: text such as ``"4+L10"`` or ``"(R6 or R12)+R15"``, or a
        number such as ``12``.

    Returns:
      The :class:`ParsedCode`.

    Raises:
      AUCodeError: naming the code and the offending term, for a code outside the grammar or
        with no AU (rule 7).
    """
    code = normalize_code(value)
    if not code:
        raise AUCodeError("AU code is empty")
    if code == "?":
        raise AUCodeError("AU code '?': the coder left the AUs undetermined")
    terms, descriptors = [], []
    for term in _split_terms(code):
        if not term:
            raise AUCodeError(f"AU code {code!r}: empty term between '+'")
        if term.lower() in DESCRIPTORS:
            descriptors.append(term.lower())
            continue
        if _NUMBER.fullmatch(term) and int(term) in POSITION_CODES:
            descriptors.append(term)
            continue
        ref = _REF.match(term)
        if ref:
            terms.append(_simple_term(code, ref["inner"].strip(), "reference"))
            continue
        inner = term[1:-1] if term.startswith("(") and term.endswith(")") else term
        alternatives = _OR.split(inner.strip())
        if len(alternatives) > 1:
            terms.extend(_simple_term(code, alt, "alternative") for alt in alternatives)
            continue
        terms.append(_simple_term(code, term, "present"))
    parsed = ParsedCode(code, tuple(terms), tuple(descriptors))
    if not parsed.aus:
        raise AUCodeError(f"AU code {code!r}: no action unit coded")
    return parsed


def au_numbers(code: str) -> frozenset[int]:
    """AU numbers of a simple '+'-joined FACS code such as ``"4+L10"`` or ``"R12B"``.

    Only the plain grammar (optional side prefix L/R/B/T, AU number, optional intensity
    A-E) is accepted here (the synthetic database writes only that); :func:`parse_code`
    reads the full grammar of the real databases.

    Args:
      code: the FACS code string.

    Returns:
      The set of AU numbers in the code.

    Raises:
      ValueError: naming the code and the token that is not of that grammar.
    """
    numbers = set()
    for token in code.split("+"):
        token = token.strip()
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
