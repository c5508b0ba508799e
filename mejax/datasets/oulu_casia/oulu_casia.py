"""TFDS builder of Oulu-CASIA NIR&VIS (Zhao, Huang, Taini, Li, Pietikainen, "Facial expression
recognition from near-infrared videos", Image and Vision Computing 2011).

Posed macro-expressions of 80 subjects, six expressions each (anger, disgust, fear,
happiness, sadness, surprise), every sequence from neutral to the apex, recorded at 25 fps
with a near-infrared and a visible-light camera under three illuminations. mejax reads the
visible-light, normal-illumination sequences (``OriginalImg/VL/Strong``, 480 sequences), the
ones Micro-Attention pretrains on. Each sequence folder ``P001/Anger`` is one clip
``P001_Anger``: ``onset`` its first (neutral) frame, ``apex`` and ``offset`` its last frame.
The emotion is the folder name lower-cased; no AUs are coded (all-false multi-hot, empty
``au_code``), no objective class. Splits: one per subject, ``P001`` ... ``P080``.

Configs: ``frames`` (default), the whole sequences; ``peak``, the last 3 frames of every
sequence, each a one-frame example ``P001_Anger_f17`` (:mod:`mejax.datasets.macro`; the
paper's 1200 are those of its five classes, fear left out), with ``peak_apex_224``,
``peak_apex_240`` (Micro-Attention's 240^2 input, cropped to 224^2) and ``peak_apex_64``.
"""

from __future__ import annotations

import pathlib
import re

import tensorflow_datasets as tfds

from mejax.datasets import builder, macro, readers

DATABASE = "oulu_casia"
FPS = 25.0
EMOTIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")
FOLDERS = {emotion.capitalize(): emotion for emotion in EMOTIONS}  # Anger -> anger
STRONG = pathlib.Path("OriginalImg", "VL", "Strong")
SUBJECT = re.compile(r"P\d{3}")
FRAME = re.compile(r"\d+\.jpe?g", re.IGNORECASE)
FRAME_EXPECTED = "<frame number>.jpeg (000.jpeg, 001.jpeg, ...)"

MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
Request Oulu-CASIA NIR&VIS from the University of Oulu (Center for Machine Vision and Signal
Analysis) and place, in the manual directory, its original images as distributed:

  {STRONG.as_posix()}/P001/Anger/000.jpeg ...   (subjects P001-P080; expression folders
      {", ".join(FOLDERS)})

Only the visible-light, normal-illumination folder {STRONG.as_posix()} is read; the
near-infrared (OriginalImg/NI), dark and weak folders may be present or not.
"""


def _folders(folder: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _subjects(root: pathlib.Path) -> list[pathlib.Path]:
    """The subject folders under ``OriginalImg/VL/Strong``, each checked to hold the six
    expression folders and nothing else.

    Raises:
      builder.MissingFilesError: listing every missing folder.
      readers.AnnotationError: a malformed subject or expression folder name.
    """
    strong = root / STRONG
    builder.check_paths(DATABASE, root, [strong])
    subjects = _folders(strong)
    for subject in subjects:
        if not SUBJECT.fullmatch(subject.name):
            raise readers.AnnotationError(
                f"{subject}: malformed subject folder name; expected P<3 digits> (P001 ... P080)"
            )
        for folder in _folders(subject):
            if folder.name not in FOLDERS:
                raise readers.AnnotationError(
                    f"{folder}: malformed expression folder name; expected one of "
                    f"{', '.join(FOLDERS)}"
                )
    builder.check_paths(DATABASE, root, [s / folder for s in subjects for folder in FOLDERS])
    return subjects


FRAMES_CONFIG = macro.MacroConfig(name="frames", description="The whole sequences.")
PEAK_CONFIGS = macro.peak_configs(
    "The last 3 frames of every sequence, each a one-frame example (Micro-Attention's "
    "pretraining frames)."
)


class OuluCasia(macro.MacroBuilder):
    """Oulu-CASIA VIS normal-light posed expression sequences (neutral to apex)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release: the VL/Strong sequences (frames) and the last 3 frames of "
        "each (peak, with peak_apex_224, peak_apex_240 and peak_apex_64).",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    BUILDER_CONFIGS = [FRAMES_CONFIG, *PEAK_CONFIGS]
    DEFAULT_CONFIG_NAME = "frames"

    def _clips(self, root: pathlib.Path):
        peak = getattr(self.builder_config, "peak", False)
        clips, sequences = [], 0
        for subject in _subjects(root):
            for name, emotion in FOLDERS.items():
                folder = subject / name
                frames = macro.checked_frames(folder, FRAME, FRAME_EXPECTED)
                first, last = frames[0][0], frames[-1][0]
                sample = readers.Sample(
                    DATABASE, subject.name, f"{subject.name}_{name}", first, last, last, "",
                    frozenset(), emotion, None, (STRONG / subject.name / name).as_posix(),
                )  # fmt: skip
                clip = builder.Clip(sample, folder, subject.name, DATABASE, FPS)
                sequences += 1
                if peak:
                    clips += macro.peak_clips(clip, frames, macro.last_frames(len(frames)))
                else:
                    clips.append(clip)
        report = {"database": DATABASE, "num_samples": len(clips), "num_sequences": sequences}
        if peak:
            report["peak_frames"] = "the last 3 of each sequence"
        return clips, report
