"""Readers of the long-video (spotting) databases' label sheets, as the databases ship them.

Each reader turns one sheet into :class:`VideoSheet`: the annotated expressions of every long
video (:class:`mejax.datasets.long_video.Event`, frame numbers as the database numbers its
frame files), the rows kept out, the errata applied (:data:`ERRATA`, an explicit table in the
style of :mod:`mejax.datasets.errata`) and the documented rules applied, each naming the file
and row. Nothing here reads frames. A malformed cell is a
:class:`~mejax.datasets.readers.AnnotationError` naming file, row, cell and what was expected.

Sheets and their oddities (counts of the public copies of the sheets):

* CAS(ME)² (Qu et al., IEEE TAC 2018), ``CAS(ME)^2code_final.xlsx``: sheet ``CASFEcode_final``
  without header (subject number, expression name ``anger1_1``, onset, apex, offset, AUs,
  class, ``micro-expression`` / ``macro-expression``, emotion), ``naming rule1`` (one row per
  coded row: folder number, ``sNN``, subject number) and ``naming rule2`` (video code ``0401``
  -> ``anger1``). 57 micro + 300 macro in 22 subjects, 95 videos with events.
* SAMM-LV (Yap et al., FG 2020), ``SAMM_LongVideos_V1_Release.xlsx`` / ``..._V2_Release.xlsx``:
  one sheet, 9 title rows, header ``Subject, Filename, Inducement Code, Onset, Apex, Offset,
  Duration, Type, Action Units, Notes``. 159 micro + 343 macro, 30 subjects, 147 videos.
* CAS(ME)³ part A (Li et al., IEEE TPAMI 2023), ``CAS(ME)3_part_A_v2.xls``: sheet
  ``AU+Emotion`` (Subject, Filename, Onset, Apex, Offset, AU, Expression type, Objective
  class; no emotion) and ``eye blink`` (Subject, Filename, Onset, Offset). The v2 sheet holds
  860 micro + 3,346 macro in 98 subjects; the paper publishes 1,109 micro + 3,490 macro of 100
  subjects: the released v2 redefines a micro-expression (apex - onset < 250 ms or offset -
  onset < 500 ms; the release's readme) and lacks 2 subjects' rows, so the difference is the
  release's, not the reader's. ``cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx`` (sheet ``label``)
  adds the emotion of the 860 micro-expressions: :func:`casme3_me` reads it as clips.

Rules (each application is listed in the report's ``rules_applied``):

* **Fractional frames** (178 SAMM-LV V1 macro rows, e.g. onset 566.4): rounded half up,
  ``floor(x + 0.5)``, as the MEGC2020 organisers' baseline does (``SAMM_MEGC.py``); V2 of the
  sheet is V1 rounded to integers.
* **Apex -1** (SAMM-LV, 6 rows; the sheet's note says "not annotated"): stored as -1.
* **Onset 0** (SAMM-LV 10 macro rows, CAS(ME)³ spNO.215 l): frame numbers are 1-based in
  every release, so 0 names no frame: the onset is not annotated, the expression started before
  the video's first frame. It is kept as 0, as the MEGC2020 organisers' ground truth
  (``all_Info.txt``) keeps it, so that SOFTNet's k and the trivial spotter's mean length leave
  these rows out as SOFTNet does (``load_label.py`` drops onset-0 rows): SAMM-LV's macro k is
  then SOFTNet's 174, not 217. (CAS(ME)³'s own exception list fixes spNO.216 e's micro row
  differently, +1: an erratum.)
* **Offset 0** (CAS(ME)², 44 macro rows: not annotated): the apex is taken as the offset, as
  every public spotting code does; an apex 0 as well (CAS(ME)² s34 anger1_1, an erratum here)
  is the midpoint of onset and offset, as the MEGC2020 baseline has it (1775).
* **Apex after offset** (CAS(ME)², 3 macro rows): errata; the interval stays as the sheet and
  MEGC2020's ground-truth list give it, the apex, outside it, is not annotated (-1). Any other
  apex outside its interval, or an offset before the onset, is an error naming the row.
* **Emotion typos** (CAS(ME)² ``happyiness``): errata. Emotions are lower-cased (CAS(ME)³'s
  ``Others``) and CAS(ME)³'s video letters too (``J``; its damaged-frame list writes both).
* A name used twice (SAMM-LV 037_4_1: a micro and a macro row, overlapping) is kept: the
  events differ by type; listed under ``names_used_twice``.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import math
import pathlib
import re

from mejax.datasets import aus, errata, readers
from mejax.datasets.long_video import NOT_ANNOTATED, Event

ERRATA_VERSION = "1"
CASME_SQ = "casme_sq"
SAMM_LV = "samm_lv"
CASME3 = "casme3"

# Keys of the errata: CAS(ME)² "sNN/<expression name>"; CAS(ME)³ "<subject>/<video>
# <onset>-<apex>-<offset>" as released (its rows have no name).
ERRATA: tuple[errata.Erratum, ...] = (
    errata.Erratum(
        CASME_SQ, "s27/disgust1_5", "apex", 1230, None,
        "apex 1230 after the offset 1224; the interval 1221-1224 is kept as MEGC2020's list has "
        "it, the apex is not annotated",
    ),
    errata.Erratum(
        CASME_SQ, "s31/happy2_1", "apex", 2203, None,
        "apex 2203 after the offset 2202; the interval is kept, the apex is not annotated",
    ),
    errata.Erratum(
        CASME_SQ, "s32/anger1_12", "apex", 2455, None,
        "apex 2455 after the offset 2451; the interval is kept, the apex is not annotated",
    ),
    errata.Erratum(
        CASME_SQ, "s34/anger1_1", "apex", 0, 1775,
        "apex 0 (not annotated); the midpoint of onset 1763 and offset 1787, the value of the "
        "MEGC2020 organisers' list (CASME_2.py)",
    ),
    errata.Erratum(
        CASME_SQ, "s30/anger1_4", "emotion", "happyiness", "happiness", "typo in the sheet"
    ),
    errata.Erratum(
        CASME3, "spNO.216/e 0-0-25", "onset", 0, 1,
        "official exception list (casme3_partA_error_list_ZhouJu): frame 0.jpg does not exist, "
        "onset and apex +1",
    ),
    errata.Erratum(
        CASME3, "spNO.216/e 0-0-25", "apex", 0, 1,
        "official exception list (casme3_partA_error_list_ZhouJu): onset and apex +1",
    ),
    errata.Erratum(
        CASME3, "spNO.149/d 112-83-358", "apex", 83, 160,
        "JpgIndex_v2 sheet: apex before onset; CAS(ME)3_part_A_v2.xls has 160",
    ),
    errata.Erratum(
        CASME3, "spNO.216/d 3647-2668-2694", "onset", 3647, 2647,
        "JpgIndex_v2 sheet: onset after apex; CAS(ME)3_part_A_v2.xls has 2647",
    ),
    errata.Erratum(
        CASME3, "spNO.40/e 1812-1824-0", "offset", 0, 1845,
        "JpgIndex_v2 sheet: offset 0; CAS(ME)3_part_A_v2.xls has 1845",
    ),
    errata.Erratum(
        CASME3, "spNO.40/e 2327-2363-0", "offset", 0, 2403,
        "JpgIndex_v2 sheet: offset 0; CAS(ME)3_part_A_v2.xls has 2403",
    ),
)  # fmt: skip

# CAS(ME)³'s official exception list casme3_partA_error_list_ZhouJu (problem / current fix):
# micro-expressions whose apex face is occluded (by a hand, or the chin / mouth / brows hidden),
# to be removed as recognition samples. (subject, video, onset, apex, offset).
CASME3_OCCLUDED_APEX = (
    ("spNO.2", "e", 138, 143, 148), ("spNO.145", "g", 150, 156, 158),
    ("spNO.146", "a", 530, 536, 561), ("spNO.147", "d", 1146, 1150, 1163),
    ("spNO.147", "e", 1058, 1069, 1071), ("spNO.155", "d", 5, 12, 136),
    ("spNO.179", "b", 7, 7, 57), ("spNO.200", "b", 518, 524, 533),
    ("spNO.204", "a", 606, 612, 635), ("spNO.206", "a", 10, 17, 24),
    ("spNO.206", "c", 69, 75, 80), ("spNO.214", "b", 5, 7, 16),
    ("spNO.214", "k", 4, 7, 28), ("spNO.215", "f", 5, 5, 56),
    ("spNO.215", "f", 2183, 2187, 2197),
)  # fmt: skip


def lookup(database: str, key: str, field: str) -> errata.Erratum | None:
    """The erratum of one cell of a long-video sheet, if any."""
    for erratum in ERRATA:
        if (erratum.database, erratum.clip, erratum.field) == (database, key, field):
            return erratum
    return None


@dataclasses.dataclass(frozen=True)
class SheetEvent:
    """One annotated expression of a long video.

    Attributes:
      subject: the subject's split name (CAS(ME)² ``s15``, SAMM-LV ``006``, CAS(ME)³ ``spNO1``:
        TFDS split names take no dot).
      video: the database's video name (``15_0101``, ``006_1``, ``spNO.1_a``).
      name: the row's own name (``anger1_1``, ``006_1_2``; CAS(ME)³: the released frames).
      event: the interval.
      source: ``file:row``.
    """

    subject: str
    video: str
    name: str
    event: Event
    source: str


@dataclasses.dataclass
class VideoSheet:
    """What one long-video sheet yields."""

    database: str
    file: str
    events: list[SheetEvent] = dataclasses.field(default_factory=list)
    excluded: list[readers.Exclusion] = dataclasses.field(default_factory=list)
    errata: list[str] = dataclasses.field(default_factory=list)
    rules: list[str] = dataclasses.field(default_factory=list)
    names_used_twice: list[str] = dataclasses.field(default_factory=list)

    def by_video(self) -> dict[str, list[SheetEvent]]:
        """{video: its events by onset}."""
        videos = collections.defaultdict(list)
        for item in self.events:
            videos[item.video].append(item)
        return {
            video: sorted(items, key=lambda i: (i.event.onset, i.event.offset))
            for video, items in sorted(videos.items())
        }

    def counts(self) -> dict:
        """{"micro", "macro", "subjects", "videos"} counts."""
        types = collections.Counter(item.event.type for item in self.events)
        return {
            "micro": types["micro"],
            "macro": types["macro"],
            "subjects": len({item.subject for item in self.events}),
            "videos": len({item.video for item in self.events}),
        }

    def report(self) -> dict:
        """The sheet's part of a build report, JSON-ready."""
        return {
            "database": self.database,
            "file": self.file,
            "errata_version": ERRATA_VERSION,
            "errata_applied": list(self.errata),
            "rules_applied": list(self.rules),
            "names_used_twice": list(self.names_used_twice),
            "num_events": self.counts(),
            "excluded": [e.as_dict() for e in self.excluded],
        }


