"""Writes the dummy data of the licensed databases' builders: synthetic pixels and invented
annotation rows, in the folder layout and file formats the databases ship.

Nothing here comes from a database: the frames are seeded noise with a moving square -- or,
for CASME and SAMM, whose ``faces`` configs detect and crop a face, scikit-image's astronaut
photograph (public domain, shipped with the package) shifted one pixel per frame -- and the rows
are invented (they exercise the parser's grammar, the errata and the exclusions). The
committed ``dummy_data/`` folders are this module's output; regenerate them with::

  python -m mejax.datasets.dummy
"""

from __future__ import annotations

import pathlib
import shutil
import zlib

import cv2
import numpy as np
import openpyxl

DATASETS_DIR = pathlib.Path(__file__).parent
FRAME_SIZE = (12, 16)  # (height, width): tiny, the builders accept any size


def write_frames(folder: pathlib.Path, names: list[str], grey: bool = False) -> None:
    """Synthetic frames: noise seeded by the folder's name plus a square moving across."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(folder.name.encode()))
    height, width = FRAME_SIZE
    base = rng.integers(40, 200, (height, width, 3), dtype=np.uint8)
    for t, name in enumerate(names):
        frame = base.copy()
        frame[4:8, t % (width - 4) : t % (width - 4) + 4] = 255
        if grey:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        params = [cv2.IMWRITE_JPEG_QUALITY, 90] if name.endswith(".jpg") else []
        cv2.imwrite(str(folder / name), frame, params)


FACE_SIZE = 144  # the astronaut photograph's side in the face frames: MTCNN finds it


def write_face_frames(
    folder: pathlib.Path, names: list[str], grey: bool = False, quality: int = 90
) -> None:
    """Frames holding a real face (scikit-image's astronaut, ``FACE_SIZE`` square) that moves
    one pixel to the right per frame, so that a face detector finds it on every frame; JPEG at
    ``quality``."""
    from skimage import data  # noqa: PLC0415  (a test dependency; this writer is a dev tool)

    folder.mkdir(parents=True, exist_ok=True)
    face = cv2.resize(data.astronaut()[..., ::-1], (FACE_SIZE, FACE_SIZE),
                      interpolation=cv2.INTER_AREA)  # fmt: skip
    for t, name in enumerate(names):
        shift = np.float32([[1, 0, t], [0, 1, 0]])
        frame = cv2.warpAffine(face, shift, (FACE_SIZE, FACE_SIZE), borderMode=cv2.BORDER_REPLICATE)
        if grey:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        cv2.imwrite(str(folder / name), frame, [cv2.IMWRITE_JPEG_QUALITY, quality])


def write_sheet(path: pathlib.Path, rows: list[list], title: str = "Sheet1", extra=None) -> None:
    """An .xlsx workbook with the rows in its first sheet (and optional extra sheets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(row)
    for name, sheet_rows in (extra or {}).items():
        sheet = book.create_sheet(name)
        for row in sheet_rows:
            sheet.append(row)
    book.save(path)


# ----------------------------------------------------------------------------- CASME II
# (subject, clip, onset, apex, offset, AU code, emotion, objective class); frames numbered
# like the database's img<N>.jpg. sub04/EP12_01f carries the '/' apex of the errata table.
CASME2_ROWS = [
    ("01", "EP01_01", 10, 12, 13, "4+L10", "disgust", 7),
    ("01", "EP02_03f", 20, 22, 24, 12, "happiness", 1),
    ("02", "EP03_02", 5, 7, 8, "1+2", "surprise", 2),
    ("04", "EP12_01f", 30, "/", 33, "4+7", "disgust", 3),
]
CASME2_UNDETERMINED = ("02", "EP05_01", 40, 41, 43, "?", "others", 7)  # 2014 sheet only


def _casme2_coding(path, rows, with_class):
    header = ["Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None,
              "Action Units", "Estimated Emotion"]  # fmt: skip
    header += ["Objective Classes"] if with_class else []
    body = [
        [s, c, None, on, ap, off, None, code, emo] + ([oc] if with_class else [])
        for s, c, on, ap, off, code, emo, oc in rows
    ]
    write_sheet(path, [header, *body], extra={"Sheet2": [], "Sheet3": []})


def write_casme2(root: pathlib.Path) -> None:
    """CASME II layout: coding sheets, ``Cropped/`` and ``CASME2_RAW_selected/``."""
    _casme2_coding(root / "CASME2-coding-20190701.xlsx", CASME2_ROWS, True)
    _casme2_coding(root / "CASME2-coding-20140508.xlsx", CASME2_ROWS + [CASME2_UNDETERMINED], False)
    write_sheet(
        root / "CASME2-ObjectiveClasses.xlsx",
        [["Subject", "Filename", "Objective Class"]] + [[s, c, oc] for s, c, *_, oc in CASME2_ROWS],
    )
    for subject, clip, onset, _, offset, *_ in CASME2_ROWS:
        numbers = range(onset, offset + 1)
        write_frames(
            root / "Cropped" / f"sub{subject}" / clip, [f"reg_img{n}.jpg" for n in numbers]
        )
        write_frames(
            root / "CASME2_RAW_selected" / f"sub{subject}" / clip, [f"img{n}.jpg" for n in numbers]
        )


# ----------------------------------------------------------------------------- SAMM
SAMM_ROWS = [
    # subject, clip, onset, apex, offset, code, emotion, objective class
    ("006", "006_1_2", 5562, 5563, 5565, "4+7", "Anger", 3),
    ("006", "006_1_3", 3912, 3914, 3915, "(R6 or R12)+R15", "Happiness", 7),
    ("028", "028_4_1", 1071, 1143, 1134, "A14C", "Contempt", 7),
    ("028", "028_2_2", 200, 202, 203, "ref(7B)+12", "Happiness", 1),
    ("028", "028_3_9", 300, 301, 302, "soft focus", "Other", 7),  # kept out: no AU
]


def write_samm(root: pathlib.Path) -> None:
    """SAMM layout: ``SAMM_Micro_FACS_Codes_v2.xlsx`` (with its preamble) and ``SAMM/``."""
    preamble = [["SAMM Dataset - Master FACS Codes (dummy)"], [], ["Symbol Key:"], []]
    header = ["Subject", "Filename", "Inducement Code", "Onset Frame", "Apex Frame",
              "Offset Frame", "Duration", "Micro", "Action Units", "Estimated Emotion",
              "Objective Classes", "Notes"]  # fmt: skip
    body = [
        [s, c, 1, on, ap, off, off - on + 1, "Micro - 1/2", code, emo, oc, None]
        for s, c, on, ap, off, code, emo, oc in SAMM_ROWS
    ]
    write_sheet(root / "SAMM_Micro_FACS_Codes_v2.xlsx", [*preamble, header, *body], "MICRO_ONLY")
    for subject, clip, onset, apex, offset, code, *_ in SAMM_ROWS:
        if code == "soft focus":
            continue
        apex = 1113 if clip == "028_4_1" else apex  # the corrected apex has a file
        numbers = sorted({onset, apex, offset, onset + 1})
        names = [f"{subject}_{n:05d}.jpg" for n in numbers]
        write_face_frames(root / "SAMM" / subject / clip, names, grey=True)


# ----------------------------------------------------------------------------- SMIC
SMIC_CLIPS = [("s1", "negative", "s1_ne_01"), ("s1", "positive", "s1_po_02"),
              ("s2", "surprise", "s2_sur_01")]  # fmt: skip


def write_smic(root: pathlib.Path) -> None:
    """SMIC layout: ``SMIC_all_raw`` / ``SMIC_all_cropped``, each with HS, VIS and NIR."""
    for variant, prefix in (("SMIC_all_raw", "image"), ("SMIC_all_cropped", "reg_image")):
        for modality in ("HS", "VIS", "NIR"):
            for subject, emotion, clip in SMIC_CLIPS:
                folder = root / variant / modality / subject / "micro" / emotion / clip
                names = [f"{prefix}{n:06d}.bmp" for n in range(101, 105)]
                write_frames(folder, names, grey=modality == "NIR")


# ----------------------------------------------------------------------------- CK+
CKPLUS_SEQUENCES = [("S005", "001", 3, [9, 17]), ("S010", "002", 5, [6, 12]),
                    ("S010", "004", None, [])]  # fmt: skip


def write_ckplus(root: pathlib.Path) -> None:
    """CK+ layout: ``cohn-kanade-images/``, ``Emotion/`` and ``FACS/`` (S010/004 unlabelled)."""
    for subject, sequence, emotion, aus in CKPLUS_SEQUENCES:
        names = [f"{subject}_{sequence}_{n:08d}.png" for n in range(1, 5)]
        write_frames(root / "cohn-kanade-images" / subject / sequence, names, grey=True)
        last = names[-1][: -len(".png")]
        facs = root / "FACS" / subject / sequence
        facs.mkdir(parents=True, exist_ok=True)
        lines = "".join(f"   {au:.7e}   {0:.7e}\n" for au in aus)
        (facs / f"{last}_facs.txt").write_text(lines)
        if emotion is not None:
            folder = root / "Emotion" / subject / sequence
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{last}_emotion.txt").write_text(f"   {emotion:.7e}\n")


# ----------------------------------------------------------------------------- Oulu-CASIA
# Two subjects with the six expression folders each; 4 frames, P002/Surprise 2 (fewer than the
# 3 of the peak config).
OULU_EXPRESSIONS = ("Anger", "Disgust", "Fear", "Happiness", "Sadness", "Surprise")


def write_oulu_casia(root: pathlib.Path) -> None:
    """Oulu-CASIA layout: ``OriginalImg/VL/Strong/P001/Anger/000.jpeg`` (VL, normal light)."""
    for subject in ("P001", "P002"):
        for expression in OULU_EXPRESSIONS:
            count = 2 if (subject, expression) == ("P002", "Surprise") else 4
            folder = root / "OriginalImg" / "VL" / "Strong" / subject / expression
            write_frames(folder, [f"{n:03d}.jpeg" for n in range(count)])


# ----------------------------------------------------------------------------- JAFFE
JAFFE_IMAGES = ["KA.AN1.39.tiff", "KA.HA2.30.tiff", "KA.NE1.26.tiff", "KL.FE3.176.tiff",
                "KL.SU1.164.tiff"]  # fmt: skip


def write_jaffe(root: pathlib.Path) -> None:
    """JAFFE layout: grey TIFF images ``jaffedbase/KA.AN1.39.tiff`` in one folder."""
    write_frames(root / "jaffedbase", JAFFE_IMAGES, grey=True)


# ----------------------------------------------------------------------------- MUG
# (subject, take folder under the subject, frames): 10 and 9 frames give 8 peak frames, 5 and
# 6 all of theirs; subject 002 was recorded in two sessions.
MUG_TAKES = [
    ("001", "happiness/take000", 10),
    ("001", "anger/take001", 5),
    ("002", "session0/surprise/take000", 9),
    ("002", "session1/neutral/take000", 6),
]


def write_mug(root: pathlib.Path) -> None:
    """MUG layout: ``subjects3/001/happiness/take000/img_0000.jpg`` (posed part)."""
    for subject, take, count in MUG_TAKES:
        write_frames(
            root / "subjects3" / subject / take, [f"img_{n:04d}.jpg" for n in range(count)]
        )


# ----------------------------------------------------------------------------- CASME
# Two sections as distributed, each with its .xls coding sheet and frame folder; subjects are
# numbered across both (A: 1-7, B: 8-19). (subject, clip, onset, apex1, apex2, offset, AU
# code, emotion, frame name pattern); '\\' marks a frame the coders did not determine.
CASME_SECTIONS = {
    "A": [
        (1, "EP01_5", 10, 12, "\\", 14, "4+L10", "disgust", "img{}.jpg"),
        (1, "EP03_2", 20, 21, 22, "\\", "12", "happiness", "img{}.jpg"),
        (3, "EP09_4", 5, 6, "\\", 8, "R14", "repression", "EP09_4-{}.jpg"),
        (3, "EP10", 30, 31, "\\", 32, "?", "tense", None),  # kept out: AU undetermined
    ],
    "B": [
        (8, "EP02_01", 40, 42, 43, 44, "1+2", "surprise", "img{}.jpg"),
        (19, "EP12_3", 7, 8, "\\", 10, "4+7", "tense", "img{}.jpg"),
    ],
}
CASME_FPS = 60


def write_xls(path: pathlib.Path, rows: list[list], title: str = "Sheet1") -> None:
    """A BIFF8 .xls workbook (the format of CASME's coding sheets) with the rows."""
    import xlwt  # only the dummy-data writer needs it (the readers use xlrd)

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlwt.Workbook()
    sheet = book.add_sheet(title)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    book.save(str(path))


def write_casme(root: pathlib.Path) -> None:
    """CASME layout: ``CASME_{A,B}_Section_coding.xls`` and ``CASME_{A,B}/Section {A,B}/``."""
    header = ["Subject", "Filename", None, "OnsetF", "ApexF1", "ApexF2", "OffsetF", None,
              "Total", "Onset", "AU", "Emotion"]  # fmt: skip
    for section, rows in CASME_SECTIONS.items():
        body = []
        for s, clip, on, ap1, ap2, off, code, emo, _ in rows:
            last = off if isinstance(off, int) else ap1 + 2
            total = round((last - on + 1) * 1000 / CASME_FPS)
            onset_ms = round((ap1 - on + 1) * 1000 / CASME_FPS)
            body.append([s, clip, None, on, ap1, ap2, off, None, total, onset_ms, code, emo])
        write_xls(root / f"CASME_{section}_Section_coding.xls", [header, *body])
        for s, clip, on, ap1, _, off, _, _, pattern in rows:
            if pattern is None:
                continue
            last = off if isinstance(off, int) else ap1 + 2
            folder = root / f"CASME_{section}" / f"Section {section}" / f"sub{s:02d}" / clip
            write_face_frames(folder, [pattern.format(n) for n in range(on, last + 1)])


# ----------------------------------------------------------------------------- composites
MEGC2019_ROWS = [("casme2", "sub01", "EP01_01", 0), ("casme2", "sub01", "EP02_03f", 1),
                 ("casme2", "sub02", "EP03_02", 2), ("samm", "6", "006_1_2", 0),
                 ("samm", "28", "028_4_1", 0), ("smic", "s01", "s01_ne_01", 0),
                 ("smic", "s01", "s01_po_02", 1), ("smic", "s02", "s02_sur_01", 2)]  # fmt: skip


def write_megc2019(root: pathlib.Path) -> None:
    write_casme2(root / "casme2")
    write_samm(root / "samm")
    write_smic(root / "smic")
    (root / "combined_3class_gt.csv").write_text(
        "".join(f"{d},{s},{c},{label}\n" for d, s, c, label in MEGC2019_ROWS)
    )


def write_megc2018(root: pathlib.Path) -> None:
    write_casme2(root / "casme2")
    write_samm(root / "samm")


WRITERS = {
    "casme": write_casme,
    "casme2": write_casme2,
    "samm": write_samm,
    "smic": write_smic,
    "ckplus": write_ckplus,
    "oulu_casia": write_oulu_casia,
    "jaffe": write_jaffe,
    "mug": write_mug,
    "megc2018": write_megc2018,
    "megc2019": write_megc2019,
}


def main() -> None:
    """Rewrites ``<builder>/dummy_data`` of every builder."""
    for name, write in WRITERS.items():
        target = DATASETS_DIR / name / "dummy_data"
        shutil.rmtree(target, ignore_errors=True)
        write(target)
        print(target)


if __name__ == "__main__":
    main()
