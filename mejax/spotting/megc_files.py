"""MEGC spotting ground-truth and submission files, read as and written from :class:`Interval`.

Formats (one file per test set):

* MEGC2022 spotting submission: ``vid,pred_onset,pred_offset,type`` with type ``me``
  (micro) or ``mae`` (macro), e.g. the ``cas_pred.csv`` / ``samm_pred.csv`` of MTSN
  (genbing99/MTSN-Spot-ME-MaE, ``test_model.py``) (:func:`read_megc2022`,
  :func:`write_megc2022`);
* MEGC2023 spotting submission: ``vid,onset,offset,type``, type ``me`` | ``mae``
  (:func:`read_megc2023`, :func:`write_megc2023`);
* MEGC2024/2025 spot-then-recognise (STR), submissions and the STRS-Metric repository's
  ground truth: ``subject,video,onset,offset,emotion``, micro-expressions only
  (:func:`read_str`, :func:`write_str`);
* the MEGC2020 organisers' baseline (HeyingGithub/Baseline-project-for-MEGC2020_spotting)
  ground-truth lists, read only (:func:`read_megc2020_baseline`): a folder
  (``CAS_ME_2_Sets`` or ``SAMM_MEGC_Sets``) with ``all_Info.txt``, one event a line,
  ``subject video micro-expression|macro-expression onset apex offset`` separated by spaces,
  and the list of every scored video, ``subject video`` a line (``ME2_all.txt``,
  ``SAMM_MEGC_all.txt``).

Frame numbers are kept as the files give them (MEGC's official scorers do not say whether
submissions count from 0 or 1); a value such as ``557.0`` is read as 557, a fractional one is
an error. Videos are keyed as the file names them: ``vid`` for MEGC2022/2023, ``subject/video``
for STR (as :attr:`mejax.datasets.long_video.LongVideo.key`), and for the MEGC2020 lists
``006_1`` (SAMM-LV, ``006 1``) or ``15_0401`` (CAS(ME)², ``s15 0401``: subject number,
underscore, the 4-digit video code).

A malformed file raises :class:`MegcFileError` naming the file, the line and what was
expected.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from mejax.spotting.evaluation import Interval

MEGC2022_COLUMNS = ("vid", "pred_onset", "pred_offset", "type")
MEGC2023_COLUMNS = ("vid", "onset", "offset", "type")
STR_COLUMNS = ("subject", "video", "onset", "offset", "emotion")
SUBMISSION_TYPES = {"me": "micro", "mae": "macro"}
BASELINE_TYPES = {"micro-expression": "micro", "macro-expression": "macro"}
BASELINE_VIDEO_LISTS = ("ME2_all.txt", "SAMM_MEGC_all.txt")

Intervals = dict[str, list[Interval]]


class MegcFileError(ValueError):
    """A MEGC file that does not follow its format."""


def read_megc2022(path: str | os.PathLike) -> Intervals:
    """A MEGC2022 spotting file, ``vid,pred_onset,pred_offset,type``: video -> intervals."""
    return _read_typed(path, MEGC2022_COLUMNS)


def read_megc2023(path: str | os.PathLike) -> Intervals:
    """A MEGC2023 spotting file, ``vid,onset,offset,type``: video -> intervals."""
    return _read_typed(path, MEGC2023_COLUMNS)


def write_megc2022(path: str | os.PathLike, predictions: Mapping[str, Iterable[Interval]]):
    """Writes video -> intervals as a MEGC2022 spotting submission (videos in the mapping's
    order, each video's intervals in their order)."""
    _write_typed(path, predictions, MEGC2022_COLUMNS)


def write_megc2023(path: str | os.PathLike, predictions: Mapping[str, Iterable[Interval]]):
    """Writes video -> intervals as a MEGC2023 spotting submission."""
    _write_typed(path, predictions, MEGC2023_COLUMNS)


def read_str(path: str | os.PathLike, type: str = "micro") -> Intervals:
    """A MEGC STR file, ``subject,video,onset,offset,emotion``: ``"subject/video"`` ->
    intervals of type ``type`` (STR spots micro-expressions) with their emotion."""

    def parse(row: dict, where: str) -> tuple[str, Interval]:
        subject, video = row["subject"].strip(), row["video"].strip()
        if not subject or not video or "/" in subject:
            raise MegcFileError(
                f"{where}: expected a subject (without '/') and a video, got "
                f"{row['subject']!r}, {row['video']!r}"
            )
        onset, offset = _frame(row, "onset", where), _frame(row, "offset", where)
        return f"{subject}/{video}", _interval(onset, offset, type, row["emotion"].strip(), where)

    return _read_csv(path, STR_COLUMNS, parse)


def write_str(path: str | os.PathLike, predictions: Mapping[str, Iterable[Interval]]):
    """Writes ``"subject/video"`` -> intervals as a MEGC STR file (types are not written)."""
    rows = []
    for key, intervals in predictions.items():
        subject, sep, video = key.partition("/")
        if not sep or not subject or not video:
            raise ValueError(f"STR videos are keyed 'subject/video', got {key!r}")
        rows += [(subject, video, i.onset, i.offset, i.emotion) for i in intervals]
    _write_csv(path, STR_COLUMNS, rows)


def read_megc2020_baseline(folder: str | os.PathLike) -> Intervals:
    """The MEGC2020 baseline's ground truth of one database: every video of its video list
    (``ME2_all.txt`` or ``SAMM_MEGC_all.txt``), with an empty list where it has no event, ->
    the intervals of ``all_Info.txt`` (apex dropped)."""
    folder = Path(folder)
    lists = [folder / name for name in BASELINE_VIDEO_LISTS if (folder / name).exists()]
    if len(lists) != 1:
        raise MegcFileError(
            f"{folder}: expected exactly one video list of {BASELINE_VIDEO_LISTS}, found "
            f"{[p.name for p in lists]}"
        )
    truths: Intervals = {}
    for where, fields in _lines(lists[0]):
        if len(fields) != 2:
            raise MegcFileError(f"{where}: expected 'subject video', got {' '.join(fields)!r}")
        truths[_baseline_video(*fields)] = []
    for where, fields in _lines(folder / "all_Info.txt"):
        if len(fields) != 6 or fields[2] not in BASELINE_TYPES:
            raise MegcFileError(
                f"{where}: expected 'subject video micro-expression|macro-expression onset apex "
                f"offset', got {' '.join(fields)!r}"
            )
        video = _baseline_video(*fields[:2])
        if video not in truths:
            raise MegcFileError(f"{where}: video {video} is not in {lists[0].name}")
        onset = _number(fields[3], "onset", where)
        offset = _number(fields[5], "offset", where)
        truths[video].append(_interval(onset, offset, BASELINE_TYPES[fields[2]], "", where))
    return truths


def _baseline_video(subject: str, video: str) -> str:
    return f"{subject[1:] if subject.startswith('s') else subject}_{video}"


def _lines(path: Path):
    """(``"file, line n"``, fields) of each non-empty line of a space-separated list."""
    try:
        text = path.read_text()
    except OSError as error:
        raise MegcFileError(f"{path}: cannot be read ({error})") from error
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield f"{path}, line {number}", line.split()


def _read_typed(path, columns: tuple[str, ...]) -> Intervals:
    _, onset_column, offset_column, _ = columns

    def parse(row: dict, where: str) -> tuple[str, Interval]:
        video, kind = row["vid"].strip(), row["type"].strip()
        if not video:
            raise MegcFileError(f"{where}: expected a video name in 'vid', got {row['vid']!r}")
        if kind not in SUBMISSION_TYPES:
            raise MegcFileError(
                f"{where}: expected type 'me' (micro) or 'mae' (macro), got {row['type']!r}"
            )
        onset, offset = _frame(row, onset_column, where), _frame(row, offset_column, where)
        return video, _interval(onset, offset, SUBMISSION_TYPES[kind], "", where)

    return _read_csv(path, columns, parse)


def _write_typed(path, predictions: Mapping[str, Iterable[Interval]], columns: tuple[str, ...]):
    names = {kind: name for name, kind in SUBMISSION_TYPES.items()}
    rows = [
        (video, i.onset, i.offset, names[i.type])
        for video, intervals in predictions.items()
        for i in intervals
    ]
    _write_csv(path, columns, rows)


def _read_csv(
    path, columns: tuple[str, ...], parse: Callable[[dict, str], tuple[str, Interval]]
) -> Intervals:
    intervals: Intervals = {}
    try:
        with open(path, newline="") as file:
            reader = csv.reader(file)
            header = next(reader, None)
            if header is None or tuple(h.strip() for h in header) != columns:
                raise MegcFileError(
                    f"{path}, line 1: expected the header {','.join(columns)}, got "
                    f"{','.join(header) if header else 'an empty file'}"
                )
            for fields in reader:
                where = f"{path}, line {reader.line_num}"
                if not fields or not any(f.strip() for f in fields):
                    continue
                if len(fields) != len(columns):
                    raise MegcFileError(
                        f"{where}: expected {len(columns)} fields ({','.join(columns)}), got "
                        f"{len(fields)}: {','.join(fields)}"
                    )
                video, interval = parse(dict(zip(columns, fields, strict=True)), where)
                intervals.setdefault(video, []).append(interval)
    except OSError as error:
        raise MegcFileError(f"{path}: cannot be read ({error})") from error
    return intervals


def _write_csv(path, columns: tuple[str, ...], rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def _frame(row: dict, column: str, where: str) -> int:
    return _number(row[column], column, where)


def _number(text: str, name: str, where: str) -> int:
    """A frame number: an integer, or a float with no fractional part (``557.0``)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not value.is_integer():
        raise MegcFileError(f"{where}: expected an integer frame number as {name}, got {text!r}")
    return int(value)


def _interval(onset: int, offset: int, kind: str, emotion: str, where: str) -> Interval:
    if offset < onset:
        raise MegcFileError(
            f"{where}: expected offset >= onset, got onset {onset}, offset {offset}"
        )
    return Interval(onset, offset, kind, emotion=emotion)
