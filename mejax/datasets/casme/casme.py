"""TFDS builder of CASME (Yan, Wu, Liu, Wang, Fu, "CASME database: a dataset of spontaneous
micro-expressions collected from neutralized faces", FG 2013).

195 micro-expressions of 19 subjects filmed at 60 fps, coded with onset, apex and offset
frames, FACS AUs and an emotion (tense, repression, happiness, disgust, surprise, contempt,
fear, sadness). The database ships in two sections recorded with different cameras: Section A
(subjects 1-7, 1280x720) and Section B (subjects 8-19, 640x480), each with its own coding
sheet; subjects are numbered across both sections, so a subject folder (a split) belongs to
exactly one section. mejax reads a copy as it is distributed (see
``MANUAL_DOWNLOAD_INSTRUCTIONS``); the licence is the Institute of Psychology, Chinese Academy
of Sciences'. Labels: :func:`mejax.datasets.readers.casme`; the AU grammar:
:mod:`mejax.datasets.aus`.

Configs. ``frames`` (the default, so ``casme`` alone is ``casme/frames``): the frames as
distributed, full camera frames. ``faces``: every clip face-cropped at its native resolution,
one box per clip (MTCNN, Zhang et al., IEEE SPL 2016, on a few frames spread over the clip;
the clip rotated so that the eyes are level; see :mod:`mejax.datasets.builder`, "Face
crops"): the input of the papers that use the databases' "cropped face images" (STAP,
arXiv:1907.05023, III; SCA, Neurocomputing 2021, 4), which CASME does not distribute. The
build report lists each clip's box and angle under ``face_crops``; a clip without a detected
face stops the build, naming its folder. The cached variants of :mod:`mejax.datasets.builder`
are offered on the face crops: ``casme/faces_tim10_224``, ``casme/faces_apex_224``,
``casme/faces_flow_tvl1_28``, ...

What this builder relies on, and how sure it is. No copy of the database was at hand when it
was written; the layout and the sheet format come from public code that reads CASME:

* Frames: ``CASME_A/Section A/sub01/EP01_5/*.jpg`` and ``CASME_B/Section B/sub08/...``, one
  folder per clip named as the sheet's Filename cell (``EP01_5``, ``EP10``). Frame files are
  ``img<N>.jpg`` and, in some clips, ``<clip>-<N>.jpg``; either way the frame number is the
  last run of digits (:func:`mejax.datasets.builder.frame_number`).
* Coding sheets: ``CASME_A_Section_coding.xls`` and ``CASME_B_Section_coding.xls`` (BIFF
  ``.xls``, first worksheet ``Sheet1``), header row Subject, Filename, (blank), OnsetF,
  ApexF1, ApexF2, OffsetF, (blank), two duration columns, AU, Emotion; Subject is the integer
  of the ``subNN`` folder. The header names are matched, not the positions, so a sheet with
  other blank or duration columns reads alike. The duration columns are not used.
* A frame cell holding a backslash means the coders did not determine that frame (seen for
  OffsetF and ApexF2): the offset becomes the clip's last frame, the apex -1.
* Emotions are stored as the sheet writes them (lower case), including any misspelling
  (public code matches ``comtempt``).
* Uncertain: the exact sheet file names (copies are also seen renamed ``Section A.xls``) --
  rename them to the names below; whether every onset / apex / offset is consistent (public
  code corrects a few clips by hand from the frame folders). An inconsistent row stops the
  build with an :class:`mejax.datasets.readers.AnnotationError` naming file, row and cell; it
  then needs an entry in :mod:`mejax.datasets.errata`, not a guess here.
"""

from __future__ import annotations

import pathlib

import tensorflow_datasets as tfds

from mejax.datasets import builder, errata, readers

FPS = 60.0
# section -> (coding sheet, frame folder), as distributed.
SECTIONS = {
    "A": ("CASME_A_Section_coding.xls", "CASME_A/Section A"),
    "B": ("CASME_B_Section_coding.xls", "CASME_B/Section B"),
}

MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
Request CASME from the Institute of Psychology, Chinese Academy of Sciences
(http://casme.psych.ac.cn/casme/e1) and place, in the manual directory, as distributed:

  {SECTIONS["A"][0]}
  {SECTIONS["B"][0]}
  {SECTIONS["A"][1]}/sub01/EP01_5/img10.jpg ...   (subjects 1-7)
  {SECTIONS["B"][1]}/sub08/EP02_01/img40.jpg ...  (subjects 8-19)
"""


def clips(root: pathlib.Path, split_prefix: str = ""):
    """Clips and build report of CASME (both sections) under ``root``.

    Raises:
      builder.MissingFilesError: listing the coding sheets and frame folders, or every
        missing clip folder.
    """
    builder.check_paths(
        "casme", root, [root / p for sheet, frames in SECTIONS.values() for p in (sheet, frames)]
    )
    result, report = [], None
    for sheet, frames in SECTIONS.values():
        annotations = readers.casme(root / sheet)
        result += [
            builder.Clip(
                s, root / frames / s.subject / s.clip, split_prefix + s.subject, "casme", FPS
            )
            for s in annotations.samples
        ]
        part = annotations.report()
        if report is None:
            report = {**part, "file": [part["file"]]}
        else:
            report["file"].append(part["file"])
            report["num_samples"] += part["num_samples"]
            report["excluded"] += part["excluded"]
            report["errata_applied"] += part["errata_applied"]
    builder.check_paths("casme", root, [c.folder for c in result])
    return result, report


FRAMES_CONFIG = builder.ManualConfig(
    name="frames",
    description="The frames as distributed (full camera frames: 1280x720 in Section A, "
    "640x480 in Section B).",
)
FACES_CONFIG = builder.ManualConfig(
    name="faces",
    description="Every clip face-cropped at its native resolution with one square box per "
    "clip (MTCNN on a few frames, eyes levelled; boxes in the build report).",
    face_crop=True,
)


class Casme(builder.ManualBuilder):
    """CASME micro-expression clips with AU and emotion labels, one split per subject."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": f"Initial release: both sections, raw frames as distributed; AU grammar of "
        f"mejax.datasets.aus; errata version {errata.ERRATA_VERSION} (none for CASME); a "
        "backslash frame cell is not annotated (offset: the clip's last frame; apex: -1).",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    BUILDER_CONFIGS = [FRAMES_CONFIG, FACES_CONFIG, *builder.variant_configs([FACES_CONFIG])]
    DEFAULT_CONFIG_NAME = "frames"

    def _clips(self, root: pathlib.Path):
        return clips(root)
