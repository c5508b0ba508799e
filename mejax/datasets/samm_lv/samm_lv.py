"""TFDS builder of SAMM Long Videos (Yap, Yap, Davison, Cunningham, "SAMM Long Videos: A
spontaneous facial micro- and macro-expressions dataset", FG 2020; arXiv:1911.01519).

159 micro- and 343 macro-movements in 147 long videos of 30 subjects, 200 fps. One split per
subject (``006`` ... ``037``), one example per video folder of ``SAMM_longvideos/``, in the
schema of :func:`mejax.datasets.long_video.video_features`; events in the sheet's frame
numbers (those of ``006_1_NNNN.jpg``, 4 or 5 digits). Sheet and rules (fractional frames
rounded half up, apex -1 and onset 0 not annotated): :func:`mejax.datasets.spotting_sheets.
samm_lv`; frames: :mod:`mejax.datasets.long_video_builder`. The sheet gives no emotion: where
SAMM's own coding sheet (``SAMM_Micro_FACS_Codes_v2.xlsx``, the clip release's) is in the manual
directory, each micro-movement takes the Estimated Emotion of the SAMM clip of the same name
(all 159 are SAMM's clips, ``006_1_2``; their frame numbers differ between the releases), as
MEGC 2024-2025's spot-then-recognise on SAMM labels them; the report lists ``emotions_from``.

Configs: ``faces_128`` (default), ``faces_64``, ``faces_224``: face crops of that square size.
"""

from __future__ import annotations

import dataclasses
import pathlib

import tensorflow_datasets as tfds

from mejax.datasets import builder, long_video_builder, readers, spotting_sheets
from mejax.datasets.casme_sq.casme_sq import find_sheet

FPS = 200.0
# The release's names (V2 first: V1 rounded to integer frames) and the name public spotting
# code renamed it to; the CSV export of V2 is read alike.
SHEETS = (
    "SAMM_LongVideos_V2_Release.xlsx",
    "SAMM_LongVideos_V1_Release.xlsx",
    "SAMMLV_gt.xlsx",
    "SAMM_LongVideos_V2_Release.csv",
)
FRAMES = "SAMM_longvideos"

SAMM_CODING = "SAMM_Micro_FACS_Codes_v2.xlsx"  # emotions of the micro-movements (optional)

MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
Request SAMM Long Videos from Manchester Metropolitan University
(http://www2.docm.mmu.ac.uk/STAFF/M.Yap/dataset.php) and place, in the manual directory, as
distributed:

  {SHEETS[0]}     (or {SHEETS[1]}, or the sheet renamed {SHEETS[2]})
  {FRAMES}/006_1/006_1_0001.jpg ...
  {SAMM_CODING}   (optional: SAMM's sheet, the emotions of the micro-movements)
"""


def videos(root: pathlib.Path) -> tuple[list[long_video_builder.VideoSource], dict]:
    """The long videos of SAMM-LV under ``root`` and the sheet's report.

    Raises:
      builder.MissingFilesError: the sheet, ``SAMM_longvideos/`` or a video folder it names.
    """
    sheet_path = find_sheet("samm_lv", root, SHEETS)
    builder.check_paths("samm_lv", root, [root / FRAMES])
    sheet = spotting_sheets.samm_lv(sheet_path)
    report = {**sheet.report(), "sheet_used": sheet_path.name}
    emotions = {}
    if (root / SAMM_CODING).is_file():
        emotions = {s.clip: s.emotion for s in readers.samm(root / SAMM_CODING).samples}
        report["emotions_from"] = SAMM_CODING
    events = {
        video: [
            dataclasses.replace(
                item, event=dataclasses.replace(item.event, emotion=emotions[item.name])
            )
            if item.event.type == "micro" and item.name in emotions
            else item
            for item in items
        ]
        for video, items in sheet.by_video().items()
    }
    if emotions:
        report["micro_without_emotion"] = [
            item.source for items in events.values() for item in items
            if item.event.type == "micro" and not item.event.emotion
        ]  # fmt: skip
    builder.check_paths("samm_lv", root, [root / FRAMES / video for video in events])
    sources = [
        long_video_builder.VideoSource(
            folder.name,
            folder.name.split("_")[0],
            folder,
            tuple(item.event for item in events.get(folder.name, [])),
        )
        for folder in sorted(p for p in (root / FRAMES).iterdir() if p.is_dir())
    ]
    return sources, report


class SammLv(long_video_builder.LongVideoBuilder):
    """SAMM Long Videos with their micro- and macro-movement intervals."""

    VERSION = tfds.core.Version("1.1.0")
    RELEASE_NOTES = {
        "1.1.0": "Onset 0 kept as 0 (not annotated), as MEGC2020's ground truth has it; micro "
        "emotions from SAMM's coding sheet where it is in the manual directory.",
        "1.0.0": f"Initial release; long-video errata version {spotting_sheets.ERRATA_VERSION}; "
        "fractional frames rounded half up, apex -1 not annotated, onset 0 -> 1.",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    BUILDER_CONFIGS = long_video_builder.size_configs()
    DEFAULT_CONFIG_NAME = "faces_128"
    DATABASE = "samm_lv"
    FPS = FPS

    def _videos(self, root: pathlib.Path):
        return videos(root)
