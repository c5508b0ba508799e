"""Readers of the databases' annotation files, as the databases distribute them.

Each reader turns one annotation file into :class:`Annotations`: the clean :class:`Sample` s
a builder produces, the rows kept out (with file, row, text and reason), and the errata
applied (:mod:`mejax.datasets.errata`). Nothing here reads frames, so the label statistics
(:mod:`mejax.datasets.stats`) need the annotation file alone.

Rules shared by all readers:

* Spreadsheets (``.xlsx`` with openpyxl, ``.xls`` with xlrd) and CSV files are read as
  tables; the header is the first row whose first cell is ``Subject`` (SAMM's sheet has a
  preamble). Header names are matched case- and space-insensitively.
* Rows whose cells are all empty are skipped (trailing blank rows); a row with content but no
  subject and file name, two header columns of one name, a negative subject number and an
  ``.xlsx`` formula cell saved without its computed value are each an :class:`AnnotationError`
  naming the file, row and cells (each would change labels silently).
* A malformed cell (a frame number that is not an integer of ASCII digits, a missing file
  name, frames out of order) is an :class:`AnnotationError` naming the file, the row, the cell
  and what was expected: such a file needs an erratum, not a guess. So is a (subject, clip)
  listed on two rows (both rows named).
* An AU code outside the grammar of :func:`mejax.datasets.aus.parse_code` keeps the sample
  out; it is listed in ``excluded`` with the reason.
* Frame numbers are the database's own (file names), not 0-based positions; ``None`` where
  not annotated. Emotions are lower-cased and stripped, otherwise as the database writes them.
* Subject names are those of the database's folders: CASME II ``sub01``, SAMM ``006``,
  SMIC ``s01`` (zero-padded to two digits, as MEGC2019 writes them), CASME ``sub01``,
  CK+ ``S005``, Oulu-CASIA ``P001``, JAFFE ``KA``, MUG ``001``. They are the builders' split
  names.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import pathlib
import re
from collections.abc import Iterator

from mejax.datasets import aus, errata


class AnnotationError(ValueError):
    """A malformed annotation file, row or cell."""


@dataclasses.dataclass(frozen=True)
class Sample:
    """One clean annotated clip.

    Attributes:
      database: ``"casme2"``, ``"samm"``, ``"smic"``, ``"casme"``, ``"ckplus"``,
        ``"oulu_casia"``, ``"jaffe"``, ``"mug"``.
      subject: the subject's folder / split name within its database.
      clip: the clip's folder name (e.g. ``"EP02_01f"``, ``"006_1_2"``, ``"s01_ne_01"``).
      onset, apex, offset: frame numbers as the database numbers its files (``None``: not
        annotated).
      au_code: the FACS code after errata (``""`` where the database codes no AUs).
      aus: the AUs of the multi-hot.
      emotion: the emotion label, lower case.
      objective_class: ``"I"``-``"VII"``, or ``None`` where not annotated.
      source: ``"file:row"`` of the annotation.
    """

    database: str
    subject: str
    clip: str
    onset: int | None
    apex: int | None
    offset: int | None
    au_code: str
    aus: frozenset[int]
    emotion: str
    objective_class: str | None
    source: str


@dataclasses.dataclass(frozen=True)
class Exclusion:
    """A row kept out of the database, with why."""

    file: str
    row: int
    text: str
    reason: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Annotations:
    """What one annotation file yields."""

    database: str
    file: str
    samples: list[Sample]
    excluded: list[Exclusion] = dataclasses.field(default_factory=list)
    errata: list[str] = dataclasses.field(default_factory=list)

    def report(self) -> dict:
        """The build report: counts, exclusions and errata, JSON-ready."""
        return {
            "database": self.database,
            "file": self.file,
            "errata_version": errata.ERRATA_VERSION,
            "errata_applied": list(self.errata),
            "num_samples": len(self.samples),
            "excluded": [e.as_dict() for e in self.excluded],
        }


# --------------------------------------------------------------------------------------
# Tables.
# --------------------------------------------------------------------------------------


def _key(name) -> str:
    return re.sub(r"\s+", " ", str(name or "")).strip().lower()


def column_letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based column index (0 -> ``A``)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclasses.dataclass
class Row:
    """One data row of a table, with its position for error messages."""

    file: str
    number: int  # 1-based row number as the spreadsheet shows it
    header: dict[str, int]  # normalized header name -> column index
    values: tuple

    def has(self, *names: str) -> bool:
        return any(_key(n) in self.header for n in names)

    def _column(self, names: tuple[str, ...]) -> tuple[int, str]:
        for name in names:
            if _key(name) in self.header:
                return self.header[_key(name)], name
        raise AnnotationError(
            f"{self.file}: no column {' / '.join(repr(n) for n in names)} in the header "
            f"(columns: {sorted(self.header)})"
        )

    def get(self, *names: str):
        column, _ = self._column(names)
        return self.values[column] if column < len(self.values) else None

    def where(self, *names: str) -> str:
        column, name = self._column(names)
        return f"{self.file}, row {self.number}, cell {column_letter(column)}{self.number} ({name})"

    def text(self, *names: str, required: bool = True) -> str:
        value = aus.normalize_code(self.get(*names))
        if required and not value:
            raise AnnotationError(f"{self.where(*names)}: expected text, the cell is empty")
        return value

    def integer(self, *names: str, value=None) -> int:
        value = self.get(*names) if value is None else value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise AnnotationError(
                f"{self.where(*names)}: expected an integer frame number, got {value!r}"
            )
        return value

    def describe(self) -> str:
        return ", ".join(repr(v) for v in self.values if v is not None)


def read_table(path: str | pathlib.Path, sheet: str | None = None) -> Iterator[Row]:
    """Rows of a spreadsheet or CSV table below its ``Subject`` header row.

    Args:
      path: ``.xlsx``, ``.xls`` or ``.csv`` file.
      sheet: worksheet name (default: the first sheet).

    Yields:
      The data rows.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        if sheet is not None and sheet not in book.sheetnames:
            raise AnnotationError(f"{path.name}: no sheet {sheet!r} (sheets: {book.sheetnames})")
        rows = list((book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True))
        book.close()
        _check_cached_formulas(path, sheet, rows)
    elif suffix == ".xls":
        import xlrd

        book = xlrd.open_workbook(path)
        ws = book.sheet_by_name(sheet) if sheet else book.sheet_by_index(0)
        rows = [tuple(c if c != "" else None for c in ws.row_values(i)) for i in range(ws.nrows)]
    elif suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [tuple(c if c != "" else None for c in r) for r in csv.reader(f)]
    else:
        raise AnnotationError(f"{path.name}: expected an .xlsx, .xls or .csv annotation file")
    starts = [i for i, values in enumerate(rows) if values and _key(values[0]) == "subject"]
    if not starts:
        raise AnnotationError(f"{path.name}: no header row starting with 'Subject'")
    index = starts[0]
    header = {}
    for i, v in enumerate(rows[index]):
        if v is None:
            continue
        if _key(v) in header:
            raise AnnotationError(
                f"{path.name}, row {index + 1}: two header columns are named {_key(v)!r} "
                f"(cells {column_letter(header[_key(v)])}{index + 1} and "
                f"{column_letter(i)}{index + 1}); rename one, or the wrong one would be read"
            )
        header[_key(v)] = i
    for number, values in enumerate(rows[index + 1 :], start=index + 2):
        blank = [v in (None, "") for v in values]
        if len(values) < 2 or (blank[0] and blank[1]):
            if not all(blank):  # a row with content but no subject and file name
                cells = ", ".join(
                    f"{column_letter(i)}{number}" for i, b in enumerate(blank) if not b
                )
                raise AnnotationError(
                    f"{path.name}, row {number}: cells {cells} are filled but the key cells "
                    f"{column_letter(0)}{number} and {column_letter(1)}{number} (subject and "
                    "file name) are empty; complete them or empty the row"
                )
            continue
        subject = values[0]
        if (
            isinstance(subject, int | float)
            and subject < 0
            or (isinstance(subject, str) and re.fullmatch(r"\s*-[0-9]+\s*", subject))
        ):
            raise AnnotationError(
                f"{path.name}, row {number}, cell A{number}: subject {subject!r} is not a "
                "subject number (negative)"
            )
        yield Row(path.name, number, header, tuple(values))


