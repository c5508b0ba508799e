"""The AUs and the clips of every table of STAP and SCA, as data, and the sample filter.

Both AU-detection papers evaluate a different AU set, and sometimes a different subset of the
clips, per table: one AU list per database does not reproduce either. This module holds, for each
table, the AUs it reports, the number of clips the paper gives, and the rule that selects the
clips; the config files (``configs/*.py``, through :mod:`mejax.presets`) take their ``task`` block
from here.

STAP -- Li, Huang, Zhao, "Micro-expression Action Unit Detection with Spatio-temporal Adaptive
Pooling", arXiv:1907.05023, Sec. IV-A and Tables II-VII:

* Table III, CASME II: AUs 1, 2, 4, 6, 7, 9, 10, 12, 14, 15, 17 (the text lists AU5 where the
  table has AU6; the table is taken), 243 clips.
* Table IV, CASME: AUs 1, 2, 4, 9, 14, 15, 17, 18, 171 clips of the four emotions disgust,
  repression, surprise and tense.
* Table V, SAMM: AUs 2, 4, 5, 7, 12, 14, 24, 159 clips (all of SAMM's micro-expressions).
* Tables VI and VII, cross-database: AUs 1, 2, 4, 9, 12, 14, 17, the clips with at least one of
  them: 228 of CASME II, 154 of CASME, 78 of SAMM.

SCA -- Li, Huang, Zhao, "Micro-expression action unit detection with spatial and channel
attention", Neurocomputing 2021, Sec. 4.1 and Tables 1-3:

* Table 1, CASME II: AUs 1, 2, 4, 7, 12, 14, 15, 17, 243 clips.
* Table 2, CASME: AUs 1, 4, 9, 14, 124 clips of the four emotions.
* Table 3, SAMM: AUs 2, 4, 7, 12, 101 clips, those with at least one of the four.

Sample rules (:data:`RULES`): ``all`` (every clip the builder keeps), ``emotions`` (the clips
whose emotion label is one of ``emotions``), ``without_emotions`` (the clips whose emotion label is
none of ``emotions``), ``any_au`` (the clips coded with at least one of the evaluated AUs). The
filter is :func:`select`, a pure function of a :class:`~mejax.clipset.ClipSet` and a config's
``task`` block (fields ``aus``, ``samples``, ``emotions``), meant to run where a run loads its
clips, before the task picks its targets and the protocol deals subjects into folds.

What the public coding sheets give (``CASME2-coding-20140508.xlsx``, the 2019 release and
``SAMM_Micro_FACS_Codes_v2.xlsx``, read by :mod:`mejax.datasets.readers`) differs from the
papers' counts in places: the papers say they "polish" the AU annotations (STAP, abstract and
Sec. IV-A) and do not publish the polished labels. :data:`SHEET_COUNTS` records what the sheets
give, :data:`KNOWN_DIFFERENCES` says where that differs from a table. No CASME (I) coding sheet
is public, so the CASME counts cannot be checked here.

CASME II's 243 clips (STAP Table III, SCA Table 1). Neither paper says which clips it keeps. The
2014 sheet keeps 250 clips, 7 of them labelled "sadness"; without those, 243 remain: the papers'
count. :func:`without_sadness` offers that reading (``samples="without_emotions"``,
``emotions=("sadness",)``), e.g. ``--config.task.samples=without_emotions
'--config.task.emotions=("sadness",)'`` on a CASME II setting of STAP or SCA. It is not the
default: STAP's own Table II counts AU1 in 26 clips and AU4 in 129, the 2014 sheet's counts *with*
the sadness clips (19 and 128 without them), so the rule reproduces the total, not Table II.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import numpy as np

from mejax.datasets import aus as au_vocab

RULES = ("all", "emotions", "without_emotions", "any_au")
# The rules that take ``emotions``.
EMOTION_RULES = ("emotions", "without_emotions")
# CASME's four emotion classes used by STAP (Table IV) and SCA (Table 2).
CASME_EMOTIONS = ("disgust", "repression", "surprise", "tense")


@dataclasses.dataclass(frozen=True)
class PaperSet:
    """The AUs and clips of one table.

    Attributes:
      paper: ``"STAP"`` or ``"SCA"``.
      table: the table(s), as the paper numbers them (``"III"``, ``"VI, VII"``, ``"1"``).
      database: the database token (``casme2``, ``casme``, ``samm``).
      aus: the AUs the table reports, in the table's order.
      num_samples: the number of clips the paper gives for the table.
      samples: the rule that selects the clips (one of :data:`RULES`).
      emotions: the emotion labels the ``emotions`` rule keeps, or the ``without_emotions`` rule
        leaves out (lower case).
    """

    paper: str
    table: str
    database: str
    aus: tuple[int, ...]
    num_samples: int
    samples: str = "all"
    emotions: tuple[str, ...] = ()

    def __post_init__(self):
        if self.samples not in RULES:
            raise ValueError(f"samples {self.samples!r} not in {RULES}")
        if (self.samples in EMOTION_RULES) != bool(self.emotions):
            raise ValueError(f"the rule {self.samples!r} needs emotions, and only the rules "
                             f"{EMOTION_RULES} take them")  # fmt: skip
        unknown = [au for au in self.aus if au not in au_vocab.AU_INDEX]
        if unknown:
            raise ValueError(f"AUs {unknown} not in the AU vocabulary")

    @property
    def name(self) -> str:
        plural = "s" if "," in self.table else ""
        return f"{self.paper} Table{plural} {self.table}"

    def task_fields(self) -> dict:
        """The fields of a config's ``task`` block: ``aus``, ``samples``, ``emotions``."""
        return {"aus": self.aus, "samples": self.samples, "emotions": self.emotions}


