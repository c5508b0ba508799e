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

The other protocols (all deterministic functions of the sorted subject names):

* :func:`loso` -- leave one subject out: round ``i`` tests the ``i``-th subject; the
  validation subject is the next one in sorted order (cyclically), which therefore leaves the
  training side. Used on single databases (Micro-Attention) and, over a composite's
  database-prefixed subjects, as CDE (MER-auGCN, MEGC2018).
* :func:`megc2019_loso` -- the 68-subject LOSO of MEGC2019 (See et al., FG 2019): as
  :func:`loso`, with the validation subject drawn from the test subject's own database so that
  every database stays in training.
* :func:`subject_kfold` -- subject-independent k-fold; ``k = 4`` is SCA's protocol (Li, Huang,
  Zhao, SCA, Sec. 4.1: two folds train, one validates, one tests): round ``i`` tests fold
  ``i``, validates on fold ``i + 1`` (mod k) and trains on the others. Subjects are dealt to
  folds in sorted order.
* :func:`hde` -- holdout-database evaluation of MEGC2018 (Yap et al., FG 2018): train on one
  database's subjects, test on all of the other's; round 0 trains on the first database (by
  name), round 1 on the second. Every fifth training subject (sorted) validates.
* :func:`cross_database` -- STAP's cross-database protocol (Sec. IV-E): train on database A,
  select the model on B, test on C; whole databases, so its :class:`DatabaseRound` names a
  database (the clips' ``database`` feature) per side and the AUs must be common to the three.
  The run loads the three databases (``dataset`` and ``dataset.extra``).
* :func:`pretrain` -- staged transfer learning (Micro-Attention, Wang et al. Sec. 4.2: the
  macro-expression stage): every subject trains, a random, seeded 9:1 split of the *clips*
  holds out a validation tenth, nothing is tested. A later run starts from it with
  ``init_from=WORKDIR``.

:func:`build` makes the rounds of a ``protocol`` config block over the clips of a run; every
round gives the clip indices of each side (:meth:`Round.indices`). Model selection
(``train.selection``) is ``validation`` (the default) or ``last``: the fixed schedule the papers
use, where the validation subjects train too (:meth:`Round.without_validation`). Neither ever
looks at the test side.

Every ``rounds`` argument selects round indices; empty means all rounds.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence

import numpy as np

# STAP's cross-database protocol (Sec. IV-E, Tables VI and VII): train on database A, select
# the model on B, test on C, for all six orders of CASME II, CASME and SAMM; config token
# ``cross_<A>_<B>_<C>`` -> (A, B, C).
CROSS_DATABASES = ("casme2", "casme", "samm")
CROSS_ORDERS = {
    f"cross_{a}_{b}_{c}": (a, b, c) for a, b, c in itertools.permutations(CROSS_DATABASES)
}


@dataclasses.dataclass(frozen=True)
class Round:
    """One train / validation / test assignment of subjects."""

    name: str
    train: tuple[str, ...]
    validation: tuple[str, ...]
    test: tuple[str, ...]

    def __post_init__(self):
        for side in ("train", "test"):
            if not getattr(self, side):
                raise ValueError(f"round {self.name}: no {side} subjects")
        leaked = (set(self.train) | set(self.validation)) & set(self.test)
        if leaked or set(self.train) & set(self.validation):
            raise ValueError(f"round {self.name}: subjects on two sides: {sorted(leaked)}")

    def split(self, side: str) -> str:
        """TFDS split string of one side, e.g. ``"sub01+sub03"``."""
        return "+".join(getattr(self, side))

    def indices(self, side: str, clips) -> np.ndarray:
        """Sorted indices of the clips of one side in a :class:`~mejax.clipset.ClipSet`."""
        subjects = getattr(self, side)
        return clips.of_subjects(subjects) if subjects else np.zeros(0, np.int64)

    def describe(self) -> dict:
        """The subjects of each side (for ``results.json``)."""
        return {side: list(getattr(self, side)) for side in ("train", "validation", "test")}

    def without_validation(self) -> Round:
        """The round with its validation subjects moved to training (``selection=last``)."""
        return dataclasses.replace(self, train=self.train + self.validation, validation=())


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


def _select(all_rounds: list[Round], rounds: Sequence[int] | None, protocol: str) -> list[Round]:
    if not rounds:
        return all_rounds
    for index in rounds:
        if index not in range(len(all_rounds)):
            raise ValueError(
                f"protocol.rounds: {index} is not a round of {protocol} (0-{len(all_rounds) - 1})"
            )
    return [all_rounds[i] for i in rounds]


def loso(subjects: Sequence[str], rounds: Sequence[int] | None = ()) -> list[Round]:
    """Leave-one-subject-out rounds (one per subject, in sorted order).

    Args:
      subjects: subject (split) names; at least 3.
      rounds: round indices to run (empty: all).

    Returns:
      Rounds testing one subject each, validating on the next subject (cyclically).
    """
    subjects = sorted(set(subjects))
    if len(subjects) < 3:
        raise ValueError(f"LOSO needs at least 3 subjects, got {subjects}")
    all_rounds = []
    for i, test in enumerate(subjects):
        validation = subjects[(i + 1) % len(subjects)]
        train = tuple(s for s in subjects if s not in (test, validation))
        all_rounds.append(Round(f"loso_{test}", train, (validation,), (test,)))
    return _select(all_rounds, rounds, "loso")


def _database(subject: str, databases: Mapping[str, str] | None = None) -> str:
    """Database of a subject: from ``databases`` (subject -> database, as a run's clips give
    it), else the prefix of a composite split name (``samm_006`` -> ``samm``)."""
    if databases is not None:
        return databases[subject]
    return subject.split("_", 1)[0] if "_" in subject else ""


def megc2019_loso(
    subjects: Sequence[str],
    rounds: Sequence[int] | None = (),
    databases: Mapping[str, str] | None = None,
) -> list[Round]:
    """MEGC2019's composite LOSO: one round per subject, validation from the same database.

    Args:
      subjects: database-prefixed subject names (``casme2_sub01``, ``samm_006``, ``smic_s01``).
      databases: subject -> database; None: the prefix of each name.
      rounds: round indices to run (empty: all).
    """
    subjects = sorted(set(subjects))
    all_rounds = []
    for test in subjects:
        same = [s for s in subjects if _database(s, databases) == _database(test, databases)]
        if len(same) < 2:
            raise ValueError(f"megc2019_loso: {test} is the only subject of its database")
        validation = same[(same.index(test) + 1) % len(same)]
        train = tuple(s for s in subjects if s not in (test, validation))
        all_rounds.append(Round(f"loso_{test}", train, (validation,), (test,)))
    return _select(all_rounds, rounds, "megc2019_loso")


def subject_kfold(
    subjects: Sequence[str], rounds: Sequence[int] | None = (), k: int = 4
) -> list[Round]:
    """Subject-independent k-fold: round i tests fold i, validates on fold i+1, trains on the
    rest (SCA's 4-fold with ``k=4``; see the module docstring).

    Args:
      subjects: subject names; at least ``k``.
      rounds: round indices (empty: all k).
      k: number of folds, at least 3.
    """
    subjects = sorted(set(subjects))
    if k < 3 or len(subjects) < k:
        raise ValueError(f"subject_kfold: k={k} needs k >= 3 and at least k subjects")
    folds = [tuple(subjects[i::k]) for i in range(k)]
    all_rounds = []
    for i in range(k):
        train = tuple(s for j, f in enumerate(folds) if j not in (i, (i + 1) % k) for s in f)
        all_rounds.append(Round(f"fold{i}", train, folds[(i + 1) % k], folds[i]))
    return _select(all_rounds, rounds, f"subject_kfold (k={k})")


def hde(
    subjects: Sequence[str],
    rounds: Sequence[int] | None = (),
    databases: Mapping[str, str] | None = None,
) -> list[Round]:
    """MEGC2018 holdout-database evaluation over a two-database composite.

    Args:
      subjects: database-prefixed subject names of exactly two databases.
      databases: subject -> database; None: the prefix of each name.
      rounds: 0 trains on the first database (by name), 1 on the second; empty: both.
    """
    by_database: dict[str, list[str]] = {}
    for subject in sorted(set(subjects)):
        by_database.setdefault(_database(subject, databases), []).append(subject)
    if len(by_database) != 2 or "" in by_database:
        raise ValueError(
            f"hde needs the prefixed subjects of two databases, got {sorted(by_database)}"
        )
    all_rounds = []
    for train_db, test_db in (sorted(by_database), sorted(by_database)[::-1]):
        pool = by_database[train_db]
        validation = tuple(pool[::5])
        train = tuple(s for s in pool if s not in validation)
        all_rounds.append(
            Round(f"{train_db}_to_{test_db}", train, validation, tuple(by_database[test_db]))
        )
    return _select(all_rounds, rounds, "hde")


@dataclasses.dataclass(frozen=True)
class DatabaseRound:
    """A cross-database round: one whole database (split ``"all"``) per side."""

    name: str
    train: str
    validation: str
    test: str

    def __post_init__(self):
        if len({self.train, self.validation, self.test} - {""}) != 3:
            raise ValueError(f"round {self.name}: train, validation and test databases must differ")

    def indices(self, side: str, clips) -> np.ndarray:
        """Sorted indices of the clips of the side's database."""
        database = getattr(self, side)
        if not database:
            return np.zeros(0, np.int64)
        found = np.flatnonzero(np.asarray(clips.databases) == database)
        if not len(found):
            raise ValueError(
                f"round {self.name}: no clips of database {database!r} "
                f"(the run has {sorted(set(clips.databases))}); add it to dataset.extra"
            )
        return found

    def describe(self) -> dict:
        return {"train": [self.train], "validation": [self.validation], "test": [self.test]}

    def without_validation(self) -> DatabaseRound:
        raise ValueError("cross_database selects on its validation database: use "
                         "train.selection='validation'")  # fmt: skip


def cross_database(train: str, validation: str, test: str) -> list[DatabaseRound]:
    """STAP's cross-database round: train on ``train``, select on ``validation``, test on
    ``test`` (values of the clips' ``database`` feature, e.g. ``"casme2"``)."""
    return [DatabaseRound(f"{train}_{validation}_{test}", train, validation, test)]


@dataclasses.dataclass(frozen=True)
class ClipRound:
    """A round that splits clips rather than subjects (:func:`pretrain`): no test side. The
    clips are named by their :attr:`~mejax.clipset.ClipSet.keys` (``subject/name``)."""

    name: str
    train: tuple[str, ...]
    validation: tuple[str, ...]
    test: tuple[str, ...] = ()

    def __post_init__(self):
        if set(self.train) & set(self.validation) or self.test:
            raise ValueError(f"round {self.name}: clips on two sides, or a test side")

    def indices(self, side: str, clips) -> np.ndarray:
        """Sorted indices of the side's clips."""
        wanted = set(getattr(self, side))
        return np.asarray([i for i, k in enumerate(clips.keys) if k in wanted], np.int64)

    def describe(self) -> dict:
        return {"train": len(self.train), "validation": list(self.validation), "test": []}

    def without_validation(self) -> ClipRound:
        return dataclasses.replace(self, train=self.train + self.validation, validation=())


def pretrain(clip_names: Sequence[str], seed: int = 0, holdout: float = 0.1) -> list[ClipRound]:
    """Every clip trains but a random, seeded ``holdout`` fraction that validates; no test.

    Args:
      clip_names: every clip of the run, unique (``ClipSet.keys``).
      seed: the draw of the held-out clips.
      holdout: validation fraction (Micro-Attention's 9:1 split: 0.1).
    """
    names = sorted(set(clip_names))
    count = max(1, round(len(names) * holdout))
    if count >= len(names):
        raise ValueError(f"pretrain: {len(names)} clips cannot hold out {count} for validation")
    held = set(np.random.default_rng([seed, 9]).choice(len(names), count, replace=False).tolist())
    train = tuple(n for i, n in enumerate(names) if i not in held)
    validation = tuple(n for i, n in enumerate(names) if i in held)
    return [ClipRound("pretrain", train, validation)]


SUBJECT_PROTOCOLS = {
    "stap_two_fold": stap_two_fold,
    "loso": loso,
    "cde": loso,
    "megc2019_loso": megc2019_loso,
    "subject_kfold": subject_kfold,
    "hde": hde,
}
PROTOCOLS = (*SUBJECT_PROTOCOLS, "cross_database", "pretrain")
SELECTIONS = ("validation", "last")


def build(protocol, clips, seed: int = 0, selection: str = "validation") -> list:
    """The rounds of a ``protocol`` config block over the clips of a run.

    Args:
      protocol: fields ``name`` (one of :data:`PROTOCOLS`), ``rounds`` (indices; empty: all),
        and for ``cross_database`` ``train``, ``validation``, ``test`` (database names).
      clips: the run's :class:`~mejax.clipset.ClipSet`.
      seed: the draw of ``pretrain``'s held-out clips.
      selection: ``validation`` or ``last`` (validation subjects train too).
    """
    if selection not in SELECTIONS:
        raise ValueError(f"train.selection {selection!r} not in {SELECTIONS}")
    name = protocol.name
    if name in SUBJECT_PROTOCOLS:
        subjects, chosen = sorted(set(clips.subjects)), tuple(protocol.rounds)
        if name in ("hde", "megc2019_loso"):  # the clips know each subject's database
            databases = dict(zip(clips.subjects, clips.databases, strict=True))
            rounds = SUBJECT_PROTOCOLS[name](subjects, chosen, databases)
        else:
            rounds = SUBJECT_PROTOCOLS[name](subjects, chosen)
    elif name == "cross_database":
        rounds = cross_database(protocol.train, protocol.validation, protocol.test)
    elif name == "pretrain":
        rounds = pretrain(clips.keys, seed, protocol.get("holdout", 0.1))
    else:
        raise ValueError(f"protocol.name {name!r} not in {PROTOCOLS}")
    return [r.without_validation() for r in rounds] if selection == "last" else rounds
