"""Writes the dummy data of the long-video builders (``casme_sq``, ``samm_lv``, ``casme3``):
synthetic pixels and invented rows, in the folder layouts, file names and sheet formats the
databases ship.

Nothing here comes from a database. The frames hold scikit-image's astronaut photograph (public
domain; a real face, so that the builders' MTCNN face crop finds it), shifted one pixel per
frame, 144 px square; the rows are invented to exercise every rule and several errata of
:mod:`mejax.datasets.spotting_sheets` (offset 0, apex 0, fractional frames, apex -1, onset 0,
a name used twice, an upper-case video letter, the ``happyiness`` typo, spNO.216 e's +1, an
occluded-apex clip) and the layouts' quirks (CAS(ME)² folder descriptions, SAMM-LV's 4- and
5-digit numbers, CAS(ME)³'s missing and damaged frames, a video without events). The committed
``dummy_data/`` folders are this module's output; regenerate them with::

  python -m mejax.datasets.long_video_dummy
"""

from __future__ import annotations

import pathlib
import shutil

import openpyxl

from mejax.datasets import dummy

DATASETS_DIR = pathlib.Path(__file__).parent
JPEG_QUALITY = 75


def write_face_frames(folder: pathlib.Path, names: list[str], grey: bool = False) -> None:
    """The clip builders' moving astronaut face (:func:`mejax.datasets.dummy.write_face_frames`),
    at this module's JPEG quality."""
    dummy.write_face_frames(folder, names, grey, quality=JPEG_QUALITY)


def _book(sheets: dict[str, list[list]], path: pathlib.Path) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)


# CAS(ME)²: subject numbers 1 (s15) and 2 (s30); anger1_4 of s30 carries the 'happyiness' typo.
CASME_SQ_ROWS = [
    [1, "disgust1_1", 2, 4, 6, "4+7", "negative", "micro-expression", "disgust"],
    [1, "disgust1_2", 5, 7, 0, 12, "positive", "macro-expression", "happiness"],
    [1, "anger1_1", 3, 0, 9, "4", "negative", "macro-expression", "anger"],
    [2, "anger1_4", 2, 5, 8, 12, "others", "macro-expression", "happyiness"],
]
CASME_SQ_RULE1 = [[15, "s15", 1]] * 3 + [[30, "s30", 2]]
CASME_SQ_RULE2 = [["0101", "disgust1"], ["0401", "anger1"], ["0502", "happy1"]]


def write_casme_sq(root: pathlib.Path) -> None:
    _book(
        {"CASFEcode_final": CASME_SQ_ROWS, "naming rule1": CASME_SQ_RULE1,
         "naming rule2": CASME_SQ_RULE2},
        root / "CAS(ME)^2code_final.xlsx",
    )  # fmt: skip
    for folder, count in (
        ("s15/15_0101disgustingteeth", 8),
        ("s15/15_0401anger", 10),
        ("s30/30_0401anger", 9),
        ("s30/30_0502happy", 6),  # no events
    ):
        names = [f"img{n:03d}.jpg" for n in range(1, count + 1)]
        write_face_frames(root / "rawpic" / folder, names)


SAMM_LV_TITLE = [
    ["SAMM Long Videos Dataset - FACS Codes (invented dummy rows)"],
    [],
    ["NOTE: Subjects with Apex Frame not annotated were labelled as -1."],
]
SAMM_LV_HEADER = [
    "Subject", "Filename", "Inducement Code", "Onset", "Apex", "Offset", "Duration", "Type",
    "Action Units", "Notes",
]  # fmt: skip
SAMM_LV_ROWS = [
    ["006", "006_1_1", 1, 1.4, 4.5, 7.6, 7.2, "Macro", "4(B/C)+7B", None],
    ["006", "006_1_2", 1, 3, 5, 7, 5, "Micro - 1/2", "4+7", None],
    ["006", "006_1_3", 1, 0, 2, 8, 9, "Macro", "12", None],
    ["007", "007_2_1", 2, 2, -1, 6, 5, "Micro - 1/2", "R2", "apex not annotated"],
    ["007", "007_2_2", 2, 3, 4, 6, 4, "Micro - 1/2", "14", None],
    ["007", "007_2_2", 2, 2, 5, 8, 7, "Macro", "14+24", None],
]


