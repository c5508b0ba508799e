"""TFDS builder of the MEGC2018 composite: CASME II and SAMM by objective class.

Yap, See, Hong, Wang, "Facial micro-expressions grand challenge 2018 summary", FG 2018;
classes of Davison, Merghani, Yap, "Objective classes for micro-facial expression
recognition", J. Imaging 2018 (Table 3). The composite holds the samples of objective classes
I-V: 185 of CASME II (classes from ``CASME2-ObjectiveClasses.xlsx``, the list MEGC2018
distributed: I 25, II 15, III 99, IV 26, V 20) and 68 of SAMM (its sheet's Objective Classes
column: I 24, II 13, III 20, IV 8, V 3), 253 in all, 47 subjects. Classes VI and VII are
listed in the build report as kept out.

Splits are the subjects, prefixed by their database (``casme2_sub01``, ``samm_006``): CDE is
LOSO over all of them, HDE trains on one prefix and tests on the other
(:mod:`mejax.protocols`). ``database`` tells the parts apart; ``objective_class`` is the label
(indices 0-4 = I-V).

Frames. ``cropped`` (the default) reads the cropped faces CASME II distributes (``Cropped/``)
and face-crops SAMM, which distributes none, in the builder: MTCNN (Zhang et al., IEEE SPL
2016) on a few frames spread over each clip, the clip rotated so that the eyes are level and
cropped with one square box at its native resolution (one box per clip, so that the crop adds
no motion; :mod:`mejax.datasets.builder`, "Face crops"; the boxes are in the build report's
``face_crops``). ``raw`` reads CASME II's raw frames and SAMM's full camera frames.
"""

from __future__ import annotations

import dataclasses
import pathlib

import tensorflow_datasets as tfds

from mejax.datasets import builder, errata, readers
from mejax.datasets.casme2 import casme2
from mejax.datasets.samm import samm

CASME2_CLASSES = "CASME2-ObjectiveClasses.xlsx"
CLASSES = readers.MEGC2018_CLASSES


Megc2018Config = builder.FramesConfig  # cropped faces (SAMM's cropped here) or raw frames


MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
Place the manual directories of CASME II and SAMM (see their builders) side by side, with the
MEGC2018 objective classes of CASME II next to its coding sheet:

  casme2/{casme2.CODING_2019}
  casme2/{CASME2_CLASSES}
  casme2/Cropped/sub01/EP02_01f/reg_img46.jpg ...   (or CASME2_RAW_selected/, config raw)
  samm/{samm.CODING}
  samm/SAMM/006/006_1_2/006_05562.jpg ...
"""


def _select(clips, classes, report):
    kept = []
    for clip in clips:
        sample = clip.sample
        objective = sample.objective_class
        if classes is not None:
            objective = classes.get((sample.subject, sample.clip))
        if objective not in CLASSES:
            report.append(
                {
                    "source": sample.source,
                    "clip": f"{sample.database} {sample.subject}/{sample.clip}",
                    "reason": f"objective class {objective} is not one of MEGC2018's I-V",
                }
            )
            continue
        sample = dataclasses.replace(sample, objective_class=objective)
        kept.append(dataclasses.replace(clip, sample=sample))
    return kept


class Megc2018(builder.ManualBuilder):
    """MEGC2018: CASME II + SAMM, objective classes I-V, 253 clips."""

    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {
        "1.0.0": f"Initial release: 185 CASME II + 68 SAMM clips; errata version "
        f"{errata.ERRATA_VERSION}.",
        "2.0.0": "cropped: SAMM's clips are face-cropped (MTCNN, one box per clip, eyes "
        "levelled; boxes in the build report's face_crops) instead of its full camera frames.",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    _FRAMES = [
        Megc2018Config(
            name="cropped",
            description="Cropped faces: CASME II's as distributed, SAMM's face-cropped by the "
            "builder (MTCNN, one box per clip).",
        ),
        Megc2018Config(
            name="raw", description="CASME II raw frames, SAMM full camera frames.", frames="raw"
        ),
    ]
    BUILDER_CONFIGS = [*_FRAMES, *builder.variant_configs(_FRAMES[:1])]
    DEFAULT_CONFIG_NAME = "cropped"

    def _clips(self, root: pathlib.Path):
        builder.check_paths(
            "megc2018", root, [root / "casme2" / CASME2_CLASSES, root / "casme2", root / "samm"]
        )
        casme2_clips, casme2_annotations = casme2.clips(
            root / "casme2", self.builder_config.frames, casme2.CODING_2019, "casme2_"
        )
        samm_clips, samm_annotations = samm.clips(
            root / "samm", "samm_", face_crop=self.builder_config.frames == "cropped"
        )
        excluded = []
        classes = readers.casme2_objective_classes(root / "casme2" / CASME2_CLASSES)
        clips = _select(casme2_clips, classes, excluded) + _select(samm_clips, None, excluded)
        report = {
            "parts": [casme2_annotations.report(), samm_annotations.report()],
            "num_samples": len(clips),
            "excluded": excluded,
        }
        return clips, report
