"""TFDS builder of CAS(ME)²'s long videos (Qu, Wang, Yan, Fu, "CAS(ME)²: A database for
spontaneous macro-expression and micro-expression spotting and recognition", IEEE Trans.
Affective Computing 9(4), 2018), part A as MEGC's spotting tasks use it.

57 micro- and 300 macro-expressions in 95 of the release's long videos of 22 subjects, 30 fps.
One split per subject (``s15`` ... ``s40``), one example per video folder of ``rawpic/`` (the
videos without an annotated expression too, as the MEGC2020 baseline scores all 98), in the
schema of :func:`mejax.datasets.long_video.video_features`; events in the sheet's frame
numbers (those of ``img<N>.jpg``). Sheet, rules and errata: :func:`mejax.datasets.
spotting_sheets.casme_sq`; frames: :mod:`mejax.datasets.long_video_builder`.

Configs: ``faces_128`` (default), ``faces_64``, ``faces_224``: face crops of that square size.
"""

from __future__ import annotations

import pathlib
import re

import tensorflow_datasets as tfds

from mejax.datasets import builder, long_video_builder, readers, spotting_sheets

FPS = 30.0
SHEETS = ("CAS(ME)^2code_final.xlsx", "CASME_sq_gt.xlsx")
FRAMES = "rawpic"

MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
Request CAS(ME)² from the Institute of Psychology, Chinese Academy of Sciences
(http://casme.psych.ac.cn/casme/e3) and place, in the manual directory, as distributed:

  {SHEETS[0]}      (or the same sheet renamed {SHEETS[1]})
  {FRAMES}/s15/15_0101disgustingteeth/img001.jpg ...
"""


def find_sheet(database: str, root: pathlib.Path, names: tuple[str, ...]) -> pathlib.Path:
    """The first of ``names`` present in ``root``; a MissingFilesError listing them all if none."""
    for name in names:
        if (root / name).is_file():
            return root / name
    raise builder.MissingFilesError(database, root, [root / name for name in names])


def video_folder(root: pathlib.Path, subject: str, video: str) -> pathlib.Path | None:
    """The folder ``rawpic/sNN/<video><description>`` of a video ``NN_CCCC``, None if absent."""
    folder = root / FRAMES / subject
    if not folder.is_dir():
        return None
    found = sorted(p for p in folder.iterdir() if p.is_dir() and p.name.startswith(video))
    return found[0] if found else None


def videos(root: pathlib.Path) -> tuple[list[long_video_builder.VideoSource], dict]:
    """The long videos of CAS(ME)² under ``root`` and the sheet's report.

    Raises:
      builder.MissingFilesError: the sheet, ``rawpic/`` or a video folder the sheet names.
      readers.AnnotationError: a malformed row, or a folder of ``rawpic/`` two videos share.
    """
    sheet_path = find_sheet("casme_sq", root, SHEETS)
    builder.check_paths("casme_sq", root, [root / FRAMES])
    sheet = spotting_sheets.casme_sq(sheet_path)
    events = sheet.by_video()
    subjects = {item.video: item.subject for item in sheet.events}
    missing = [
        root / FRAMES / subject / f"{video}*"
        for video, subject in sorted(subjects.items())
        if video_folder(root, subject, video) is None
    ]
    if missing:
        raise builder.MissingFilesError("casme_sq", root, missing)
    sources = []
    for subject_folder in sorted(p for p in (root / FRAMES).iterdir() if p.is_dir()):
        for folder in sorted(p for p in subject_folder.iterdir() if p.is_dir()):
            match = re.match(r"([0-9]+_[0-9]{4})", folder.name)
            if match is None:
                raise readers.AnnotationError(
                    f"{folder}: expected a video folder NN_CCCC<description> (15_0101...)"
                )
            video = match[1]
            items = events.get(video, [])
            if items and subjects[video] != subject_folder.name:
                raise readers.AnnotationError(
                    f"{folder}: video {video} is annotated for subject {subjects[video]}"
                )
            sources.append(
                long_video_builder.VideoSource(
                    video, subject_folder.name, folder, tuple(i.event for i in items)
                )
            )
    keys = [s.key for s in sources]
    if len(set(keys)) != len(keys):
        twice = sorted({k for k in keys if keys.count(k) > 1})
        raise readers.AnnotationError(f"{root / FRAMES}: several folders of the videos {twice}")
    return sources, sheet.report()


class CasmeSq(long_video_builder.LongVideoBuilder):
    """CAS(ME)² long videos with their micro- and macro-expression intervals."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": f"Initial release; long-video errata version {spotting_sheets.ERRATA_VERSION} "
        "(3 apexes after their offsets not annotated, s34 anger1_1 apex 0 -> 1775, "
        "'happyiness'); offset 0 -> apex.",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    BUILDER_CONFIGS = long_video_builder.size_configs()
    DEFAULT_CONFIG_NAME = "faces_128"
    DATABASE = "casme_sq"
    FPS = FPS

    def _videos(self, root: pathlib.Path):
        return videos(root)