def _check_cached_formulas(path: pathlib.Path, sheet: str | None, values: list[tuple]) -> None:
    """Refuses an ``.xlsx`` whose formula cells hold no cached value (a sheet written by a
    program that does not compute formulas): openpyxl would read them as empty cells."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    formulas = list((book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True))
    book.close()
    for number, (cached, written) in enumerate(zip(values, formulas, strict=False), start=1):
        for column, (value, formula) in enumerate(zip(cached, written, strict=False)):
            if value is None and isinstance(formula, str) and formula.startswith("="):
                raise AnnotationError(
                    f"{path.name}, row {number}, cell {column_letter(column)}{number}: the "
                    f"formula {formula!r} has no computed value saved with it; open and save "
                    "the sheet in a spreadsheet program, or write the value"
                )


# --------------------------------------------------------------------------------------
# Shared pieces.
# --------------------------------------------------------------------------------------

ROMAN = {str(i + 1): name for i, name in enumerate(aus.OBJECTIVE_CLASSES)}


def objective_class(row: Row, *names: str) -> str | None:
    """An objective-class cell (1-7 or I-VII) as its roman name; ``None`` if empty."""
    value = aus.normalize_code(row.get(*names))
    if not value:
        return None
    if value in ROMAN:
        return ROMAN[value]
    if value.upper() in aus.OBJECTIVE_CLASSES:
        return value.upper()
    raise AnnotationError(f"{row.where(*names)}: expected an objective class 1-7, got {value!r}")


class _Builder:
    """Accumulates the samples, exclusions and errata of one file."""

    def __init__(self, database: str, path: pathlib.Path):
        self.result = Annotations(database, path.name, [])
        self.rows: dict[tuple[str, str], int] = {}  # (subject, clip) -> row number

    def correct(self, row: Row, clip: str, field: str, value, *names: str):
        """Applies the erratum of ``(clip, field)``, if any, to a cell value."""
        erratum = errata.lookup(self.result.database, clip, field)
        if erratum is None:
            return value
        if value == erratum.wrong:
            self.result.errata.append(f"{row.file} row {row.number}: {erratum.describe()}")
            return erratum.right
        if value == erratum.right:
            self.result.errata.append(
                f"{row.file} row {row.number}: already corrected: {erratum.describe()}"
            )
            return value
        raise AnnotationError(
            f"{row.where(*names)}: erratum {erratum.describe()} expects {erratum.wrong!r}, "
            f"the file has {value!r}"
        )

    def frame(self, row: Row, clip: str, field: str, *names: str) -> int | None:
        value = self.correct(row, clip, field, row.get(*names), *names)
        return None if value is None else row.integer(*names, value=value)

    def code(self, row: Row, value) -> aus.ParsedCode | None:
        """Parses an AU code; an unparseable one excludes the row (returns ``None``)."""
        try:
            return aus.parse_code(value)
        except aus.AUCodeError as error:
            self.result.excluded.append(
                Exclusion(row.file, row.number, aus.normalize_code(value), str(error))
            )
            return None

    def add(self, row: Row, sample: Sample, cells: tuple[str, str, str]):
        frames = [f for f in (sample.onset, sample.apex, sample.offset) if f is not None]
        if frames != sorted(frames):
            raise AnnotationError(
                f"{row.file}, row {row.number}, cells {'/'.join(cells)}: expected onset <= apex "
                f"<= offset, got {sample.onset} / {sample.apex} / {sample.offset}"
            )
        first = self.rows.setdefault((sample.subject, sample.clip), row.number)
        if first != row.number:
            raise AnnotationError(
                f"{row.file}, rows {first} and {row.number}: clip {sample.clip} of subject "
                f"{sample.subject} is listed twice"
            )
        self.result.samples.append(sample)


# --------------------------------------------------------------------------------------
# Databases.
# --------------------------------------------------------------------------------------


def casme2(path: str | pathlib.Path) -> Annotations:
    """CASME II coding sheet (``CASME2-coding-20140508.xlsx`` or ``-20190701.xlsx``).

    Yan et al., PLoS ONE 2014. Columns Subject, Filename, OnsetFrame, ApexFrame, OffsetFrame,
    Action Units, Estimated Emotion and (2019 release) Objective Classes. Frame numbers are
    those of ``img<N>.jpg``.
    """
    path = pathlib.Path(path)
    out = _Builder("casme2", path)
    for row in read_table(path):
        subject = f"sub{row.integer('Subject'):02d}"
        clip = row.text("Filename")
        key = f"{subject}/{clip}"
        code = row.get("Action Units")
        parsed = out.code(row, code)
        onset = out.frame(row, key, "onset", "OnsetFrame")
        apex = out.frame(row, key, "apex", "ApexFrame")
        offset = out.frame(row, key, "offset", "OffsetFrame")
        if parsed is None:
            continue
        oc = objective_class(row, "Objective Classes") if row.has("Objective Classes") else None
        sample = Sample(
            "casme2", subject, clip, onset, apex, offset, parsed.code, parsed.aus,
            row.text("Estimated Emotion").lower(), oc, f"{row.file}:{row.number}",
        )  # fmt: skip
        out.add(row, sample, ("OnsetFrame", "ApexFrame", "OffsetFrame"))
    return out.result


def casme2_objective_classes(path: str | pathlib.Path) -> dict[tuple[str, str], str]:
    """The MEGC2018 objective classes of CASME II (``CASME2-ObjectiveClasses.xlsx``).

    Returns:
      ``{(subject, clip): class}``, e.g. ``{("sub01", "EP02_01f"): "I"}``.
    """
    classes = {}
    for row in read_table(path):
        key = (f"sub{row.integer('Subject'):02d}", row.text("Filename"))
        classes[key] = objective_class(row, "Objective Class", "Objective Classes")
    return classes


def samm(path: str | pathlib.Path) -> Annotations:
    """SAMM FACS code sheet (``SAMM_Micro_FACS_Codes_v2.xlsx``, sheet MICRO_ONLY).

    Davison et al., IEEE TAC 2018; objective classes: Davison et al., J. Imaging 2018.
    Frame numbers are those of ``<subject>_<N>.jpg``.
    """
    path = pathlib.Path(path)
    out = _Builder("samm", path)
    for row in read_table(path):
        subject = f"{row.integer('Subject'):03d}"
        clip = row.text("Filename")
        parsed = out.code(row, row.get("Action Units"))
        onset = out.frame(row, clip, "onset", "Onset Frame")
        apex = out.frame(row, clip, "apex", "Apex Frame")
        offset = out.frame(row, clip, "offset", "Offset Frame")
        if parsed is None:
            continue
        sample = Sample(
            "samm", subject, clip, onset, apex, offset, parsed.code, parsed.aus,
            row.text("Estimated Emotion").lower(), objective_class(row, "Objective Classes"),
            f"{row.file}:{row.number}",
        )  # fmt: skip
        out.add(row, sample, ("Onset Frame", "Apex Frame", "Offset Frame"))
    return out.result


# CASME marks a frame the coders did not determine with a backslash (seen in the OffsetF
# and ApexF2 columns); the sample keeps its other frames.
CASME_NOT_ANNOTATED = "\\"


def casme(path: str | pathlib.Path) -> Annotations:
    """CASME coding sheet (``CASME_A_Section_coding.xls``, ``CASME_B_Section_coding.xls``).

    Yan et al., FG 2013. Columns Subject (1-19), Filename (the clip folder, e.g. ``EP01_5``),
    OnsetF, ApexF1, ApexF2 (end of the apex phase, unused), OffsetF, AU, Emotion; the blank
    and duration columns between them are ignored. A frame cell holding a backslash
    (:data:`CASME_NOT_ANNOTATED`) is not annotated (``None``). Frame numbers are those of the
    frame files' names (``img<N>.jpg``).
    """
    path = pathlib.Path(path)
    out = _Builder("casme", path)

    def frame(row: Row, key: str, field: str, *names: str) -> int | None:
        value = out.correct(row, key, field, row.get(*names), *names)
        if value is None or (isinstance(value, str) and value.strip() == CASME_NOT_ANNOTATED):
            return None
        return row.integer(*names, value=value)

    for row in read_table(path):
        subject = f"sub{row.integer('Subject'):02d}"
        clip = row.text("Filename")
        key = f"{subject}/{clip}"
        parsed = out.code(row, row.get("AU", "Action Units"))
        onset = frame(row, key, "onset", "OnsetF")
        apex = frame(row, key, "apex", "ApexF1", "ApexF")
        offset = frame(row, key, "offset", "OffsetF")
        if parsed is None:
            continue
        sample = Sample(
            "casme", subject, clip, onset, apex, offset, parsed.code, parsed.aus,
            row.text("Emotion").lower(), None, f"{row.file}:{row.number}",
        )  # fmt: skip
        out.add(row, sample, ("OnsetF", "ApexF1", "OffsetF"))
    return out.result


def smic_subject(value) -> str:
    """SMIC subject name ``s01`` of ``1``, ``"s1"`` or ``"s01"``."""
    match = re.fullmatch(r"s?0*([0-9]+)", str(value).strip().lower())
    if match is None:
        raise AnnotationError(f"SMIC subject {value!r}: expected s<number>")
    return f"s{int(match[1]):02d}"


def smic_clip(value) -> str:
    """SMIC clip name with the subject zero-padded: ``s1_ne_01`` -> ``s01_ne_01``."""
    match = re.fullmatch(r"s0*([0-9]+)_(\w+)", str(value).strip().lower())
    if match is None:
        raise AnnotationError(f"SMIC clip {value!r}: expected s<subject>_<emotion>_<number>")
    return f"s{int(match[1]):02d}_{match[2]}"


SMIC_EMOTIONS = ("negative", "positive", "surprise")


def smic_e(path: str | pathlib.Path, sheet: str = "HS") -> Annotations:
    """SMIC-E annotation sheet (``SMIC-HS-E_annotation.xlsx``, sheets HS and VIS).

    Li et al., FG 2013 (SMIC); the E(xtended) release annotates the micro-expressions in the
    long videos with OnsetF / OffsetF (no apex) and Emotion (negative, positive, surprise).
    """
    path = pathlib.Path(path)
    out = _Builder("smic", path)
    for row in read_table(path, sheet):
        emotion = row.text("Emotion").lower()
        if emotion not in SMIC_EMOTIONS:
            raise AnnotationError(f"{row.where('Emotion')}: expected one of {SMIC_EMOTIONS}")
        sample = Sample(
            "smic", smic_subject(row.get("Subject")), smic_clip(row.text("Filename")),
            row.integer("OnsetF"), None, row.integer("OffsetF"), "", frozenset(), emotion,
            None, f"{row.file}:{row.number}",
        )  # fmt: skip
        out.add(row, sample, ("OnsetF", "", "OffsetF"))
    return out.result


# MEGC2019 official ground truth (combined_3class_gt.csv): no header; the databases' names as
# written there, and the class indices of the challenge description.
MEGC2019_CLASSES = ("negative", "positive", "surprise")
MEGC2019_DATABASES = {"casme2": "casme2", "samm": "samm", "smic": "smic"}


def megc2019_subject(database: str, subject) -> str:
    """Subject / split name of the composite, e.g. ``casme2_sub01``, ``samm_006``, ``smic_s01``."""
    subject = str(subject).strip()
    if database == "casme2":
        match = re.fullmatch(r"(?:sub)?0*([0-9]+)", subject)
        return f"casme2_sub{int(match[1]):02d}" if match else ""
    if database == "samm":
        return f"samm_{int(subject):03d}" if re.fullmatch(r"[0-9]+", subject) else ""
    return f"smic_{smic_subject(subject)}"


@dataclasses.dataclass(frozen=True)
class GroundTruth:
    """One row of the MEGC2019 ground truth."""

    database: str
    subject: str  # composite split name
    clip: str
    label: str
    source: str


def megc2019(path: str | pathlib.Path) -> list[GroundTruth]:
    """The official MEGC2019 ground truth (``combined_3class_gt.csv``, 442 rows, no header).

    Columns: database (casme2 / samm / smic), subject (``sub01``, ``6``, ``s01``), clip,
    label (0 negative, 1 positive, 2 surprise). See See et al., "MEGC 2019 - the second
    facial micro-expressions grand challenge", FG 2019.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    rows = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        for number, values in enumerate(csv.reader(f), start=1):
            if not any(v.strip() for v in values):
                continue
            where = f"{path.name}, row {number}"
            if len(values) < 4:
                raise AnnotationError(f"{where}: expected 4 cells, got {values}")
            database = values[0].strip().lower()
            if database not in MEGC2019_DATABASES:
                raise AnnotationError(
                    f"{where}, cell A{number}: expected one of {sorted(MEGC2019_DATABASES)}, "
                    f"got {values[0]!r}"
                )
            subject = megc2019_subject(database, values[1])
            if not subject:
                raise AnnotationError(f"{where}, cell B{number}: bad subject {values[1]!r}")
            label = values[3].strip()
            if label not in ("0", "1", "2"):
                raise AnnotationError(f"{where}, cell D{number}: expected 0, 1 or 2, got {label!r}")
            clip = values[2].strip()
            clip = smic_clip(clip) if database == "smic" else clip
            rows.append(GroundTruth(database, subject, clip, MEGC2019_CLASSES[int(label)], where))
    duplicates = [
        k for k, n in collections.Counter((r.subject, r.clip) for r in rows).items() if n > 1
    ]
    if duplicates:
        raise AnnotationError(f"{path.name}: clips listed twice: {duplicates}")
    return rows


