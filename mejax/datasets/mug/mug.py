"""TFDS builder of the MUG facial expression database (Aifanti, Papachristou, Delopoulos,
"The MUG Facial Expression Database", WIAMIS 2010), its posed part.

86 subjects perform the six basic expressions and neutral, several takes each, recorded at
19 fps; a take runs neutral -> onset -> apex -> offset -> neutral. The distribution
(``subjects3``) holds one folder per take, ``subjects3/001/happiness/take000/*.jpg``; a few
subjects were recorded in two sessions, ``subjects3/002/session0/happiness/take000``. Each
take is one clip, named ``001_happiness_take000`` (``002_session0_happiness_take000``), its
emotion the expression folder's name (anger, disgust, fear, happiness, neutral, sadness,
surprise); no AUs (all-false multi-hot, empty ``au_code``), no objective class. Splits: one
per subject, ``001`` ... ``086``.

Phases. ``onset`` is the first frame, ``offset`` the last. The apex is not annotated in the
distribution; mejax takes the middle frame of the take, position ``(n - 1) // 2`` of its n
frames, as ``apex`` (a take starts and ends neutral, so its middle lies in or near the apex
phase; nothing in the distribution says where exactly).

Configs: ``frames`` (default), the whole takes; ``peak``, the 8 frames around that apex
(positions ``apex - 3`` ... ``apex + 4``; every frame of a take shorter than 8), each a
one-frame example ``001_happiness_take000_f45`` (:mod:`mejax.datasets.macro`). The paper takes
"6-10 frames around the apex" without saying how many per take; 8 is the middle of that range.
With ``peak_apex_224``, ``peak_apex_240`` and ``peak_apex_64``.
"""

from __future__ import annotations

import pathlib
import re

import tensorflow_datasets as tfds

from mejax.datasets import builder, macro, readers

DATABASE = "mug"
FPS = 19.0
EMOTIONS = ("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise")
SUBJECTS = "subjects3"
SUBJECT = re.compile(r"\d{3}")
SESSION = re.compile(r"session\d+")
TAKE = re.compile(r"take\d+")
FRAME = re.compile(r"\D*\d+\.jpe?g", re.IGNORECASE)
FRAME_EXPECTED = "<prefix><frame number>.jpg (img_0000.jpg, ...)"
PEAK_FRAMES = 8  # "6-10 frames around the apex": the middle of the range

MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
Request the MUG facial expression database (https://mug.ee.auth.gr/fed/) and place, in the
manual directory, its posed expressions as distributed:

  {SUBJECTS}/001/happiness/take000/img_0000.jpg ...
  {SUBJECTS}/002/session0/happiness/take000/...      (subjects recorded in two sessions)

Expression folders: {", ".join(EMOTIONS)}.
"""


def middle(count: int) -> int:
    """The position taken as the apex of a take of ``count`` frames."""
    return (count - 1) // 2


def peak_positions(count: int, n: int = PEAK_FRAMES) -> range:
    """Positions of the ``n`` frames around the apex (all of them if fewer)."""
    start = max(0, middle(count) - (n - 1) // 2)
    return range(start, min(count, start + n))


def _folders(folder: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _malformed(path: pathlib.Path, expected: str) -> readers.AnnotationError:
    return readers.AnnotationError(f"{path}: malformed folder name; expected {expected}")


def takes(root: pathlib.Path) -> list[tuple[str, str, str, pathlib.Path]]:
    """(subject, clip, emotion, folder) of every take under ``subjects3``.

    Raises:
      builder.MissingFilesError: no ``subjects3`` folder.
      readers.AnnotationError: a folder whose name is not the expected one at its level.
    """
    subjects = root / SUBJECTS
    builder.check_paths(DATABASE, root, [subjects])
    found = []
    for subject in _folders(subjects):
        if not SUBJECT.fullmatch(subject.name):
            raise _malformed(subject, "a subject folder, 3 digits (001 ... 086)")
        groups = []  # (session prefix, expression folder)
        for folder in _folders(subject):
            if SESSION.fullmatch(folder.name):
                for expression in _folders(folder):
                    if expression.name not in EMOTIONS:
                        raise _malformed(expression, f"one of {', '.join(EMOTIONS)}")
                    groups.append((f"{folder.name}_", expression))
            elif folder.name in EMOTIONS:
                groups.append(("", folder))
            else:
                raise _malformed(folder, f"one of {', '.join(EMOTIONS)} or session<number>")
        for prefix, expression in groups:
            for take in _folders(expression):
                if not TAKE.fullmatch(take.name):
                    raise _malformed(take, "a take folder, take<number> (take000, ...)")
                clip = f"{subject.name}_{prefix}{expression.name}_{take.name}"
                found.append((subject.name, clip, expression.name, take))
    return found


FRAMES_CONFIG = macro.MacroConfig(name="frames", description="The whole takes.")
PEAK_CONFIGS = macro.peak_configs(
    "The 8 frames around the apex (the middle frame) of every take, each a one-frame example "
    "(Micro-Attention's pretraining frames)."
)


class Mug(macro.MacroBuilder):
    """MUG posed expression takes (neutral -> apex -> neutral)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release: the posed takes (frames; apex = the middle frame) and the 8 "
        "frames around that apex (peak, with peak_apex_224, peak_apex_240 and peak_apex_64).",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    BUILDER_CONFIGS = [FRAMES_CONFIG, *PEAK_CONFIGS]
    DEFAULT_CONFIG_NAME = "frames"

    def _clips(self, root: pathlib.Path):
        peak = getattr(self.builder_config, "peak", False)
        clips, sequences = [], 0
        for subject, name, emotion, folder in takes(root):
            frames = macro.checked_frames(folder, FRAME, FRAME_EXPECTED)
            first, apex, last = frames[0][0], frames[middle(len(frames))][0], frames[-1][0]
            sample = readers.Sample(
                DATABASE, subject, name, first, apex, last, "", frozenset(), emotion, None,
                folder.relative_to(root).as_posix(),
            )  # fmt: skip
            clip = builder.Clip(sample, folder, subject, DATABASE, FPS)
            sequences += 1
            if peak:
                clips += macro.peak_clips(clip, frames, peak_positions(len(frames)))
            else:
                clips.append(clip)
        report = {
            "database": DATABASE,
            "num_samples": len(clips),
            "num_sequences": sequences,
            "apex_rule": "not annotated in MUG: the middle frame (n - 1) // 2 of each take",
        }
        if peak:
            report["peak_frames"] = "the 8 frames apex - 3 ... apex + 4 of each take"
        return clips, report
