"""Mock copies of the licensed databases: the real coding sheet, the real layout, synthetic faces.

``python -m mejax.datasets.mock DATABASE --out DIR`` writes, under ``DIR``, a copy of a
licensed database as it ships -- folder layout, file names, frame numbering and file formats,
exactly those the builders read -- with the database's own coding sheet copied in and
synthetic frames in place of the recordings. Every builder then builds from the mock as from a
real copy (same clips, subjects, splits, labels, onset / apex / offset indices and build
report), so that a setting can be run through all its rounds at the real shape before the
real data is at hand::

  python -m mejax.datasets.mock samm --out /tmp/samm_mock
  python -m mejax.datasets.mock casme2 --out /tmp/casme2_mock --frame-size 96x128 --seed 1

Options: ``--annotations PATH`` a folder of coding sheets laid out as below (default: the
environment variable ``MEJAX_ANNOTATIONS``, else ``shared/annotations`` beside the checkout);
``--frame-size HxW`` (default ``48x64``); ``--seed N`` (the faces, the motion and, for CASME,
the invented sheet); ``--no-frames`` (the sheets and empty frame folders: a label-only copy for
``python -m mejax.main ... --plan``). A summary (clips, subjects, frames, output folder) ends
the run.

The annotations folder (the user's own copies of the sheets)::

  CASME2/CASME2-coding-20190701.xlsx, CASME2-coding-20140508.xlsx, CASME2-ObjectiveClasses.xlsx
  SAMM/SAMM_Micro_FACS_Codes_v2.xlsx
  SMIC/SMIC-HS-E_annotation.xlsx (optional: SMIC-HS-E_annotation_orig.xlsx)
  MEGC2019/combined_3class_gt.csv

Layout written per database (``DIR`` is the builder's manual directory):

* ``casme2``: the coding sheets found (2019 and / or 2014) and ``CASME2-ObjectiveClasses.xlsx``
  if found; ``Cropped/sub01/EP02_01f/reg_img46.jpg`` (the face square) and
  ``CASME2_RAW_selected/sub01/EP02_01f/img46.jpg`` (the whole frame), every frame number from
  onset to offset of the union of the sheets' rows (both sheets agree on every frame range).
* ``samm``: ``SAMM_Micro_FACS_Codes_v2.xlsx`` and ``SAMM/006/006_1_2/006_05562.jpg``, grey JPEG
  whole frames, onset to offset after the errata of :mod:`mejax.datasets.errata` (the apex of
  028_4_1 and 032_3_1, whose released values lie outside onset..offset).
* ``smic``: SMIC-E HS, ``SMIC_all_raw/HS/s1/micro/negative/s1_ne_01/image17581039.bmp`` (whole
  frames) and ``SMIC_all_cropped/HS/.../reg_image17581039.bmp`` (the face square), frames
  ``OnsetF``..``OffsetF`` of the sheet (the long-video frame numbers, at least 6 digits), and
  ``SMIC-HS-E_annotation.xlsx`` copied in (the builder reads the folders only). The database
  ships 164 HS clips; the sheet lists 157, so the clips of ``SMIC-HS-E_annotation_orig.xlsx``
  (5 more, with their frame ranges) and of MEGC2019's ground truth (2 more, frames
  ``1..N`` with N the sheet's median length: invented, and said so) that it lacks are added.
  The emotion folder is the one the clip name abbreviates (``ne`` negative, ``po`` positive,
  ``sur`` surprise), as SMIC names its clips after their folders; where the sheet's Emotion
  cell disagrees (s18_sur_03: ``negative``), the summary says so.
* ``megc2018``: ``casme2/`` (with ``CASME2-ObjectiveClasses.xlsx``, required) and ``samm/`` as
  above.
* ``megc2019``: ``combined_3class_gt.csv`` and ``casme2/``, ``samm/``, ``smic/`` as above.
* ``casme``: no coding sheet of CASME is public, so its two ``.xls`` sheets
  (``CASME_A_Section_coding.xls``, ``CASME_B_Section_coding.xls``, in the format
  :func:`mejax.datasets.readers.casme` reads) are INVENTED with the published counts -- 195
  clips of 19 subjects, Section A subjects 1-7 and Section B subjects 8-19, 60 fps -- and
  :data:`CASME_EMOTION_COUNTS`, whose disgust, repression, surprise and tense give the 171 clips
  of STAP's Table IV; 154 clips carry one of AUs 1, 2, 4, 9, 12, 14, 17 (STAP Tables VI-VII).
  Frames ``CASME_A/Section A/sub01/EP01_5/img10.jpg``; a few rows have the backslash offset
  and ApexF2 cells the reader handles. The run prints that the sheet is invented, and so does
  ``MOCK.md``.

Every mock root also gets ``MOCK.md`` saying what it is (not an annotation file: the builders'
``annotation_sha256`` ignores it).

Frames. The faces are those of :mod:`mejax.datasets.synth_me.render`: one synthetic identity per
database subject (identity index = a per-database offset + the subject's number, so subjects
look different and the same subject looks alike in a database's mock and in a composite's), a
face rendered square at the shorter side of ``--frame-size`` and centred on the frame (edges
replicated to the width). Each clip moves between the annotated frames: the AUs of its code
that the renderer draws (others ignored; a code with none of them gets a sampled combination)
ramp up from the onset to the apex with a raised cosine and back down to the last frame, at
2.5-4 % of the face's width (1-2 px at 48 px, more than synth_me's micro amplitude so that
optical flow, TIM and EVM see it at the small default size), with synth_me's drift, blinks and
sensor noise but not its mains flicker (at 100-200 fps it would change the brightness of every
frame more than the motion does). A missing apex (CASME II sub04/EP12_01f, SMIC) peaks at the
middle frame; an apex on the onset frame peaks there. Databases that distribute
crops get the face square in their cropped folder and the whole frame in the raw one.

Face detection. The face-cropped configs (``samm/faces``, ``casme/faces`` and the SAMM part of
``megc2018/cropped`` and ``megc2019/cropped``) run MTCNN on 5 frames of every clip and stop on a
clip with no face on any of them. MTCNN finds the synthetic faces without help (no larger
face, no photograph): on the neutral faces of 8 identities it found all 8, grey and colour, at
32, 40 and 48 px (at 56-96 px it missed one identity, in grey or in colour), and the builds of
those four configs from the mocks at the default 48x64 found a face on every probed frame of
every clip (SAMM's in grey).

What is copied. Nothing of the licensed databases but the coding sheets the user points to,
byte for byte, into the user's own output folder; the frames are synthetic and no sheet row is
changed (the errata are applied when reading, exactly as the builders apply them).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import pathlib
import re
import shutil
import statistics
import sys
import time

import cv2
import numpy as np

from mejax.datasets import dummy, readers
from mejax.datasets.synth_me import render

DATABASES = ("casme2", "samm", "smic", "megc2018", "megc2019", "casme")
DEFAULT_FRAME_SIZE = (48, 64)  # (height, width)
ENVIRONMENT_VARIABLE = "MEJAX_ANNOTATIONS"
JPEG_QUALITY = 90

# Sheets, relative to the annotations folder.
CASME2_CODINGS = {
    "CASME2-coding-20190701.xlsx": "CASME2/CASME2-coding-20190701.xlsx",
    "CASME2-coding-20140508.xlsx": "CASME2/CASME2-coding-20140508.xlsx",
}
CASME2_CLASSES = ("CASME2-ObjectiveClasses.xlsx", "CASME2/CASME2-ObjectiveClasses.xlsx")
SAMM_CODING = ("SAMM_Micro_FACS_Codes_v2.xlsx", "SAMM/SAMM_Micro_FACS_Codes_v2.xlsx")
SMIC_SHEET = ("SMIC-HS-E_annotation.xlsx", "SMIC/SMIC-HS-E_annotation.xlsx")
SMIC_SHEET_ORIG = "SMIC/SMIC-HS-E_annotation_orig.xlsx"
MEGC2019_TRUTH = ("combined_3class_gt.csv", "MEGC2019/combined_3class_gt.csv")

FPS = {"casme2": 200.0, "samm": 200.0, "smic": 100.0, "casme": 60.0}
# synth_me identity index = offset + the subject's number: every database its own people.
IDENTITY_OFFSET = {"casme2": 0, "samm": 1000, "smic": 2000, "casme": 3000}
SMIC_EMOTION_TOKENS = {"ne": "negative", "po": "positive", "sur": "surprise"}

# The mock's motion: synth_me's micro-expression with a larger amplitude (fraction of the face
# width), so that the 1-2 px of motion survive the small default frames.
MOTION = dataclasses.replace(render.MICRO, name="mock", amplitude_range=(0.025, 0.04), warp_steps=2)

# CASME (invented sheet): 195 clips, 19 subjects, A 1-7, B 8-19. The four emotions of STAP's
# Table IV sum to its 171 clips; the other 24 are spread over the remaining emotions.
CASME_EMOTION_COUNTS = {
    "tense": 69,
    "disgust": 44,
    "repression": 38,
    "surprise": 20,
    "happiness": 10,
    "sadness": 6,
    "contempt": 4,
    "fear": 4,
}
CASME_NUM_SUBJECTS = 19
CASME_SECTION_A_SUBJECTS = range(1, 8)
CASME_ANY_AU = (1, 2, 4, 9, 12, 14, 17)  # STAP's cross-database AUs (Tables VI-VII)
CASME_NUM_ANY_AU = 154  # clips with one of them (STAP Sec. IV-E)
# Invented codes per emotion: (codes with one of CASME_ANY_AU, codes without any).
CASME_CODES = {
    "tense": (("4", "4+7", "14", "17", "1+4", "R14+17"), ("7", "18", "24", "15")),
    "disgust": (("4", "9", "4+9", "4+7", "4+L10", "9+17"), ("L10", "10", "7+10")),
    "repression": (("14", "17", "15+17", "L14", "14+24"), ("15", "24", "15+24")),
    "surprise": (("1+2", "1", "2", "1+2+5"), ("5", "5+25")),
    "happiness": (("12", "6+12", "L12"), ("6", "25")),
    "sadness": (("1+4+15", "1+4", "17"), ("15", "15+24")),
    "contempt": (("R14", "L14", "R12"), ("R10",)),
    "fear": (("1+2+4", "4+20", "1+4"), ("5+20", "20")),
}
CASME_HEADER = ["Subject", "Filename", None, "OnsetF", "ApexF1", "ApexF2", "OffsetF", None,
                "Total", "Onset", "AU", "Emotion"]  # fmt: skip
CASME_INVENTED_NOTE = (
    "CASME's coding sheets are INVENTED: no CASME coding sheet is public. The mock's rows have "
    "the published counts (195 clips, 19 subjects, Section A subjects 1-7, B 8-19, 60 fps; "
    "171 clips of disgust / repression / surprise / tense) but invented frames, codes and "
    "emotions per clip."
)


class AnnotationsNotFoundError(FileNotFoundError):
    """No annotations folder, or a sheet missing from it (naming every path looked for)."""


# --------------------------------------------------------------------------------------
# What to write.
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Output:
    """One frame folder of a clip: where, how its files are named, and what they hold.

    Attributes:
      folder: the clip's frame folder.
      pattern: file name with ``{n}`` for the frame number, e.g. ``"reg_img{n}.jpg"``.
      face: the face square alone (a database's cropped release) instead of the whole frame.
      grey: written single-channel (SAMM).
    """

    folder: pathlib.Path
    pattern: str
    face: bool = False
    grey: bool = False


@dataclasses.dataclass(frozen=True)
class MockClip:
    """One clip of a mock: the frames it gets and the annotated frames its motion follows.

    Attributes:
      database: ``casme2``, ``samm``, ``smic`` or ``casme``.
      subject: the database's subject (split) name, e.g. ``sub01``, ``006``, ``s01``.
      clip: the clip's name.
      numbers: the frame numbers written, ascending and consecutive.
      onset, apex, offset: annotated frame numbers (``None``: not annotated).
      aus: the AUs of its code (those the renderer draws move the face).
      index: the clip's index within its subject (the synth_me clip seed).
      outputs: the folders the frames are written to.
    """

    database: str
    subject: str
    clip: str
    numbers: tuple[int, ...]
    onset: int | None
    apex: int | None
    offset: int | None
    aus: frozenset[int]
    index: int
    outputs: tuple[Output, ...]

    @classmethod
    def of(cls, sample: readers.Sample, index: int, outputs, *, offset=None) -> MockClip:
        """The clip of a sheet's sample (``offset``: in place of an unannotated one)."""
        offset = sample.offset if offset is None else offset
        numbers = _span(sample.onset, sample.apex, offset)
        return cls(sample.database, sample.subject, sample.clip, numbers, sample.onset,
                   sample.apex, offset, sample.aus, index, tuple(outputs))  # fmt: skip

    @property
    def identity(self) -> int:
        return IDENTITY_OFFSET[self.database] + int(re.findall(r"[0-9]+", self.subject)[-1])


@dataclasses.dataclass
class Plan:
    """A mock: its clips, the sheets to copy (source -> target) and notes for the summary."""

    database: str
    root: pathlib.Path
    clips: list[MockClip] = dataclasses.field(default_factory=list)
    copies: list[tuple[pathlib.Path, pathlib.Path]] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    parts: dict[str, Plan] = dataclasses.field(default_factory=dict)

    def all_clips(self) -> list[MockClip]:
        return self.clips + [c for p in self.parts.values() for c in p.all_clips()]

    def all_copies(self) -> list[tuple[pathlib.Path, pathlib.Path]]:
        return self.copies + [c for p in self.parts.values() for c in p.all_copies()]

    def all_notes(self) -> list[str]:
        parts = [f"{name}: {n}" for name, p in self.parts.items() for n in p.all_notes()]
        return self.notes + parts


def default_annotations() -> pathlib.Path:
    """``shared/annotations`` beside the checkout (``<checkout>/../shared/annotations``)."""
    import mejax

    return pathlib.Path(mejax.__file__).resolve().parents[2] / "shared" / "annotations"


def find_annotations(path: str | os.PathLike | None = None) -> pathlib.Path:
    """The annotations folder: ``path``, else ``$MEJAX_ANNOTATIONS``, else the default.

    Raises:
      AnnotationsNotFoundError: the folder chosen does not exist (naming what was looked for).
    """
    if path is not None:
        where, how = pathlib.Path(path), "--annotations"
    elif os.environ.get(ENVIRONMENT_VARIABLE):
        where, how = pathlib.Path(os.environ[ENVIRONMENT_VARIABLE]), f"${ENVIRONMENT_VARIABLE}"
    else:
        where = default_annotations()
        how = f"the default (--annotations not given, ${ENVIRONMENT_VARIABLE} not set)"
    if not where.is_dir():
        raise AnnotationsNotFoundError(
            f"no annotations folder: {how} names {where}, which is not a folder. Give a folder "
            "of the databases' coding sheets (subfolders CASME2, SAMM, SMIC, MEGC2019) with "
            f"--annotations PATH or ${ENVIRONMENT_VARIABLE}."
        )
    return where


def _sheet(annotations: pathlib.Path, relative: str, required: bool = True) -> pathlib.Path | None:
    path = annotations / relative
    if path.is_file():
        return path
    if required:
        raise AnnotationsNotFoundError(f"annotation file not found: {path}")
    return None


def _span(*frames: int | None) -> tuple[int, ...]:
    """Every frame number from the first to the last annotated one (the apex included even
    where it lies outside onset..offset)."""
    known = [f for f in frames if f is not None]
    return tuple(range(min(known), max(known) + 1))


def _indexed(samples) -> list[tuple[int, readers.Sample]]:
    """(index within its subject, sample) in sheet order."""
    seen = collections.Counter()
    result = []
    for sample in samples:
        result.append((seen[sample.subject], sample))
        seen[sample.subject] += 1
    return result


def plan_casme2(root: pathlib.Path, annotations: pathlib.Path, *, classes: bool = False) -> Plan:
    """CASME II: the coding sheets found, ``Cropped/`` and ``CASME2_RAW_selected/``.

    Args:
      classes: ``CASME2-ObjectiveClasses.xlsx`` is required (MEGC2018), not only copied if found.
    """
    plan = Plan("casme2", root)
    sheets = {name: annotations / rel for name, rel in CASME2_CODINGS.items()}
    found = {name: path for name, path in sheets.items() if path.is_file()}
    if not found:
        raise AnnotationsNotFoundError(
            "no CASME II coding sheet found; looked for "
            + " and ".join(str(p) for p in sheets.values())
        )
    merged: dict[tuple[str, str], readers.Sample] = {}
    for name, path in found.items():
        plan.copies.append((path, root / name))
        for sample in readers.casme2(path).samples:
            key = (sample.subject, sample.clip)
            before = merged.get(key)
            if before is not None and _span(before.onset, before.apex, before.offset) != _span(
                sample.onset, sample.apex, sample.offset
            ):
                plan.notes.append(f"{sample.subject}/{sample.clip}: the sheets' frames differ")
                merged[key] = dataclasses.replace(
                    sample,
                    onset=min(before.onset, sample.onset),
                    offset=max(before.offset, sample.offset),
                )
            merged.setdefault(key, sample)
    path = _sheet(annotations, CASME2_CLASSES[1], required=classes)
    if path is not None:
        plan.copies.append((path, root / CASME2_CLASSES[0]))
    for index, s in _indexed(merged.values()):
        outputs = (
            Output(root / "Cropped" / s.subject / s.clip, "reg_img{n}.jpg", face=True),
            Output(root / "CASME2_RAW_selected" / s.subject / s.clip, "img{n}.jpg"),
        )
        plan.clips.append(MockClip.of(s, index, outputs))
    return plan


def plan_samm(root: pathlib.Path, annotations: pathlib.Path) -> Plan:
    """SAMM: the FACS code sheet and ``SAMM/<subject>/<clip>/<subject>_<NNNNN>.jpg`` (grey)."""
    plan = Plan("samm", root)
    path = _sheet(annotations, SAMM_CODING[1])
    plan.copies.append((path, root / SAMM_CODING[0]))
    sheet = readers.samm(path)
    plan.notes += [f"erratum applied: {e.split(': ', 1)[1]}" for e in sheet.errata]
    for index, s in _indexed(sheet.samples):
        output = Output(root / "SAMM" / s.subject / s.clip, f"{s.subject}_{{n:05d}}.jpg", grey=True)
        plan.clips.append(MockClip.of(s, index, [output]))
    return plan


def _smic_folder_names(subject: str, clip: str) -> tuple[str, str]:
    """SMIC's folder names, not zero-padded: (``s1``, ``s1_ne_01``) of (``s01``, ``s01_ne_01``)."""
    number = int(subject[1:])
    return f"s{number}", f"s{number}_{clip.split('_', 1)[1]}"


def plan_smic(root: pathlib.Path, annotations: pathlib.Path) -> Plan:
    """SMIC-E HS: ``SMIC_all_raw/HS/...`` and ``SMIC_all_cropped/HS/...`` (see the docstring)."""
    plan = Plan("smic", root)
    sheet_path = _sheet(annotations, SMIC_SHEET[1], required=False)
    orig_path = _sheet(annotations, SMIC_SHEET_ORIG, required=False)
    truth_path = _sheet(annotations, MEGC2019_TRUTH[1], required=False)
    if sheet_path is None and orig_path is None:
        raise AnnotationsNotFoundError(
            f"no SMIC-E sheet found; looked for {annotations / SMIC_SHEET[1]} and "
            f"{annotations / SMIC_SHEET_ORIG}"
        )
    samples: dict[str, readers.Sample] = {}
    for path in (sheet_path, orig_path):
        if path is None:
            continue
        added = [s for s in readers.smic_e(path, "HS").samples if s.clip not in samples]
        if samples and added:
            plan.notes.append(
                f"{len(added)} clip(s) not in {sheet_path.name} taken from {path.name}: "
                + ", ".join(s.clip for s in added)
            )
        samples.update((s.clip, s) for s in added)
    if sheet_path is not None:
        plan.copies.append((sheet_path, root / SMIC_SHEET[0]))
    else:
        plan.copies.append((orig_path, root / orig_path.name))
    lengths = [s.offset - s.onset + 1 for s in samples.values()]
    invented = []
    if truth_path is not None:
        for row in readers.megc2019(truth_path):
            if row.database == "smic" and row.clip not in samples:
                subject = row.subject.removeprefix("smic_")
                length = int(statistics.median(lengths))
                samples[row.clip] = readers.Sample(
                    "smic", subject, row.clip, 1, None, length, "", frozenset(), row.label,
                    None, row.source,
                )  # fmt: skip
                invented.append(row.clip)
    if invented:
        plan.notes.append(
            f"{len(invented)} clip(s) of {MEGC2019_TRUTH[0]} with no row in any SMIC-E sheet, "
            f"frames 1-{int(statistics.median(lengths))} INVENTED: {', '.join(invented)}"
        )
    ordered = sorted(samples.values(), key=lambda s: (s.subject, s.clip))
    for index, s in _indexed(ordered):
        token = s.clip.split("_")[1]
        emotion = SMIC_EMOTION_TOKENS.get(token, s.emotion)
        if emotion != s.emotion and s.clip not in invented:
            plan.notes.append(
                f"{s.clip}: folder {emotion}/ as its name says; the sheet's Emotion is {s.emotion}"
            )
        subject, clip = _smic_folder_names(s.subject, s.clip)
        outputs = tuple(
            Output(root / variant / "HS" / subject / "micro" / emotion / clip, pattern, face=face)
            for variant, pattern, face in (
                ("SMIC_all_raw", "image{n:06d}.bmp", False),
                ("SMIC_all_cropped", "reg_image{n:06d}.bmp", True),
            )
        )
        plan.clips.append(MockClip.of(s, index, outputs))
    return plan


def plan_megc2018(root: pathlib.Path, annotations: pathlib.Path) -> Plan:
    """MEGC2018: ``casme2/`` (with the objective classes) and ``samm/``."""
    plan = Plan("megc2018", root)
    plan.parts["casme2"] = plan_casme2(root / "casme2", annotations, classes=True)
    plan.parts["samm"] = plan_samm(root / "samm", annotations)
    return plan


def plan_megc2019(root: pathlib.Path, annotations: pathlib.Path) -> Plan:
    """MEGC2019: ``combined_3class_gt.csv``, ``casme2/``, ``samm/`` and ``smic/``."""
    plan = Plan("megc2019", root)
    plan.copies.append((_sheet(annotations, MEGC2019_TRUTH[1]), root / MEGC2019_TRUTH[0]))
    plan.parts["casme2"] = plan_casme2(root / "casme2", annotations)
    plan.parts["samm"] = plan_samm(root / "samm", annotations)
    plan.parts["smic"] = plan_smic(root / "smic", annotations)
    return plan


# --------------------------------------------------------------------------------------
# CASME: the invented sheets.
# --------------------------------------------------------------------------------------


def casme_rows(seed: int) -> dict[str, list[list]]:
    """Invented CASME coding rows, {section: rows in the sheet's columns (no header)}.

    195 clips, 19 subjects (A: 1-7, B: 8-19), the emotions of :data:`CASME_EMOTION_COUNTS`, of
    which :data:`CASME_NUM_ANY_AU` carry one of :data:`CASME_ANY_AU`; frames at 60 fps (onset to
    apex 3-12 frames, apex to offset 4-14). About one row in twelve has a backslash OffsetF (the
    coders did not determine it) and most a backslash ApexF2, as the reader expects them.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 3000]))
    emotions = [e for e, count in CASME_EMOTION_COUNTS.items() for _ in range(count)]
    rng.shuffle(emotions)
    total = len(emotions)
    any_au = np.zeros(total, bool)
    any_au[rng.choice(total, CASME_NUM_ANY_AU, replace=False)] = True
    # Clips per subject: 10 or 11 each, shuffled (19 x 10 + 5 = 195).
    per_subject = np.full(CASME_NUM_SUBJECTS, total // CASME_NUM_SUBJECTS)
    per_subject[rng.choice(CASME_NUM_SUBJECTS, total % CASME_NUM_SUBJECTS, replace=False)] += 1
    rows: dict[str, list[list]] = {"A": [], "B": []}
    i = 0
    for subject, count in enumerate(per_subject, start=1):
        episodes = np.sort(rng.choice(np.arange(1, 20), count, replace=False))
        for episode in episodes:
            emotion = emotions[i]
            codes = CASME_CODES[emotion][0 if any_au[i] else 1]
            code = codes[rng.integers(len(codes))]
            onset = int(rng.integers(1, 40))
            apex = onset + int(rng.integers(3, 13))
            offset = apex + int(rng.integers(4, 15))
            apex2 = apex + int(rng.integers(1, 4)) if rng.uniform() < 0.3 else "\\"
            written_offset = "\\" if rng.uniform() < 1 / 12 else offset
            clip = f"EP{episode:02d}_{int(rng.integers(1, 10))}"
            total_ms = round((offset - onset + 1) * 1000 / FPS["casme"])
            onset_ms = round((apex - onset + 1) * 1000 / FPS["casme"])
            section = "A" if subject in CASME_SECTION_A_SUBJECTS else "B"
            frames = [onset, apex, apex2, written_offset]
            rows[section].append(
                [subject, clip, None, *frames, None, total_ms, onset_ms, code, emotion]
            )
            i += 1
    return rows


def plan_casme(root: pathlib.Path, seed: int) -> Plan:
    """CASME: the invented ``.xls`` sheets (written here) and ``CASME_{A,B}/Section {A,B}/``."""
    from mejax.datasets.casme import casme  # the section table; imports TFDS

    plan = Plan("casme", root, notes=[CASME_INVENTED_NOTE])
    for section, rows in casme_rows(seed).items():
        sheet, frames = casme.SECTIONS[section]
        dummy.write_xls(root / sheet, [CASME_HEADER, *rows])
        # The frames follow the rows as the reader reads them (a backslash offset: the clip's
        # frames end 4-14 frames after the apex, kept in the row's Total column).
        annotations = readers.casme(root / sheet)
        by_key = {(f"sub{r[0]:02d}", r[1]): r for r in rows}
        for index, s in _indexed(annotations.samples):
            row = by_key[(s.subject, s.clip)]
            last = s.offset
            if last is None:
                last = s.onset + round(row[8] * FPS["casme"] / 1000) - 1
            output = Output(root / frames / s.subject / s.clip, "img{n}.jpg")
            plan.clips.append(MockClip.of(s, index, [output], offset=last))
    return plan


def plan(database: str, root: pathlib.Path, annotations=None, seed: int = 0) -> Plan:
    """The mock of ``database`` under ``root`` (CASME's invented sheets are written here)."""
    if database not in DATABASES:
        raise ValueError(f"unknown database {database!r}; expected one of {DATABASES}")
    if database == "casme":
        return plan_casme(root, seed)
    annotations = find_annotations(annotations)
    planners = {"casme2": plan_casme2, "samm": plan_samm, "smic": plan_smic,
                "megc2018": plan_megc2018, "megc2019": plan_megc2019}  # fmt: skip
    return planners[database](root, annotations)


# --------------------------------------------------------------------------------------
# Frames.
# --------------------------------------------------------------------------------------


def _render_code(clip: MockClip, seed: int) -> str:
    """The rendered AUs of the clip's code (both sides), or a sampled combination."""
    rendered = [str(au) for au in sorted(clip.aus) if au in render.RENDERED_AUS]
    if rendered:
        return "+".join(rendered)
    return render.sample_labels(seed, clip.identity, clip.index).au_code


class Renderer:
    """synth_me faces moved between a clip's annotated frames (see the module docstring)."""

    def __init__(self, frame_size: tuple[int, int], seed: int):
        height, width = frame_size
        side = min(height, width)
        if side < render.MIN_IMAGE_SIZE:
            raise ValueError(
                f"frame size {height}x{width}: the face needs at least "
                f"{render.MIN_IMAGE_SIZE} px on the shorter side"
            )
        self.frame_size, self.side, self.seed = (height, width), side, seed
        self._faces: dict[int, render.Face] = {}

    def face(self, identity: int) -> render.Face:
        if identity not in self._faces:
            if len(self._faces) > 4:
                self._faces.clear()  # clips come subject by subject
            subject = render.sample_identity(self.seed, identity)
            self._faces[identity] = render.render_face(subject, self.side)
        return self._faces[identity]

    def faces(self, clip: MockClip) -> np.ndarray:
        """(T, side, side, 3) uint8 RGB face squares, one per frame number of the clip."""
        numbers = clip.numbers
        first, last = 0, len(numbers) - 1
        onset = first if clip.onset is None else numbers.index(clip.onset)
        if clip.apex is None:
            end = last if clip.offset is None else numbers.index(clip.offset)
            apex = (onset + end) // 2
        else:
            apex = numbers.index(clip.apex)
        # The profile is 0 on its onset frame and 1 on its apex: an apex on (or before) the
        # onset frame peaks there, starting from a neutral frame rendered before it and dropped.
        start = min(onset, apex - 1)
        lead = max(0, -start)
        start += lead
        peak = apex + lead
        kind = dataclasses.replace(
            MOTION,
            fps=FPS[clip.database],
            lead_in_frames=(start, start),
            onset_to_apex_frames=(peak - start, peak - start),
            apex_to_offset_frames=(last + lead - peak, last + lead - peak),
        )
        spec = render.sample_clip_spec(
            self.seed, clip.identity, clip.index, self.side,
            au_code=_render_code(clip, self.seed), kind=kind,
        )  # fmt: skip
        # No mains flicker: at 100-200 fps it changes every frame's brightness by 1-2 %, more
        # than the AU motion changes the pixels at these sizes.
        spec = dataclasses.replace(spec, flicker=np.ones_like(spec.flicker))
        frames = render.render_clip(spec, self.face(clip.identity)).frames
        return frames[lead:]

    def whole(self, faces: np.ndarray) -> np.ndarray:
        """(T, H, W, 3) frames: the face squares centred, their edges replicated outwards."""
        return whole_frames(faces, self.frame_size)


def whole_frames(faces: np.ndarray, frame_size: tuple[int, int]) -> np.ndarray:
    """(T, H, W, 3) frames of (T, S, S, 3) face squares: centred, edges replicated outwards."""
    height, width = frame_size
    side = faces.shape[1]
    top, left = (height - side) // 2, (width - side) // 2
    bottom, right = height - side - top, width - side - left
    return np.stack(
        [cv2.copyMakeBorder(f, top, bottom, left, right, cv2.BORDER_REPLICATE) for f in faces]
    )


def write_frames(output: Output, numbers, frames: np.ndarray) -> None:
    """Writes (T, H, W, 3) RGB frames to an output folder (emptied first), one file per number."""
    if output.folder.exists():
        shutil.rmtree(output.folder)
    output.folder.mkdir(parents=True)
    for n, frame in zip(numbers, frames, strict=True):
        image = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY if output.grey else cv2.COLOR_RGB2BGR)
        name = output.pattern.format(n=n)
        params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if name.endswith(".jpg") else []
        if not cv2.imwrite(str(output.folder / name), image, params):
            raise OSError(f"could not write {output.folder / name}")


# --------------------------------------------------------------------------------------
# The mock.
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Summary:
    """What a mock holds: clips and subjects per database part, files written, time taken."""

    database: str
    root: pathlib.Path
    clips: dict[str, int]
    subjects: dict[str, int]
    frames: int
    files: int
    bytes: int
    seconds: float
    frame_size: tuple[int, int]
    notes: list[str]

    def lines(self) -> list[str]:
        parts = ", ".join(
            f"{name} {self.clips[name]} clips of {self.subjects[name]} subjects"
            for name in self.clips
        )
        height, width = self.frame_size
        lines = [
            f"mock {self.database}: {parts}",
            f"  {self.frames} frames ({self.files} files, {self.bytes / 2**20:.1f} MiB, "
            f"{height}x{width}) in {self.seconds:.1f} s",
            f"  written to {self.root}",
        ]
        lines += [f"  note: {note}" for note in self.notes]
        if self.database == "casme":
            lines.append(f"  NOTE: {CASME_INVENTED_NOTE}")
        return lines


def _readme(plan_: Plan, frame_size, seed: int) -> str:
    sheets = "\n".join(f"- `{t.relative_to(plan_.root)}`: a copy of `{s}`" for s, t in
                       plan_.all_copies())  # fmt: skip
    invented = f"\n{CASME_INVENTED_NOTE}\n" if plan_.database == "casme" else ""
    return (
        f"# Mock of {plan_.database}\n\nWritten by `python -m mejax.datasets.mock "
        f"{plan_.database}` (frame size {frame_size[0]}x{frame_size[1]}, seed {seed}): the "
        "layout, file names and frame numbers of the database as it ships, synthetic frames "
        "(mejax.datasets.synth_me faces). Not the database: nothing of its recordings is here."
        f"\n{invented}\n{sheets}\n"
    )


def write(
    database: str,
    out: str | os.PathLike,
    *,
    annotations: str | os.PathLike | None = None,
    frame_size: tuple[int, int] = DEFAULT_FRAME_SIZE,
    seed: int = 0,
    progress: bool = True,
    frames: bool = True,
) -> Summary:
    """Writes the mock of ``database`` under ``out`` (see the module docstring).

    Args:
      database: one of :data:`DATABASES`.
      out: the output folder (the builder's manual directory); created if missing.
      annotations: the annotations folder (default: :func:`find_annotations`).
      frame_size: (height, width) of the whole frames; the face is the shorter side square.
      seed: seeds the faces, their motion and CASME's invented sheet.
      progress: show a tqdm progress bar over the frames.
      frames: False: the sheets and the (empty) frame folders only, a label-only copy that
        ``python -m mejax.main --plan`` reads in seconds (no builder can build from it).

    Returns:
      The :class:`Summary`.
    """
    import tqdm

    started = time.perf_counter()
    root = pathlib.Path(out)
    renderer = Renderer(frame_size, seed)  # checks the size before anything is written
    if database != "casme":
        annotations = find_annotations(annotations)
    root.mkdir(parents=True, exist_ok=True)
    mock = plan(database, root, annotations, seed)
    for source, target in mock.all_copies():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    clips = mock.all_clips()
    if not frames:
        for clip in clips:
            for output in clip.outputs:
                output.folder.mkdir(parents=True, exist_ok=True)
    drawn = clips if frames else []
    files = written = 0
    with tqdm.tqdm(
        total=sum(len(c.numbers) for c in drawn),
        unit="frame",
        desc=f"mock {database}",
        disable=not progress,
    ) as bar:
        for clip in drawn:
            faces = renderer.faces(clip)
            whole = None
            for output in clip.outputs:
                if not output.face and whole is None:
                    whole = renderer.whole(faces)
                write_frames(output, clip.numbers, faces if output.face else whole)
                files += len(clip.numbers)
                written += sum(
                    (output.folder / output.pattern.format(n=n)).stat().st_size
                    for n in clip.numbers
                )
            bar.update(len(clip.numbers))
    (root / "MOCK.md").write_text(_readme(mock, frame_size, seed))
    by_part = collections.defaultdict(list)
    for clip in clips:
        by_part[clip.database].append(clip)
    return Summary(
        database=database,
        root=root,
        clips={name: len(c) for name, c in by_part.items()},
        subjects={name: len({x.subject for x in c}) for name, c in by_part.items()},
        frames=sum(len(c.numbers) for c in drawn),
        files=files,
        bytes=written,
        seconds=time.perf_counter() - started,
        frame_size=tuple(frame_size),
        notes=mock.all_notes() if database != "casme" else [],
    )


def parse_frame_size(text: str) -> tuple[int, int]:
    """``"48x64"`` -> (48, 64) (height, width)."""
    match = re.fullmatch(r"\s*([0-9]+)\s*[xX]\s*([0-9]+)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"expected HxW, e.g. 48x64, got {text!r}")
    return int(match[1]), int(match[2])


def parser(module: str, description: str, databases, *, sheets: str = "",
           no_frames: str = "") -> argparse.ArgumentParser:  # fmt: skip
    """The command line of a mock writer (``python -m mejax.datasets.<module>``): the database,
    ``--out``, ``--frame-size``, ``--seed``, and ``--annotations`` (``sheets``: its subfolders)
    and ``--no-frames`` (``no_frames``: what it writes) where given."""
    result = argparse.ArgumentParser(prog=f"python -m mejax.datasets.{module}",
                                     description=description)  # fmt: skip
    result.add_argument("database", choices=databases)
    result.add_argument("--out", required=True, help="output folder (the manual directory)")
    if sheets:
        result.add_argument(
            "--annotations",
            help=f"folder of coding sheets (subfolders {sheets}); default "
            f"${ENVIRONMENT_VARIABLE}, else {default_annotations()}",
        )
    result.add_argument(
        "--frame-size",
        type=parse_frame_size,
        default=DEFAULT_FRAME_SIZE,
        help="HxW of the whole frames; the face is the shorter side's square (default "
        f"{DEFAULT_FRAME_SIZE[0]}x{DEFAULT_FRAME_SIZE[1]}, the least is 32 on the shorter side)",
    )
    result.add_argument("--seed", type=int, default=0)
    if no_frames:
        result.add_argument("--no-frames", action="store_true", help=no_frames)
    return result


def run(write_mock, args) -> int:
    """Writes a mock from parsed arguments and prints its summary; 2 on a user error."""
    options = {"frame_size": args.frame_size, "seed": args.seed}
    if "annotations" in args:
        options["annotations"] = args.annotations
    if "no_frames" in args:
        options["frames"] = not args.no_frames
    try:
        summary = write_mock(args.database, args.out, **options)
    except (AnnotationsNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(summary.lines()))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser(
        "mock",
        "Writes a mock copy of a licensed database: its real coding sheet and layout, synthetic "
        "frames (see the module docstring).",
        DATABASES,
        sheets="CASME2, SAMM, SMIC, MEGC2019",
        no_frames="the sheets and the empty frame folders only: a label-only copy for --plan",
    ).parse_args(argv)
    if args.database == "casme":
        print(f"NOTE: {CASME_INVENTED_NOTE}", flush=True)
    return run(write, args)


if __name__ == "__main__":
    sys.exit(main())