class _Sheet:
    """Accumulates the events, errata and rules of one sheet."""

    def __init__(self, database: str, path: pathlib.Path):
        self.result = VideoSheet(database, path.name)

    def correct(self, where: str, key: str, field: str, value):
        erratum = lookup(self.result.database, key, field)
        if erratum is None:
            return value
        if value == erratum.wrong:
            self.result.errata.append(f"{where}: {erratum.describe()}")
            return erratum.right
        if value == erratum.right:
            self.result.errata.append(f"{where}: already corrected: {erratum.describe()}")
            return value
        raise readers.AnnotationError(
            f"{where}: erratum {erratum.describe()} expects {erratum.wrong!r}, the file has "
            f"{value!r}"
        )

    def rule(self, where: str, text: str) -> None:
        self.result.rules.append(f"{where}: {text}")

    def add(self, where: str, subject: str, video: str, name: str, event: Event) -> None:
        if event.offset < event.onset:
            raise readers.AnnotationError(
                f"{where}: expected onset <= offset, got {event.onset} / {event.offset}"
            )
        if event.apex != NOT_ANNOTATED and not event.onset <= event.apex <= event.offset:
            raise readers.AnnotationError(
                f"{where}: expected onset <= apex <= offset, got {event.onset} / {event.apex} / "
                f"{event.offset} (an apex outside its interval needs an erratum)"
            )
        self.result.events.append(SheetEvent(subject, video, name, event, where))


