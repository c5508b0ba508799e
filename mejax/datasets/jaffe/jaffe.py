"""TFDS builder of JAFFE, the Japanese Female Facial Expression database (Lyons, Akamatsu,
Kamachi, Gyoba, "Coding Facial Expressions with Gabor Wavelets", FG 1998).

213 posed still images (greyscale, 256 x 256 TIFF) of 10 subjects, each showing one of seven
expressions, all in one folder and named ``KA.AN1.39.tiff``: subject (KA KL KM KR MK NA NM TM
UY YM), expression code (AN anger, DI disgust, FE fear, HA happiness, NE neutral, SA sadness,
SU surprise) with the subject's take of it, then the image number. Each image is one clip of
one frame (onset = apex = offset = 0), named by its file name without the extension
(``KA.AN1.39``), the grey channel repeated to RGB; ``emotion`` is the code's name, no AUs
(all-false multi-hot, empty ``au_code``), no objective class, ``fps`` 0 (still images).
Splits: one per subject, ``KA`` ... ``YM``.

Configs: ``frames`` (default), every image; ``peak``, the same examples -- Micro-Attention
pretrains on every JAFFE image (its 151 are those of its five classes, fear and neutral left
out), so the four macro databases share the config name (:mod:`mejax.datasets.macro`) -- with
``peak_apex_224``, ``peak_apex_240`` and ``peak_apex_64``.
"""

from __future__ import annotations

import pathlib
import re

import tensorflow_datasets as tfds

from mejax.datasets import builder, macro, readers

DATABASE = "jaffe"
FPS = 0.0  # still images
SUBJECTS = ("KA", "KL", "KM", "KR", "MK", "NA", "NM", "TM", "UY", "YM")
CODES = {
    "AN": "anger",
    "DI": "disgust",
    "FE": "fear",
    "HA": "happiness",
    "NE": "neutral",
    "SA": "sadness",
    "SU": "surprise",
}
EMOTIONS = tuple(CODES.values())
IMAGES = "jaffedbase"
SUFFIXES = (".tiff", ".tif")
NAME = re.compile(
    rf"(?P<subject>{'|'.join(SUBJECTS)})\.(?P<code>{'|'.join(CODES)})(?P<take>\d+)\."
    r"(?P<number>\d+)\.(?i:tiff?)"
)
NAME_EXPECTED = (
    "<subject>.<expression><take>.<image number>.tiff (KA.AN1.39.tiff), subject one of "
    f"{' '.join(SUBJECTS)}, expression one of {' '.join(CODES)}"
)

MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
Request JAFFE (https://zenodo.org/record/3451524) and place, in the manual directory, the
folder of images as distributed:

  {IMAGES}/KA.AN1.39.tiff ...   (213 images; other files in the folder are ignored)
"""


def read_name(path: pathlib.Path) -> tuple[str, str, int]:
    """(subject, emotion, image number) of a JAFFE image file.

    Raises:
      readers.AnnotationError: a malformed name, naming the file and the expected form.
    """
    match = NAME.fullmatch(path.name)
    if match is None:
        raise readers.AnnotationError(
            f"{path}: malformed JAFFE file name; expected {NAME_EXPECTED}"
        )
    return match["subject"], CODES[match["code"]], int(match["number"])


FRAMES_CONFIG = macro.MacroConfig(name="frames", description="Every image, one example each.")
PEAK_CONFIGS = macro.peak_configs(
    "Every image, one example each (the frames config's examples: Micro-Attention pretrains on "
    "every JAFFE image)."
)


class Jaffe(macro.MacroBuilder):
    """JAFFE posed expression still images of 10 Japanese female subjects."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release: every image as a one-frame clip (frames; peak, the same "
        "examples, with peak_apex_224, peak_apex_240 and peak_apex_64).",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    BUILDER_CONFIGS = [FRAMES_CONFIG, *PEAK_CONFIGS]
    DEFAULT_CONFIG_NAME = "frames"

    def _clips(self, root: pathlib.Path):
        folder = root / IMAGES
        builder.check_paths(DATABASE, root, [folder])
        clips = []
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in SUFFIXES or path.name.startswith("."):
                continue
            subject, emotion, number = read_name(path)
            clip = path.name[: -len(path.suffix)]
            sample = readers.Sample(
                DATABASE, subject, clip, number, number, number, "", frozenset(), emotion, None,
                f"{IMAGES}/{path.name}",
            )  # fmt: skip
            clips.append(macro.FilesClip(sample, folder, subject, DATABASE, FPS, files=(path,)))
        if not clips:
            raise readers.AnnotationError(f"{folder}: no images; expected {NAME_EXPECTED}")
        report = {"database": DATABASE, "num_samples": len(clips)}
        if getattr(self.builder_config, "peak", False):
            report["peak_frames"] = "every image"
        return clips, report
