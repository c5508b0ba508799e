"""TFDS builder of CAS(ME)³ part A (Li, Dong, Yu, Wang, et al., "CAS(ME)³: A third generation
facial spontaneous micro-expression database with depth information and high ecological
validity", IEEE TPAMI 45(3), 2023): its long videos for spotting, and its micro-expression
clips for recognition.

Long videos (configs ``faces_128``, the default, ``faces_64``, ``faces_224``). The release's
frames ``RGB/spNO.<id>/<a-m>/color/<n>.jpg`` (unpadded), 30 fps; one split per subject
(``spNO1``: TFDS split names take no dot; the ``subject`` feature is the split name, the
``video`` the database's ``spNO.1_a``), one example per video folder, in the schema of
:func:`mejax.datasets.long_video.video_features`. Part A misses frames (most videos their
first 7-8, some others; the release's issue #3): frames are mapped by their file number, never
by their position, and the gaps are listed in the build report's ``frame_gaps``. The events
are the 860 micro- and 3,346 macro-expressions of ``CAS(ME)3_part_A_v2.xls`` (98 subjects; the
paper's 1,109 / 3,490 / 100 subjects are not what the v2 release holds, see
:mod:`mejax.datasets.spotting_sheets`); a micro-expression's ``emotion`` is that of the
recognition sheet where it is in the manual directory (the v2 sheet gives none; macro
emotions are not released). The ``eye blink`` sheet's 841 intervals are in the build report
under ``blinks`` (the event schema types micro and macro only).

Exception lists (the release's ``exception/`` folder, read where present): the frames of
``error_info_damaged_image_partA.txt`` ("the image cannot open") are not read (``skipped_
frames``); those of ``image_with_bad_quality_partA.txt`` are kept and counted per video
(``bad_quality_frames``); the ZhouJu error list is in the errata (spNO.216 e, onset and apex
+1) and in :data:`~mejax.datasets.spotting_sheets.CASME3_OCCLUDED_APEX`. Without the damaged
list, an unreadable frame stops the build naming it.

Micro-expression clips (config ``me_faces`` and its cached variants ``me_faces_tim10_224``,
``me_faces_apex_224``, ...): the 860 rows of ``cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx``
(4 typos corrected by the errata, from the v2 sheet), less the 15 whose apex face the official
exception list says is occluded (removed, as it says; listed in the report's ``excluded``):
845 clips in the schema of :func:`mejax.datasets.features.clip_features`, the frame files from
onset to offset face-cropped at native resolution (one box per clip). Where the onset, apex or
offset frame is missing, the nearest frame inside the interval stands for it (listed under
``frames_moved``). Label sets: ``casme3_7``, ``casme3_4``, ``casme3_3`` of
:mod:`mejax.datasets.labels`.
"""

from __future__ import annotations

import collections
import dataclasses
import pathlib
import re

import tensorflow_datasets as tfds

from mejax.datasets import builder, long_video_builder, macro, readers, spotting_sheets

FPS = 30.0
SHEET = "CAS(ME)3_part_A_v2.xls"
ME_SHEET = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
FRAMES = "RGB"
EXCEPTIONS = "exception"

MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
Request CAS(ME)³ from the Institute of Psychology, Chinese Academy of Sciences
(http://casme.psych.ac.cn/casme/e4) and place, in the manual directory, as distributed:

  {SHEET}                         (long-video configs)
  {ME_SHEET}     (config me_faces; emotions of the micro events)
  {EXCEPTIONS}/error_info_damaged_image_partA.txt, image_with_bad_quality_partA.txt  (optional)
  {FRAMES}/spNO.1/a/color/1.jpg ...
"""


def video_folder(root: pathlib.Path, video: str) -> pathlib.Path:
    """``RGB/spNO.1/a/color`` of the video ``spNO.1_a``."""
    subject, letter = video.rsplit("_", 1)
    return root / FRAMES / subject / letter / "color"


def _exceptions(root: pathlib.Path) -> tuple[dict, dict, dict]:
    folder = root / EXCEPTIONS
    damaged, bad, report = {}, {}, {}
    if (folder / spotting_sheets.CASME3_DAMAGED).is_file():
        damaged = spotting_sheets.casme3_frame_list(folder / spotting_sheets.CASME3_DAMAGED)
        report["damaged_list"] = spotting_sheets.CASME3_DAMAGED
    if (folder / spotting_sheets.CASME3_BAD_QUALITY).is_file():
        bad = spotting_sheets.casme3_frame_list(folder / spotting_sheets.CASME3_BAD_QUALITY)
        report["bad_quality_list"] = spotting_sheets.CASME3_BAD_QUALITY
    return damaged, bad, report


def _video_folders(root: pathlib.Path) -> dict[str, pathlib.Path]:
    found = {}
    for subject in sorted(p for p in (root / FRAMES).iterdir() if p.is_dir()):
        if not re.fullmatch(r"spNO\.[0-9]+", subject.name):
            raise readers.AnnotationError(f"{subject}: expected a subject folder spNO.<n>")
        for letter in sorted(p for p in subject.iterdir() if p.is_dir()):
            if (letter / "color").is_dir():
                found[f"{subject.name}_{letter.name.lower()}"] = letter / "color"
    return found


def videos(root: pathlib.Path) -> tuple[list[long_video_builder.VideoSource], dict]:
    """The long videos of CAS(ME)³ part A under ``root`` and the build report's sheet part.

    Raises:
      builder.MissingFilesError: the sheet, ``RGB/`` or a video folder the sheet names.
    """
    builder.check_paths("casme3", root, [root / SHEET, root / FRAMES])
    sheet = spotting_sheets.casme3(root / SHEET)
    report = sheet.report()
    emotions = {}
    if (root / ME_SHEET).is_file():
        for s in spotting_sheets.casme3_me(root / ME_SHEET, occluded="keep").samples:
            video = s.clip.rsplit("_", 1)[0]
            emotions[(video, s.onset, s.apex, s.offset)] = s.emotion
        report["emotions_from"] = ME_SHEET
    unmatched = []
    events = collections.defaultdict(list)
    for item in sheet.events:
        event = item.event
        if event.type == "micro" and emotions:
            emotion = emotions.get((item.video, event.onset, event.apex, event.offset))
            if emotion is None:
                unmatched.append(item.source)
            else:
                event = dataclasses.replace(event, emotion=emotion)
        events[item.video].append(event)
    if emotions:
        report["micro_without_emotion"] = unmatched
    builder.check_paths("casme3", root, [video_folder(root, video) for video in sorted(events)])
    damaged, bad, lists = _exceptions(root)
    folders = _video_folders(root)
    subjects = {item.video: item.subject for item in sheet.events}
    sources = [
        long_video_builder.VideoSource(
            video,
            subjects.get(video) or "spNO" + video.split("_")[0].split(".")[1],
            folder,
            tuple(events.get(video, ())),
            frozenset(damaged.get(video, ())),
        )
        for video, folder in sorted(folders.items())
    ]
    report = {
        **report,
        **lists,
        "bad_quality_frames": {video: len(frames) for video, frames in bad.items()},
        "blinks": spotting_sheets.casme3_blinks(root / SHEET),
    }
    return sources, report


def _nearest(numbers: list[int], frame: int, low: int, high: int, last: bool = False) -> int:
    inside = [n for n in numbers if low <= n <= high]
    if not inside:
        return -1
    if frame in inside:
        return frame
    return min(inside, key=lambda n: (abs(n - frame), -n if last else n))


def clips(root: pathlib.Path, face_crop: bool = True) -> tuple[list[macro.FilesClip], dict]:
    """The micro-expression clips of CAS(ME)³ part A under ``root`` and their build report.

    Raises:
      builder.MissingFilesError: the recognition sheet, ``RGB/`` or a video folder.
      readers.AnnotationError: a clip with no frame file between its onset and offset.
    """
    builder.check_paths("casme3", root, [root / ME_SHEET, root / FRAMES])
    annotations = spotting_sheets.casme3_me(root / ME_SHEET)
    folders = {s.clip: video_folder(root, s.clip.rsplit("_", 1)[0]) for s in annotations.samples}
    builder.check_paths("casme3", root, sorted(set(folders.values())))
    damaged, _, lists = _exceptions(root)
    result, moved, files_of = [], [], {}
    for sample in annotations.samples:
        folder = folders[sample.clip]
        video = sample.clip.rsplit("_", 1)[0]
        if folder not in files_of:
            skip = set(damaged.get(video, ()))
            files_of[folder] = [(n, p) for n, p in builder.frame_files(folder) if n not in skip]
        files = [(n, p) for n, p in files_of[folder] if sample.onset <= n <= sample.offset]
        if not files:
            raise readers.AnnotationError(
                f"{sample.source}: no frame file of {folder} between onset {sample.onset} and "
                f"offset {sample.offset}"
            )
        numbers = [n for n, _ in files]
        frames = {
            "onset": numbers[0],
            "apex": _nearest(numbers, sample.apex, sample.onset, sample.offset),
            "offset": numbers[-1],
        }
        changed = {k: (getattr(sample, k), v) for k, v in frames.items() if getattr(sample, k) != v}
        if changed:
            moved.append(f"{sample.source}: {sample.clip} " + ", ".join(
                f"{k} {a} -> {b}" for k, (a, b) in changed.items()))  # fmt: skip
            sample = dataclasses.replace(sample, **frames)
        result.append(
            macro.FilesClip(
                sample,
                folder,
                sample.subject,
                "casme3",
                FPS,
                face_crop=face_crop,
                files=tuple(p for _, p in files),
            )  # fmt: skip
        )
    report = {**annotations.report(), **lists, "frames_moved": moved}
    return result, report


VIDEO_CONFIGS = long_video_builder.size_configs()
ME_CONFIG = long_video_builder.LongVideoConfig(
    name="me_faces",
    description="CAS(ME)³ part A micro-expression clips (onset to offset), face-cropped at "
    "native resolution with one box per clip.",
    face_crop=True,
    clips=True,
)


class Casme3(long_video_builder.LongVideoBuilder):
    """CAS(ME)³ part A: long videos with micro / macro intervals, and micro-expression clips."""

    VERSION = tfds.core.Version("1.1.0")
    RELEASE_NOTES = {
        "1.1.0": "Onset 0 (spNO.215 l) kept as 0: not annotated.",
        "1.0.0": f"Initial release; long-video errata version {spotting_sheets.ERRATA_VERSION} "
        "(spNO.216 e onset/apex +1; 4 typos of the recognition sheet); 15 occluded-apex clips "
        "removed from me_faces.",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    BUILDER_CONFIGS = [*VIDEO_CONFIGS, ME_CONFIG, *builder.variant_configs([ME_CONFIG])]
    DEFAULT_CONFIG_NAME = "faces_128"
    DATABASE = "casme3"
    FPS = FPS

    def _videos(self, root: pathlib.Path):
        return videos(root)

    def _clips(self, root: pathlib.Path):
        return clips(root, face_crop=True)