def frame_value(cell, where: str) -> float:
    """A frame cell as a number (integers, decimals, and their text), or an error."""
    if isinstance(cell, str) and re.fullmatch(r"\s*-?[0-9]+(\.[0-9]+)?\s*", cell):
        cell = float(cell)
    if isinstance(cell, bool) or not isinstance(cell, int | float) or math.isnan(cell):
        raise readers.AnnotationError(f"{where}: expected a frame number, got {cell!r}")
    return cell


def round_half_up(value: float) -> int:
    """``floor(value + 0.5)``: the MEGC2020 baseline's ``int(x + 0.5)`` for frames >= 0."""
    return int(math.floor(value + 0.5))


def _integer(cell, where: str) -> int:
    value = frame_value(cell, where)
    if not float(value).is_integer():
        raise readers.AnnotationError(f"{where}: expected an integer frame number, got {cell!r}")
    return int(value)


def _cell(file: str, row: int, column: int, name: str) -> str:
    return f"{file}, row {row}, cell {readers.column_letter(column)}{row} ({name})"


def _onset_zero(sheet: _Sheet, where: str, onset: int, name: str = "") -> int:
    if onset == 0:
        sheet.rule(where, f"{name} onset 0 (not annotated: before the first frame) kept as 0")
    return onset


# --------------------------------------------------------------------------------------
# CAS(ME)².
# --------------------------------------------------------------------------------------