STAP = {
    "casme2": PaperSet("STAP", "III", "casme2", (1, 2, 4, 6, 7, 9, 10, 12, 14, 15, 17), 243),
    "casme": PaperSet(
        "STAP", "IV", "casme", (1, 2, 4, 9, 14, 15, 17, 18), 171, "emotions", CASME_EMOTIONS
    ),
    "samm": PaperSet("STAP", "V", "samm", (2, 4, 5, 7, 12, 14, 24), 159),
}
CROSS_DATABASE_AUS = (1, 2, 4, 9, 12, 14, 17)
STAP_CROSS_DATABASE = {
    database: PaperSet("STAP", "VI, VII", database, CROSS_DATABASE_AUS, count, "any_au")
    for database, count in (("casme2", 228), ("casme", 154), ("samm", 78))
}
SCA = {
    "casme2": PaperSet("SCA", "1", "casme2", (1, 2, 4, 7, 12, 14, 15, 17), 243),
    "casme": PaperSet("SCA", "2", "casme", (1, 4, 9, 14), 124, "emotions", CASME_EMOTIONS),
    "samm": PaperSet("SCA", "3", "samm", (2, 4, 7, 12), 101, "any_au"),
}
PAPERS = {"stap": STAP, "stap_cross_database": STAP_CROSS_DATABASE, "sca": SCA}


def without_sadness(paper_set: PaperSet) -> PaperSet:
    """``paper_set`` (a CASME II table that keeps every clip: STAP Table III, SCA Table 1) without
    the clips labelled "sadness": 243 clips of the 2014 sheet, the papers' count (see the module
    docstring for why it is offered and not the default)."""
    if paper_set.database != "casme2" or paper_set.samples != "all":
        raise ValueError(f"{paper_set.name}: the sadness exclusion reads CASME II's 243 clips of a "
                         "table that keeps every clip")  # fmt: skip
    return dataclasses.replace(paper_set, samples="without_emotions", emotions=("sadness",))


# STAP Table II: the AU counts of CASME II the paper gives that the public sheet is checked
# against (AU7: 58 in the table, 38 in the 2014 sheet).
STAP_TABLE_II_CASME2 = {1: 26, 2: 21, 4: 129, 7: 58}

# What the public sheets give, read with mejax.datasets.readers (the CASME II builder's
# ``cropped_2014`` config reads the 2014 sheet): clips kept by each table's rule.
SHEET_COUNTS = {
    "CASME2-coding-20140508.xlsx": {
        "all": 250,  # 255 rows, 5 coded '?' kept out
        "STAP Table III": 250,
        "STAP Tables VI, VII": 233,
        "SCA Table 1": 250,
        "STAP Table III without sadness": 243,
        "AU7": 38,
        "AU14": 27,
    },
    "CASME2-coding-20190701.xlsx": {
        "all": 255,
        "STAP Table III": 255,
        "STAP Tables VI, VII": 231,
        "SCA Table 1": 255,
        "STAP Table III without sadness": 251,
        "AU7": 38,
        "AU14": 22,
    },
    "SAMM_Micro_FACS_Codes_v2.xlsx": {
        "all": 159,
        "STAP Table V": 159,
        "STAP Tables VI, VII": 88,
        "SCA Table 3": 103,
        "AU7": 44,
    },
}

