"""TFDS builder of CASME II (Yan et al., "CASME II: An improved spontaneous micro-expression
database and the baseline evaluation", PLoS ONE 9(1), 2014).

255 micro-expression clips of 26 subjects at 200 fps, coded with FACS AUs, an estimated
emotion and (2019 coding release) the objective class of Davison et al. 2018. The database is
licensed by the Institute of Psychology, Chinese Academy of Sciences; mejax reads a copy as it
is distributed (see ``MANUAL_DOWNLOAD_INSTRUCTIONS``). Labels: :func:`readers.casme2`; the
AU grammar: :mod:`mejax.datasets.aus`; errata: :mod:`mejax.datasets.errata`.
"""

from __future__ import annotations

import dataclasses
import pathlib

import tensorflow_datasets as tfds

from mejax.datasets import builder, errata, readers

FPS = 200.0
CODING_2019 = "CASME2-coding-20190701.xlsx"
CODING_2014 = "CASME2-coding-20140508.xlsx"
FRAME_FOLDERS = {"cropped": "Cropped", "raw": "CASME2_RAW_selected"}


@dataclasses.dataclass(eq=False)
class Casme2Config(builder.ManualConfig):
    """Which frames and which coding release (and ``variant``, see :class:`ManualConfig`).

    Attributes:
      frames: ``"cropped"`` (``Cropped/``, aligned faces) or ``"raw"``
        (``CASME2_RAW_selected/``, the 640x480 frames onset to offset).
      coding: the coding sheet's file name in the manual directory.
    """

    frames: str = "cropped"
    coding: str = CODING_2019


MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
Request CASME II from the Institute of Psychology, Chinese Academy of Sciences
(http://casme.psych.ac.cn/casme/e2) and place, in the manual directory, as distributed:

  {CODING_2019}                 (and/or {CODING_2014})
  Cropped/sub01/EP02_01f/reg_img46.jpg ...          (config *cropped*)
  CASME2_RAW_selected/sub01/EP02_01f/img46.jpg ...  (config *raw*)
"""


def clip_folder(root: pathlib.Path, frames: str, sample: readers.Sample) -> pathlib.Path:
    """Frame folder of a CASME II sample, e.g. ``Cropped/sub01/EP02_01f``."""
    return root / FRAME_FOLDERS[frames] / sample.subject / sample.clip


def clips(root: pathlib.Path, frames: str, coding: str, split_prefix: str = ""):
    """Clips and build report of CASME II under ``root`` (also used by the composites).

    Raises:
      builder.MissingFilesError: listing the coding sheet or every missing clip folder.
    """
    builder.check_paths("casme2", root, [root / coding, root / FRAME_FOLDERS[frames]])
    annotations = readers.casme2(root / coding)
    result = [
        builder.Clip(s, clip_folder(root, frames, s), split_prefix + s.subject, "casme2", FPS)
        for s in annotations.samples
    ]
    builder.check_paths("casme2", root, [c.folder for c in result])
    return result, annotations


FRAMES_CONFIGS = [
    Casme2Config(
        name="cropped",
        description=f"Cropped faces, coding {CODING_2019} (with objective classes).",
    ),
    Casme2Config(name="raw", description="Raw frames, coding 2019-07-01.", frames="raw"),
    Casme2Config(
        name="cropped_2014",
        description=f"Cropped faces, coding {CODING_2014} (the AU labels STAP and SCA count; "
        "5 clips coded '?' are kept out).",
        coding=CODING_2014,
    ),
]
# Cached variants (mejax.datasets.builder): cropped_tim10_224, cropped_2014_flow_tvl1_28, ...
CROPPED_CONFIGS = [c for c in FRAMES_CONFIGS if c.frames == "cropped"]


class Casme2(builder.ManualBuilder):
    """CASME II micro-expression clips with AU, emotion and objective-class labels."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": f"Initial release; AU grammar of mejax.datasets.aus; errata version "
        f"{errata.ERRATA_VERSION} (sub04/EP12_01f: apex '/' -> not annotated, -1).",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    BUILDER_CONFIGS = [*FRAMES_CONFIGS, *builder.variant_configs(CROPPED_CONFIGS)]
    DEFAULT_CONFIG_NAME = "cropped"

    def _clips(self, root: pathlib.Path):
        config = self.builder_config
        result, annotations = clips(root, config.frames, config.coding)
        return result, annotations.report()