CASME_SQ_SHEETS = ("CASFEcode_final", "naming rule1", "naming rule2")
CASME_SQ_TYPES = {"micro-expression": "micro", "macro-expression": "macro"}


def _xlsx_rows(path: pathlib.Path, sheet: str) -> list[tuple]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet not in book.sheetnames:
            raise readers.AnnotationError(
                f"{path.name}: no sheet {sheet!r} (sheets: {book.sheetnames}); expected the "
                f"sheets {list(CASME_SQ_SHEETS)}"
            )
        return list(book[sheet].iter_rows(values_only=True))
    finally:
        book.close()


def casme_sq_codes(path: str | pathlib.Path) -> dict[str, str]:
    """{expression video name (``anger1``): video code (``0401``)} of sheet ``naming rule2``."""
    path = pathlib.Path(path)
    codes = {}
    for number, values in enumerate(_xlsx_rows(path, "naming rule2"), start=1):
        if not values or all(v in (None, "") for v in values):
            continue
        code, name = (list(values) + [None, None])[:2]
        code = f"{int(code):04d}" if isinstance(code, int | float) else str(code or "").strip()
        if not re.fullmatch(r"[0-9]{4}", code) or not isinstance(name, str) or not name.strip():
            raise readers.AnnotationError(
                f"{path.name}, sheet 'naming rule2', row {number}: expected a 4-digit video code "
                f"and a name (0401, anger1), got {values[:2]}"
            )
        codes[name.strip().lower()] = code
    return codes