KNOWN_DIFFERENCES = (
    "CASME II AU7: STAP Table II gives 58 clips, the 2014 coding sheet codes AU7 in 38 "
    "(AU1 26, AU2 21, AU4 129 match).",
    "CASME II clips: STAP Table III and SCA Table 1 give 243, the 2014 sheet keeps 250 (255 "
    "rows, 5 coded '?'), the 2019 sheet 255; neither paper says which clips it left out (244 "
    "of the 250 have one of Table III's AUs, 242 one of Table 1's).",
    "Cross-database (STAP Tables VI, VII), clips with one of AUs 1, 2, 4, 9, 12, 14, 17: "
    "CASME II 228 in the paper, 233 with the 2014 sheet (231 with the 2019 sheet); SAMM 78 in "
    "the paper, 88 with the SAMM sheet.",
    "SAMM, clips with one of AUs 2, 4, 7, 12 (SCA Table 3): 101 in the paper, 103 with the SAMM "
    "sheet (99 if the 'X or Y' alternatives of 011_4_2, 014_5_2, 007_6_x are not counted).",
    "CASME II clips, the sadness reading: the 2014 sheet without its 7 'sadness' clips keeps "
    "243, the papers' count (the 2019 sheet, 4 sadness clips, 251); but STAP Table II's AU1 26 "
    "and AU4 129 are the 2014 counts with those clips (19 and 128 without), so the rule is "
    "offered (paper_sets.without_sadness), not the default.",
    "CASME II AU14 (SCA Table 1): 21 clips in the paper, 27 with the 2014 sheet (27 also "
    "without the sadness clips; 22 with the 2019 sheet).",
    "SAMM AU7: 44 and 46 are both given for it; the SAMM sheet codes AU7 in 44 clips as mejax "
    "reads it, and in 46 when the two clips coded only 'ref(7B)' (010_2_1, 010_4_1; a reference "
    "AU, not counted by mejax.datasets.aus) are counted.",
    "CASME (STAP Table IV: 171 clips; SCA Table 2: 124 of the same four emotions): no public "
    "CASME coding sheet, not checked. SCA's smaller count suggests a further selection the "
    "paper does not state.",
)


def paper_set(paper: str, database: str) -> PaperSet:
    """The set of ``paper`` (``stap``, ``stap_cross_database``, ``sca``) on ``database``."""
    if paper not in PAPERS:
        raise ValueError(f"paper {paper!r} not in {tuple(PAPERS)}")
    if database not in PAPERS[paper]:
        raise ValueError(f"{paper} has no table for {database!r} (only {tuple(PAPERS[paper])})")
    return PAPERS[paper][database]


def keep(
    multi_hot: np.ndarray,
    emotion: Sequence[str],
    aus: Sequence[int],
    samples: str = "all",
    emotions: Iterable[str] = (),
) -> np.ndarray:
    """(N,) bool: the clips a sample rule keeps.

    Args:
      multi_hot: (N, len(AU_VOCAB)) the clips' AUs (``ClipSet.aus``).
      emotion: the clips' emotion labels.
      aus: the AUs evaluated (the ``any_au`` rule keeps clips with at least one of them).
      samples: the rule, one of :data:`RULES`.
      emotions: the labels the ``emotions`` rule keeps and the ``without_emotions`` rule leaves
        out (compared lower-cased and stripped).
    """
    multi_hot = np.asarray(multi_hot, bool).reshape(len(emotion), len(au_vocab.AU_VOCAB))
    if samples == "all":
        return np.ones(len(emotion), bool)
    if samples in EMOTION_RULES:
        wanted = {e.strip().lower() for e in emotions}
        if not wanted:
            raise ValueError(f"task.samples {samples!r} needs task.emotions")
        listed = np.asarray([e.strip().lower() in wanted for e in emotion], bool)
        return listed if samples == "emotions" else ~listed
    if samples == "any_au":
        columns = [au_vocab.AU_INDEX[au] for au in aus]
        return multi_hot[:, columns].any(axis=1)
    raise ValueError(f"task.samples {samples!r} not in {RULES}")


def apply(clips, task_config):
    """The clips of a run that the ``task`` block's sample rule keeps (all without a rule).

    Args:
      clips: a :class:`~mejax.clipset.ClipSet`.
      task_config: the config's ``task`` block: ``aus`` and, optionally, ``samples`` (one of
        :data:`RULES`, default ``all``) and ``emotions``.

    Returns:
      ``clips`` itself under ``all``, else the kept clips.

    Raises:
      ValueError: an unknown rule, or no clip kept (naming the rule).
    """
    samples = task_config.get("samples", "all") or "all"
    if samples == "all":
        return clips
    emotions = tuple(task_config.get("emotions", ()))
    kept = keep(clips.aus, clips.emotion, tuple(task_config.get("aus", ())), samples, emotions)
    if not kept.any():
        found = sorted(set(clips.emotion))
        raise ValueError(
            f"task.samples {samples!r} (emotions {emotions}, AUs "
            f"{tuple(task_config.get('aus', ()))}) keeps none of the {len(clips)} clips "
            f"(their emotions: {found})"
        )
    return clips.take(np.flatnonzero(kept))
