"""TFDS builder of SMIC (Li, Pfister, Huang, Zhao, Pietikäinen, "A spontaneous
micro-expression database: inducement, collection and baseline", FG 2013).

Three cameras: HS (100 fps, 164 micro-expressions of 16 subjects), VIS and NIR (25 fps, 71
each, 8 subjects). SMIC is labelled by its folders only: ``<subject>/micro/<emotion>/<clip>``
with emotion ``negative``, ``positive`` or ``surprise``; each clip folder holds the frames
from onset to offset, so ``onset`` is 0, ``offset`` the last frame, and ``apex`` is -1 (SMIC
annotates no apex). Subject and clip names are zero-padded (``s1`` -> ``s01``,
``s1_ne_01`` -> ``s01_ne_01``) as MEGC2019 writes them.
"""

from __future__ import annotations

import dataclasses
import pathlib

import tensorflow_datasets as tfds

from mejax.datasets import builder, readers

FPS = {"HS": 100.0, "VIS": 25.0, "NIR": 25.0}
VARIANTS = {"raw": "SMIC_all_raw", "cropped": "SMIC_all_cropped"}


@dataclasses.dataclass(eq=False)
class SmicConfig(builder.ManualConfig):
    """Attributes: modality ``HS``, ``VIS`` or ``NIR``; frames ``raw`` or ``cropped``;
    ``variant`` (see :class:`mejax.datasets.builder.ManualConfig`)."""

    modality: str = "HS"
    frames: str = "raw"


MANUAL_DOWNLOAD_INSTRUCTIONS = """
Request SMIC from the University of Oulu (https://www.oulu.fi/cmvs/node/41319) and place, in
the manual directory, as distributed:

  SMIC_all_raw/HS/s1/micro/negative/s1_ne_01/image*.bmp ...      (configs hs, vis, nir)
  SMIC_all_cropped/HS/s1/micro/negative/s1_ne_01/*.bmp ...       (configs *_cropped)

with HS, VIS and NIR side by side.
"""


def clips(root: pathlib.Path, modality: str, frames: str, split_prefix: str = ""):
    """Clips of one SMIC camera, discovered from the folders (also used by MEGC2019).

    Raises:
      builder.MissingFilesError: if the camera folder is missing or holds no
        ``<subject>/micro/<emotion>/<clip>`` folder.
    """
    base = root / VARIANTS[frames] / modality
    builder.check_paths("smic", root, [base])
    result = []
    for folder in sorted(base.glob("*/micro/*/*")):
        if not folder.is_dir():
            continue
        emotion = folder.parent.name.lower()
        if emotion not in readers.SMIC_EMOTIONS:
            raise ValueError(f"{folder}: emotion folder must be one of {readers.SMIC_EMOTIONS}")
        subject = readers.smic_subject(folder.parents[2].name)
        sample = readers.Sample(
            "smic", subject, readers.smic_clip(folder.name), None, None, None, "", frozenset(),
            emotion, None, str(folder.relative_to(root)),
        )  # fmt: skip
        result.append(builder.Clip(sample, folder, split_prefix + subject, "smic", FPS[modality]))
    if not result:
        raise builder.MissingFilesError(
            "smic", root, [base / "<subject>" / "micro" / "<emotion>" / "<clip>"]
        )
    return result


FRAMES_CONFIGS = [
    SmicConfig(
        name=f"{modality.lower()}{'' if frames == 'raw' else '_cropped'}",
        description=f"{modality} camera, {frames} frames.",
        modality=modality,
        frames=frames,
    )
    for frames in ("raw", "cropped")
    for modality in ("HS", "VIS", "NIR")
]
# Cached variants (mejax.datasets.builder) of the cropped faces: hs_cropped_tim10_224, ...
# SMIC has no apex: the apex-based variants take the middle frame.
CROPPED_CONFIGS = [c for c in FRAMES_CONFIGS if c.frames == "cropped"]


class Smic(builder.ManualBuilder):
    """SMIC micro-expression clips (negative / positive / surprise)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: HS, VIS and NIR, raw and cropped frames."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    BUILDER_CONFIGS = [*FRAMES_CONFIGS, *builder.variant_configs(CROPPED_CONFIGS)]
    DEFAULT_CONFIG_NAME = "hs"

    def _clips(self, root: pathlib.Path):
        config = self.builder_config
        result = clips(root, config.modality, config.frames)
        return result, {"database": "smic", "num_samples": len(result), "excluded": []}