def casme_sq(path: str | pathlib.Path) -> VideoSheet:
    """CAS(ME)²'s sheet ``CAS(ME)^2code_final.xlsx`` (see the module docstring).

    The subject of row r of ``CASFEcode_final`` is row r of ``naming rule1`` (its third cell,
    the subject number, must equal the row's first); its folder ``sNN`` is the split name and
    its number NN starts the video folder ``rawpic/sNN/NN_<code>...``. The video is ``NN_<code>``
    with the code of the expression name's video (``anger1_1`` -> ``anger1`` -> ``0401``).
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    out = _Sheet(CASME_SQ, path)
    codes = casme_sq_codes(path)
    rows = _xlsx_rows(path, "CASFEcode_final")
    rule1 = _xlsx_rows(path, "naming rule1")
    for number, values in enumerate(rows, start=1):
        if not values or all(v in (None, "") for v in values):
            continue
        values = tuple(values) + (None,) * (9 - len(values))
        where = f"{path.name}:{number}"

        def cell(column: int, name: str, number: int = number) -> str:
            return _cell(f"{path.name}, sheet 'CASFEcode_final'", number, column, name)

        subject_number = _integer(values[0], cell(0, "subject number"))
        naming = rule1[number - 1] if number <= len(rule1) else ()
        naming = tuple(naming or ()) + (None,) * 3
        if (
            not isinstance(naming[1], str)
            or not re.fullmatch(r"s[0-9]+", naming[1].strip())
            or naming[2] != subject_number
        ):
            raise readers.AnnotationError(
                f"{path.name}, sheet 'naming rule1', row {number}: expected the folder number, "
                f"sNN and subject number {subject_number} of row {number} of 'CASFEcode_final', "
                f"got {naming[:3]}"
            )
        subject = naming[1].strip()
        folder_number = int(subject[1:])
        name = str(values[1] or "").strip()
        match = re.fullmatch(r"([a-z]+[0-9]+)_[0-9]+", name.lower())
        if match is None or match[1] not in codes:
            raise readers.AnnotationError(
                f"{cell(1, 'expression name')}: expected <video>_<n> with a video of 'naming "
                f"rule2' ({sorted(codes)}), got {values[1]!r}"
            )
        video = f"{folder_number}_{codes[match[1]]}"
        key = f"{subject}/{name}"
        kind = CASME_SQ_TYPES.get(str(values[7] or "").strip().lower())
        if kind is None:
            raise readers.AnnotationError(
                f"{cell(7, 'type')}: expected one of {sorted(CASME_SQ_TYPES)}, got {values[7]!r}"
            )
        onset = _integer(out.correct(where, key, "onset", values[2]), cell(2, "onset"))
        apex = out.correct(where, key, "apex", values[3])
        apex = NOT_ANNOTATED if apex is None else _integer(apex, cell(3, "apex"))
        offset = _integer(out.correct(where, key, "offset", values[4]), cell(4, "offset"))
        if apex == 0 and offset != 0:
            middle = (onset + offset) // 2
            out.rule(where, f"{key} apex 0 (not annotated) -> the midpoint {middle}")
            apex = middle
        if offset == 0:
            if apex in (0, NOT_ANNOTATED):
                raise readers.AnnotationError(
                    f"{cell(4, 'offset')}: offset and apex are both not annotated (0); expected "
                    "at least one of them"
                )
            out.rule(where, f"{key} offset 0 (not annotated) -> the apex {apex}")
            offset = apex
        onset = _onset_zero(out, where, onset, key)
        emotion = str(out.correct(where, key, "emotion", values[8]) or "").strip().lower()
        au_code = aus.normalize_code(values[5])
        event = Event(onset, apex, offset, kind, emotion, au_code)
        out.add(where, subject, video, name, event)
    return out.result


# --------------------------------------------------------------------------------------
# SAMM-LV.
# --------------------------------------------------------------------------------------

SAMM_LV_TYPES = {"macro": "macro", "micro - 1/2": "micro", "micro": "micro"}


def samm_lv(path: str | pathlib.Path) -> VideoSheet:
    """SAMM-LV's release sheet (``SAMM_LongVideos_V1_Release.xlsx``, ``..._V2_Release.xlsx``
    or a copy renamed; its CSV export too). The video of ``006_1_2`` is ``006_1``, its
    subject ``006``."""
    path = pathlib.Path(path)
    out = _Sheet(SAMM_LV, path)
    seen: dict[str, int] = {}
    for row in readers.read_table(path):
        where = f"{row.file}:{row.number}"
        subject = f"{row.integer('Subject'):03d}"
        name = row.text("Filename")
        match = re.fullmatch(r"([0-9]+_[0-9]+)_[0-9]+", name)
        if match is None or not name.startswith(subject):
            raise readers.AnnotationError(
                f"{row.where('Filename')}: expected <subject>_<video>_<n> of subject {subject}, "
                f"got {name!r}"
            )
        kind = SAMM_LV_TYPES.get(readers._key(row.get("Type")))
        if kind is None:
            raise readers.AnnotationError(
                f"{row.where('Type')}: expected 'Macro' or 'Micro - 1/2', got {row.get('Type')!r}"
            )
        frames = {}
        for field, column in (("onset", "Onset"), ("apex", "Apex"), ("offset", "Offset")):
            value = frame_value(out.correct(where, name, field, row.get(column)), row.where(column))
            if not float(value).is_integer():
                rounded = round_half_up(value)
                out.rule(where, f"{name} {field} {value:g} (fractional) -> {rounded}")
                value = rounded
            frames[field] = int(value)
        if frames["apex"] == -1:
            out.rule(where, f"{name} apex -1: not annotated (the sheet's note)")
        elif frames["apex"] < 0 or frames["onset"] < 0 or frames["offset"] < 0:
            raise readers.AnnotationError(f"{where}: negative frame number {frames}")
        onset = _onset_zero(out, where, frames["onset"], name)
        code = aus.normalize_code(row.get("Action Units"))
        event = Event(onset, frames["apex"], frames["offset"], kind, "", code)
        if name in seen:
            out.result.names_used_twice.append(f"{name}: rows {seen[name]} and {row.number}")
        seen.setdefault(name, row.number)
        out.add(where, subject, match[1], name, event)
    return out.result


# --------------------------------------------------------------------------------------
# CAS(ME)³ part A.
# --------------------------------------------------------------------------------------

CASME3_SHEET = "AU+Emotion"
CASME3_BLINK_SHEET = "eye blink"
CASME3_TYPES = {"micro-expression": "micro", "macro-expression": "macro"}


def casme3_subject(value, where: str) -> tuple[str, str]:
    """(database subject ``spNO.1``, split name ``spNO1``) of a subject cell."""
    match = re.fullmatch(r"\s*spNO\.([0-9]+)\s*", str(value or ""), re.IGNORECASE)
    if match is None:
        raise readers.AnnotationError(f"{where}: expected a subject spNO.<n>, got {value!r}")
    return f"spNO.{int(match[1])}", f"spNO{int(match[1])}"


def casme3_video_letter(value, where: str) -> str:
    """The video letter a-m of a Filename cell, lower-cased."""
    letter = str(value or "").strip().lower()
    if not re.fullmatch(r"[a-m]", letter):
        raise readers.AnnotationError(f"{where}: expected a video letter a-m, got {value!r}")
    return letter


def casme3_video(subject: str, letter: str) -> str:
    """CAS(ME)³'s video name ``spNO.1_a``."""
    return f"{subject}_{letter}"


