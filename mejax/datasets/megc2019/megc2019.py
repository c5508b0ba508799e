"""TFDS builder of the MEGC2019 composite: CASME II, SAMM and SMIC-HS in three classes.

See, Yap, Li, Hong, Wang, "MEGC 2019 -- the second facial micro-expressions grand challenge",
FG 2019. The samples and labels are those of the official ground truth
``combined_3class_gt.csv`` (442 rows: CASME II 145, SAMM 133, SMIC 164; 68 subjects;
negative 250, positive 109, surprise 83). Onset / apex / offset come from the CASME II and
SAMM sheets (with the errata of :mod:`mejax.datasets.errata`); SMIC clips hold onset to
offset and have no apex (-1).

``emotion`` is the MEGC2019 class (``negative``, ``positive``, ``surprise``; indices of
:data:`CLASSES`); ``database`` the part (``casme2``, ``samm``, ``smic``) for the per-database
UF1 / UAR; splits are ``casme2_sub01``, ``samm_006``, ``smic_s01``: the 68-subject LOSO of the
challenge is one fold per split (:func:`mejax.protocols.megc2019_loso`).

Frames. ``cropped`` (the default) reads the cropped faces CASME II and SMIC distribute
(``Cropped/``, ``SMIC_all_cropped``) and face-crops SAMM, which distributes none, in the
builder: MTCNN (Zhang et al., IEEE SPL 2016) on a few frames spread over each clip, the clip
rotated so that the eyes are level and cropped with one square box at its native resolution
(one box per clip, so that the crop adds no motion; :mod:`mejax.datasets.builder`, "Face
crops"; the boxes are in the build report's ``face_crops``). ``raw`` reads the raw frames of all
three (SAMM: its full camera frames).
"""

from __future__ import annotations

import dataclasses
import pathlib

import tensorflow_datasets as tfds

from mejax.datasets import builder, errata, readers
from mejax.datasets.casme2 import casme2
from mejax.datasets.samm import samm
from mejax.datasets.smic import smic

GROUND_TRUTH = "combined_3class_gt.csv"
CLASSES = readers.MEGC2019_CLASSES


Megc2019Config = builder.FramesConfig  # cropped faces (SAMM's cropped here) or raw frames


MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
Place the official ground truth and the manual directories of CASME II, SAMM and SMIC (see
their builders) side by side:

  {GROUND_TRUTH}
  casme2/{casme2.CODING_2019}
  casme2/Cropped/... (or CASME2_RAW_selected/, config raw)
  samm/{samm.CODING}
  samm/SAMM/...
  smic/SMIC_all_cropped/HS/... (or SMIC_all_raw/HS/, config raw)
"""


class Megc2019(builder.ManualBuilder):
    """MEGC2019: 442 clips of CASME II, SAMM and SMIC-HS; negative / positive / surprise."""

    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {
        "1.0.0": f"Initial release from the official {GROUND_TRUTH}; errata version "
        f"{errata.ERRATA_VERSION}.",
        "2.0.0": "cropped: SAMM's clips are face-cropped (MTCNN, one box per clip, eyes "
        "levelled; boxes in the build report's face_crops) instead of its full camera frames.",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    _FRAMES = [
        Megc2019Config(
            name="cropped",
            description="Cropped faces: CASME II's and SMIC's as distributed, SAMM's "
            "face-cropped by the builder (MTCNN, one box per clip).",
        ),
        Megc2019Config(
            name="raw", description="Raw frames (SAMM: full camera frames).", frames="raw"
        ),
    ]
    BUILDER_CONFIGS = [*_FRAMES, *builder.variant_configs(_FRAMES[:1])]
    DEFAULT_CONFIG_NAME = "cropped"

    def _clips(self, root: pathlib.Path):
        frames = self.builder_config.frames
        builder.check_paths(
            "megc2019",
            root,
            [root / GROUND_TRUTH, root / "casme2", root / "samm", root / "smic"],
        )
        truth = readers.megc2019(root / GROUND_TRUTH)
        casme2_clips, casme2_annotations = casme2.clips(
            root / "casme2", frames, casme2.CODING_2019, "casme2_"
        )
        samm_clips, samm_annotations = samm.clips(
            root / "samm", "samm_", face_crop=frames == "cropped"
        )
        smic_clips = smic.clips(root / "smic", "HS", frames, "smic_")
        available = {(c.split, c.sample.clip): c for c in casme2_clips + samm_clips + smic_clips}
        result, missing = [], []
        for row in truth:
            clip = available.get((row.subject, row.clip))
            if clip is None:
                missing.append(f"{row.source}: {row.database} {row.subject} {row.clip}")
            else:
                result.append(dataclasses.replace(clip, label=row.label))
        if missing:
            raise readers.AnnotationError(
                f"{GROUND_TRUTH}: {len(missing)} sample(s) not found in the databases' "
                "annotations and folders:\n" + "\n".join(f"  {m}" for m in missing)
            )
        report = {
            "parts": [casme2_annotations.report(), samm_annotations.report()],
            "num_samples": len(result),
            "excluded": [],
        }
        return result, report
