"""Evaluation protocols: which subjects train, select the model, and test.

Every protocol yields :class:`Round` objects holding TFDS split strings (subjects joined by
``+``, one split per subject). Validation subjects always come from the side that is not tested:
no test subject ever reaches training or model selection (checked in :class:`Round`).

``stap_two_fold`` is the subject-independent 2-fold protocol of STAP (Li, Huang, Zhao,
arXiv:1907.05023, Sec. IV-A): the subjects are split into two folds; one fold trains and the
other is split by subject into a validation half (model selection) and a test half. The paper
does not list its fold assignment; we sort subject names and deal them alternately to fold 0 and
fold 1 (and the held-out fold alternately to validation and test), which is deterministic and
balances subjects. Round ``2f + s`` trains on fold ``f``; ``s = 1`` swaps the validation and test
halves, so rounds 0-3 together test every subject exactly once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence


@dataclasses.dataclass(frozen=True)
class Round:
    """One train / validation / test assignment of subjects."""

    name: str
    train: tuple[str, ...]
    validation: tuple[str, ...]
    test: tuple[str, ...]

    def __post_init__(self):
        for side in ("train", "validation", "test"):
            if not getattr(self, side):
                raise ValueError(f"round {self.name}: no {side} subjects")
        leaked = (set(self.train) | set(self.validation)) & set(self.test)
        if leaked or set(self.train) & set(self.validation):
            raise ValueError(f"round {self.name}: subjects on two sides: {sorted(leaked)}")

    def split(self, side: str) -> str:
        """TFDS split string of one side, e.g. ``"sub01+sub03"``."""
        return "+".join(getattr(self, side))


def stap_two_fold(subjects: Sequence[str], rounds: Sequence[int] = (0, 1, 2, 3)) -> list[Round]:
    """The rounds of STAP's subject-independent 2-fold protocol.

    Args:
      subjects: subject (split) names of the database; at least 4.
      rounds: which of the four rounds to run (see the module docstring).

    Returns:
      The selected rounds.
    """
    subjects = sorted(set(subjects))
    if len(subjects) < 4:
        raise ValueError(f"the 2-fold protocol needs at least 4 subjects, got {subjects}")
    folds = (tuple(subjects[0::2]), tuple(subjects[1::2]))
    result = []
    for index in rounds:
        if index not in range(4):
            raise ValueError(f"protocol.rounds: {index} is not a round of the 2-fold (0-3)")
        train_fold, swap = divmod(index, 2)
        held_out = folds[1 - train_fold]
        halves = (held_out[0::2], held_out[1::2])
        validation, test = (halves[1], halves[0]) if swap else halves
        result.append(Round(f"round{index}", folds[train_fold], validation, test))
    return result


PROTOCOLS = {"stap_two_fold": stap_two_fold}