def _casme3_row(out: _Sheet, row: readers.Row) -> tuple[str, str, str, str, tuple[int, int, int]]:
    subject, split = casme3_subject(row.get("Subject"), row.where("Subject"))
    raw_letter = row.get("Filename")
    letter = casme3_video_letter(raw_letter, row.where("Filename"))
    if str(raw_letter).strip() != letter:
        out.rule(f"{row.file}:{row.number}", f"{subject} video {raw_letter!r} -> {letter!r}")
    released = [_integer(row.get(n), row.where(n)) for n in ("Onset", "Apex", "Offset")]
    key = f"{subject}/{letter} {'-'.join(str(v) for v in released)}"
    where = f"{row.file}:{row.number}"
    frames = tuple(
        _integer(out.correct(where, key, field, value), row.where(field.title()))
        for field, value in zip(("onset", "apex", "offset"), released, strict=True)
    )
    return subject, split, letter, key, frames


def casme3(path: str | pathlib.Path) -> VideoSheet:
    """CAS(ME)³ part A's ``CAS(ME)3_part_A_v2.xls``, sheet ``AU+Emotion`` (micro and macro)."""
    path = pathlib.Path(path)
    out = _Sheet(CASME3, path)
    for row in readers.read_table(path, CASME3_SHEET):
        where = f"{row.file}:{row.number}"
        subject, split, letter, key, (onset, apex, offset) = _casme3_row(out, row)
        kind = CASME3_TYPES.get(readers._key(row.get("Expression type")))
        if kind is None:
            raise readers.AnnotationError(
                f"{row.where('Expression type')}: expected one of {sorted(CASME3_TYPES)}, got "
                f"{row.get('Expression type')!r}"
            )
        onset = _onset_zero(out, where, onset, key)
        code = aus.normalize_code(row.get("AU"))
        event = Event(onset, apex, offset, kind, "", code)
        out.add(where, split, casme3_video(subject, letter), key, event)
    return out.result


def casme3_blinks(path: str | pathlib.Path) -> dict[str, list[list[int]]]:
    """{video: [[onset, offset], ...]} of the ``eye blink`` sheet of ``CAS(ME)3_part_A_v2.xls``."""
    blinks = collections.defaultdict(list)
    for row in readers.read_table(path, CASME3_BLINK_SHEET):
        subject, _ = casme3_subject(row.get("Subject"), row.where("Subject"))
        letter = casme3_video_letter(row.get("Filename"), row.where("Filename"))
        onset, offset = (_integer(row.get(n), row.where(n)) for n in ("Onset", "Offset"))
        if offset < onset:
            raise readers.AnnotationError(
                f"{row.file}, row {row.number}: expected onset <= offset, got {onset} / {offset}"
            )
        blinks[casme3_video(subject, letter)].append([onset, offset])
    return {video: sorted(spans) for video, spans in sorted(blinks.items())}