# --------------------------------------------------------------------------------------
# Composites.
# --------------------------------------------------------------------------------------

# MEGC2018 (Yap et al., "Facial micro-expressions grand challenge 2018 summary", FG 2018):
# CASME II and SAMM samples of objective classes I-V; VI and VII are left out.
MEGC2018_CLASSES = ("I", "II", "III", "IV", "V")


def composite_subject(database: str, subject: str) -> str:
    """Split name of a subject in a composite database, e.g. ``casme2_sub01``, ``samm_006``."""
    return f"{database}_{subject}"


def megc2018_part(annotations: Annotations, classes: dict | None = None) -> Annotations:
    """The MEGC2018 samples of one database (objective classes I-V).

    Args:
      annotations: the CASME II or SAMM annotations.
      classes: for CASME II, the MEGC2018 objective classes of
        :func:`casme2_objective_classes` (``CASME2-ObjectiveClasses.xlsx``), which replace the
        classes of the coding sheet; a coded clip without a class there is kept out.

    Returns:
      Annotations of ``database`` ``"megc2018"`` whose samples keep their own ``database`` and
      carry composite subject names; the other classes are listed as excluded.
    """
    out = Annotations("megc2018", annotations.file, [], [], list(annotations.errata))
    out.excluded.extend(annotations.excluded)
    for sample in annotations.samples:
        file, row = sample.source.rsplit(":", 1)
        objective = sample.objective_class
        if classes is not None:
            objective = classes.get((sample.subject, sample.clip))
            if objective is None:
                out.excluded.append(
                    Exclusion(file, int(row), sample.clip, "no MEGC2018 objective class")
                )
                continue
        if objective not in MEGC2018_CLASSES:
            reason = f"objective class {objective} is not one of MEGC2018's I-V"
            out.excluded.append(Exclusion(file, int(row), sample.clip, reason))
            continue
        out.samples.append(
            dataclasses.replace(
                sample,
                subject=composite_subject(sample.database, sample.subject),
                objective_class=objective,
            )
        )
    return out