def write_samm_lv(root: pathlib.Path) -> None:
    _book(
        {"FACS_Movement_Only": [*SAMM_LV_TITLE, SAMM_LV_HEADER, *SAMM_LV_ROWS]},
        root / "SAMM_LongVideos_V1_Release.xlsx",
    )
    frames = root / "SAMM_longvideos"
    write_face_frames(frames / "006_1", [f"006_1_{n:04d}.jpg" for n in range(1, 11)], grey=True)
    write_face_frames(frames / "007_2", [f"007_2_{n:05d}.jpg" for n in range(1, 10)], grey=True)


CASME3_HEADER = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Expression type",
                 "Objective class"]  # fmt: skip
CASME3_ROWS = [
    ["spNO.1", "a", "4", "6", "9", "4", "Micro-expression", "III"],
    ["spNO.1", "a", "2", "2", "12", "4+7", "Macro-expression", "VII"],
    ["spNO.1", "b", "2", "3", "5", "12", "Micro-expression", "I"],
    ["spNO.1", "B", "6", "7", "8", "R10", "Macro-expression", "VII"],
    ["spNO.216", "e", "0", "0", "25", "14", "Micro-expression", "VII"],
    ["spNO.216", "e", "0", "3", "9", "14+24", "Macro-expression", "VII"],
]
CASME3_BLINKS = [["Subject", "Filename", "Onset", "Offset"], ["spNO.1", "a", "7", "8"]]
CASME3_ME_HEADER = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class",
                    "emotion"]  # fmt: skip
CASME3_ME_ROWS = [
    ["spNO.1", "a", "4", "6", "9", "4", "III", "disgust"],
    ["spNO.1", "b", "2", "3", "5", "12", "I", "Others"],
    ["spNO.216", "e", "0", "0", "25", "14", "VII", "others"],
    ["spNO.2", "e", "138", "143", "148", "1", "V", "surprise"],  # occluded apex: removed
]
# spNO.1 a: frames 3-12 without 6 (missing) and 5 (damaged: unreadable, on the damaged list).
CASME3_FRAMES = {
    "spNO.1/a": [3, 4, 5, 7, 8, 9, 10, 11, 12],
    "spNO.1/b": list(range(1, 9)),
    "spNO.216/a": list(range(1, 7)),  # no events
    "spNO.216/e": list(range(1, 11)),
}


def write_casme3(root: pathlib.Path) -> None:
    import xlwt  # noqa: PLC0415  (a test dependency; this writer is a dev tool)

    book = xlwt.Workbook()
    for name, rows in (("AU+Emotion", [CASME3_HEADER, *CASME3_ROWS]), ("eye blink", CASME3_BLINKS)):
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
    book.save(str(root / "CAS(ME)3_part_A_v2.xls"))
    _book(
        {"label": [CASME3_ME_HEADER, *CASME3_ME_ROWS], "Sheet1": [], "Sheet3": []},
        root / "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx",
    )
    for video, numbers in CASME3_FRAMES.items():
        write_face_frames(root / "RGB" / video / "color", [f"{n}.jpg" for n in numbers])
    (root / "RGB/spNO.1/a/color/5.jpg").write_bytes(b"not a JPEG: damaged")
    exceptions = root / "exception"
    exceptions.mkdir()
    (exceptions / "error_info_damaged_image_partA.txt").write_text(
        "spNO.1 A 5.jpg  the image cannot open\n"
    )
    (exceptions / "image_with_bad_quality_partA.txt").write_text(
        "/data/databases/casme3/RGB/spNO.1/b/color/2.jpg\n"
    )


WRITERS = {"casme_sq": write_casme_sq, "samm_lv": write_samm_lv, "casme3": write_casme3}


def write(database: str, root: pathlib.Path) -> None:
    """Writes the dummy data of ``database`` into the (new) folder ``root``."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    WRITERS[database](root)


def main() -> None:
    for database in WRITERS:
        write(database, DATASETS_DIR / database / "dummy_data")


if __name__ == "__main__":
    main()
