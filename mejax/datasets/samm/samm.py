"""TFDS builder of SAMM (Davison, Lansley, Costen, Tan, Yap, "SAMM: A spontaneous
micro-facial movement dataset", IEEE Trans. Affective Computing 9(1), 2018).

159 micro-movements of 29 subjects at 200 fps (2040x1088 grey-scale camera, frames stored as
JPEG), coded with FACS AUs (with laterality ``L``/``R``, asymmetry ``A``, intensity ``A``-``E``,
``ref(...)`` and ``or``), an estimated emotion and the objective classes of Davison, Merghani
and Yap (J. Imaging 2018). Labels: :func:`mejax.datasets.readers.samm`; errata of the apex
frames of 028_4_1 and 032_3_1: :mod:`mejax.datasets.errata`.

Configs. ``frames`` (the default, so ``samm`` alone is ``samm/frames``): the full camera
frames as distributed, and the cached variants of :mod:`mejax.datasets.builder` on them, named
by the variant alone: ``samm/tim10_224``, ``samm/apex_224``, ``samm/flow_tvl1_28``, ...
``faces``: every clip face-cropped at its native resolution, one box per clip (MTCNN, Zhang et
al., IEEE SPL 2016, on a few frames spread over the clip, detected on frames shrunk to 640 px;
the clip rotated so that the eyes are level; see :mod:`mejax.datasets.builder`, "Face crops"),
and its variants ``samm/faces_tim10_224``, ``samm/faces_apex_224``, ...: the input of the
papers that use the databases' "cropped face images" (STAP, arXiv:1907.05023, III; SCA,
Neurocomputing 2021, 4), which SAMM does not distribute. The build report lists each clip's
box and angle under ``face_crops``; a clip without a detected face stops the build, naming
its folder.
"""

from __future__ import annotations

import pathlib

import tensorflow_datasets as tfds

from mejax.datasets import builder, errata, readers

FPS = 200.0
CODING = "SAMM_Micro_FACS_Codes_v2.xlsx"
FRAMES = "SAMM"

MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
Request SAMM from Manchester Metropolitan University
(http://www2.docm.mmu.ac.uk/STAFF/M.Yap/dataset.php) and place, in the manual directory,
as distributed:

  {CODING}
  {FRAMES}/006/006_1_2/006_05562.jpg ...
"""


def clips(root: pathlib.Path, split_prefix: str = "", face_crop: bool = False):
    """Clips and annotations of SAMM under ``root`` (also used by the composites); with
    ``face_crop`` the clips are to be stored face-cropped (:attr:`builder.Clip.face_crop`: SAMM
    distributes no crops, the builder makes them).

    Raises:
      builder.MissingFilesError: listing the code sheet or every missing clip folder.
    """
    builder.check_paths("samm", root, [root / CODING, root / FRAMES])
    annotations = readers.samm(root / CODING)
    result = [
        builder.Clip(
            s,
            root / FRAMES / s.subject / s.clip,
            split_prefix + s.subject,
            "samm",
            FPS,
            face_crop=face_crop,
        )  # fmt: skip
        for s in annotations.samples
    ]
    builder.check_paths("samm", root, [c.folder for c in result])
    return result, annotations


FRAMES_CONFIG = builder.ManualConfig(
    name="frames", description="The frames as distributed (full camera frames)."
)
FACES_CONFIG = builder.ManualConfig(
    name="faces",
    description="Every clip face-cropped at its native resolution with one square box per "
    "clip (MTCNN on a few frames, eyes levelled; boxes in the build report).",
    face_crop=True,
)


class Samm(builder.ManualBuilder):
    """SAMM micro-movement clips with AU, emotion and objective-class labels."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": f"Initial release; AU grammar of mejax.datasets.aus; errata version "
        f"{errata.ERRATA_VERSION} (apex of 028_4_1 1143 -> 1113, of 032_3_1 1930 -> 4930).",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    BUILDER_CONFIGS = [
        FRAMES_CONFIG,
        *builder.variant_configs([FRAMES_CONFIG], prefix=False),
        FACES_CONFIG,
        *builder.variant_configs([FACES_CONFIG]),
    ]
    DEFAULT_CONFIG_NAME = "frames"

    def _clips(self, root: pathlib.Path):
        result, annotations = clips(root)
        return result, annotations.report()