def casme2_objective_class_samples(path: str | pathlib.Path) -> Annotations:
    """``CASME2-ObjectiveClasses.xlsx`` alone as samples (no frames or AUs), for statistics."""
    path = pathlib.Path(path)
    samples = []
    for row in read_table(path):
        subject, clip = f"sub{row.integer('Subject'):02d}", row.text("Filename")
        objective = objective_class(row, "Objective Class", "Objective Classes")
        samples.append(
            Sample(
                "casme2",
                subject,
                clip,
                None,
                None,
                None,
                "",
                frozenset(),
                "",
                objective,
                f"{row.file}:{row.number}",
            )  # fmt: skip
        )
    return Annotations("casme2", path.name, samples)


def sniff(path: str | pathlib.Path) -> str:
    """Which annotation file ``path`` is, from its header.

    Returns:
      ``"casme2"``, ``"casme2_objective_classes"``, ``"samm"``, ``"smic_e"``, ``"casme"`` or
      ``"megc2019"``.
    """
    path = pathlib.Path(path)
    if path.suffix.lower() == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as f:
            first = next(csv.reader(f), [])
        if first and _key(first[0]) in MEGC2019_DATABASES:
            return "megc2019"
    row = next(read_table(path), None)
    if row is None:
        raise AnnotationError(f"{path.name}: no data rows")
    if row.has("Inducement Code"):
        return "samm"
    if row.has("OnsetFrame"):
        return "casme2"
    if row.has("Objective Class"):
        return "casme2_objective_classes"
    if row.has("ApexF1"):
        return "casme"
    if row.has("OnsetF"):
        return "smic_e"
    raise AnnotationError(f"{path.name}: not an annotation file mejax knows (header {row.header})")