def casme3_me(path: str | pathlib.Path, occluded: str = "exclude") -> readers.Annotations:
    """CAS(ME)³ part A's micro-expressions as clips (``cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx``,
    sheet ``label``: Subject, Filename, Onset, Apex, Offset, AU, Objective class, emotion).

    Samples: ``database`` ``"casme3"``, ``subject`` the split name (``spNO1``), ``clip``
    ``spNO.1_a_<onset>`` (a video holds several), frames as released (file numbers), after the
    errata (:data:`ERRATA`: 4 typos that ``CAS(ME)3_part_A_v2.xls`` corrects, spNO.216 e +1).

    Args:
      occluded: ``"exclude"`` keeps the 15 rows of the official exception list whose apex face
        is occluded (:data:`CASME3_OCCLUDED_APEX`) out, as the list says, listing them in
        ``excluded``; ``"keep"`` keeps them.
    """
    path = pathlib.Path(path)
    sheet = _Sheet(CASME3, path)
    out = readers.Annotations(CASME3, path.name, [])
    occluded_rows = set(CASME3_OCCLUDED_APEX)
    clips: dict[str, int] = {}
    for row in readers.read_table(path, "label"):
        where = f"{row.file}:{row.number}"
        subject, split, letter, key, (onset, apex, offset) = _casme3_row(sheet, row)
        if not onset <= apex <= offset:
            raise readers.AnnotationError(
                f"{row.file}, row {row.number}: expected onset <= apex <= offset, got {onset} / "
                f"{apex} / {offset} (needs an erratum)"
            )
        onset = _onset_zero(sheet, where, onset, key)
        parsed = aus.parse_code(row.get("AU")) if aus.normalize_code(row.get("AU")) else None
        if parsed is None:
            out.excluded.append(readers.Exclusion(row.file, row.number, "", "no AU code"))
            continue
        if (subject, letter, *(_integer(row.get(n), "") for n in ("Onset", "Apex", "Offset"))) in (
            occluded_rows
        ) and occluded == "exclude":
            out.excluded.append(
                readers.Exclusion(
                    row.file,
                    row.number,
                    key,
                    "official exception list: the apex face is occluded; the sample is removed",
                )  # fmt: skip
            )
            continue
        clip = f"{casme3_video(subject, letter)}_{onset}"
        if clip in clips:
            raise readers.AnnotationError(
                f"{row.file}, rows {clips[clip]} and {row.number}: two micro-expressions of "
                f"{casme3_video(subject, letter)} start at frame {onset}"
            )
        clips[clip] = row.number
        out.samples.append(
            readers.Sample(
                CASME3,
                split,
                clip,
                onset,
                apex,
                offset,
                parsed.code,
                parsed.aus,
                row.text("emotion").lower(),
                readers.objective_class(row, "Objective class"),
                where,
            )  # fmt: skip
        )
    out.errata.extend(sheet.result.errata + sheet.result.rules)
    return out


# --------------------------------------------------------------------------------------
# CAS(ME)³ exception lists (exception/*.txt of the release).
# --------------------------------------------------------------------------------------

CASME3_DAMAGED = "error_info_damaged_image_partA.txt"
CASME3_BAD_QUALITY = "image_with_bad_quality_partA.txt"


def casme3_frame_list(path: str | pathlib.Path) -> dict[str, list[int]]:
    """{video ``spNO.3_j``: frame numbers} of an exception list: lines ``spNO.3 J 498.jpg ...``
    (damaged) or ``.../RGB/spNO.138/a/color/1294.jpg`` (bad quality)."""
    path = pathlib.Path(path)
    frames = collections.defaultdict(set)
    with open(path, encoding="utf-8-sig") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            match = re.search(
                r"(spNO\.[0-9]+)(?:\s+|/)([a-mA-M])(?:\s+|/color/)([0-9]+)\.jpg", line
            )
            if match is None:
                raise readers.AnnotationError(
                    f"{path.name}, line {number}: expected 'spNO.<n> <video> <frame>.jpg' or a "
                    f"path .../spNO.<n>/<video>/color/<frame>.jpg, got {line.strip()!r}"
                )
            frames[casme3_video(match[1], match[2].lower())].add(int(match[3]))
    return {video: sorted(numbers) for video, numbers in sorted(frames.items())}


def zhouju_rows(path: str | pathlib.Path) -> list[tuple[str, str, int, int, int]]:
    """(subject, video, onset, apex, offset) of a CSV of the ZhouJu exception list's text
    cells (for checking :data:`CASME3_OCCLUDED_APEX` against a copy)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        return [
            (r["Subject"], r["Filename"].lower(), int(r["Onset"]), int(r["Apex"]), int(r["Offset"]))
            for r in csv.DictReader(f)
        ]
