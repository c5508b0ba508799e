"""Shared machinery of the long-video builders (CAS(ME)², SAMM-LV, CAS(ME)³ part A).

A long-video builder reads its label sheet (:mod:`mejax.datasets.spotting_sheets`), finds every
video's frame folder in the manual directory (every folder missing is listed in one
:class:`~mejax.datasets.builder.MissingFilesError`), and writes one split per subject, one
example per long video in the schema of :func:`mejax.datasets.long_video.video_features`, its
events in the database's own frame numbers.

Frames. Every video is face-cropped with one square box (MTCNN on
:data:`~mejax.datasets.builder.FACE_PROBE_FRAMES` frames spread over the video, the median
face, the eyes levelled, the box grown by :data:`~mejax.datasets.builder.FACE_MARGIN`: the
face crops of :mod:`mejax.datasets.builder`, one box per video, since a box that moves adds
motion larger than a micro-expression's), resized to the config's square ``size`` (area
interpolation) and stored as PNG (:func:`mejax.datasets.long_video.encode`). Frames are read,
cropped and encoded one at a time: a video is never held decoded in memory. ``frame_numbers``
are the numbers of the frame files (the last run of digits of the name), so a missing file
(CAS(ME)³ part A misses frames) leaves a gap in the numbers, listed in the build report's
``frame_gaps``, never a shift of the events.

Build report (``build_report`` in the dataset's metadata, and logged): the sheet's report
(errata, rules applied with file and row, counts), ``videos`` and ``videos_without_events``,
``events_outside_frames`` (an event whose interval holds no stored frame), ``frame_gaps``,
``skipped_frames`` (frames an exception list names as unreadable), ``face_crops`` (box, angle,
detection, frame size, probed and missed frames per video), ``manual_dir`` and the SHA-256 of
its annotation files (a reused build whose sources changed is warned about, as in
:class:`~mejax.datasets.builder.ManualBuilder`).
"""

from __future__ import annotations

import collections
import dataclasses
import json
import pathlib

import cv2
import numpy as np
import tensorflow_datasets as tfds
from absl import logging

from mejax.datasets import builder, long_video, macro
from mejax.preprocess import face

DEFAULT_SIZE = 128


@dataclasses.dataclass(eq=False)
class LongVideoConfig(builder.ManualConfig):
    """Config of a long-video builder.

    Attributes:
      size: side of the stored square face crops.
      clips: the config holds short clips in the schema of
        :func:`mejax.datasets.features.clip_features` (a recognition config, e.g. CAS(ME)³'s
        micro-expressions) instead of long videos; it is built by the machinery of
        :class:`~mejax.datasets.builder.ManualBuilder` (clips of chosen files:
        :class:`mejax.datasets.macro.FilesClip`).
    """

    size: int = DEFAULT_SIZE
    clips: bool = False


def size_configs(sizes=(DEFAULT_SIZE, 64, 224)) -> list[LongVideoConfig]:
    """``faces_<size>`` configs: every video face-cropped, resized to size x size."""
    return [
        LongVideoConfig(
            name=f"faces_{size}",
            description=f"Long videos face-cropped with one box per video, {size}x{size} PNG.",
            size=size,
            face_crop=True,
        )
        for size in sizes
    ]


@dataclasses.dataclass(frozen=True)
class VideoSource:
    """A long video and where its frames are.

    Attributes:
      video: the database's video name.
      subject: its split name.
      folder: its frame folder.
      events: the annotated expressions.
      skip: frame numbers not to read (an exception list's unreadable frames).
    """

    video: str
    subject: str
    folder: pathlib.Path
    events: tuple[long_video.Event, ...]
    skip: frozenset[int] = frozenset()

    @property
    def key(self) -> str:
        return f"{self.subject}/{self.video}"


def video_files(source: VideoSource) -> list[tuple[int, pathlib.Path]]:
    """(frame number, path) of the frames of a video that are read, by number."""
    return [(n, p) for n, p in builder.frame_files(source.folder) if n not in source.skip]


def locate_face(source: VideoSource, files, detector) -> tuple[dict, dict]:
    """The crop geometry of a video (one box) and its report entry.

    Raises:
      face.NoFaceError: no face on any probed frame.
    """
    frames = builder.FolderFrames(files)
    track = face.face_track(frames, detector, builder.FACE_PROBE_FRAMES, sample=str(source.folder))
    return builder.crop_and_report(frames, track, builder.FACE_MARGIN, source.folder)


def encoded_frames(files, geometry: dict, size: int):
    """PNG bytes of every frame, face-cropped and resized, one frame decoded at a time."""
    shape = None
    for _, path in files:
        image = builder.read_frame(path)
        if shape is not None and image.shape != shape:
            raise ValueError(f"{path}: frame size {image.shape[:2]} differs from {shape[:2]}")
        shape = image.shape
        crop = face.apply_crop(image[None], geometry)[0]
        yield long_video.encode(cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA))


def _gaps(numbers: list[int]) -> list[int]:
    if not numbers or numbers[-1] - numbers[0] + 1 == len(numbers):
        return []
    return sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))


class LongVideoBuilder(macro.MacroBuilder):
    """Base of the long-video builders: subclasses set :attr:`DATABASE` and :attr:`FPS` and
    implement :meth:`_videos` (and :meth:`_clips` for a config with ``clips``)."""

    DATABASE = ""
    FPS = 0.0

    def _videos(self, root: pathlib.Path) -> tuple[list[VideoSource], dict]:
        """The long videos under ``root`` and the sheet's build report."""
        raise NotImplementedError

    @property
    def _clip_config(self) -> bool:
        return getattr(self.builder_config, "clips", False)

    def _info(self) -> tfds.core.DatasetInfo:
        if self._clip_config:
            return super()._info()
        size = self.builder_config.size
        return self.dataset_info_from_configs(
            features=long_video.video_features((size, size)), metadata=tfds.core.MetadataDict()
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        if self._clip_config:
            return super()._split_generators(dl_manager)
        root = pathlib.Path(dl_manager.manual_dir)
        sources, report = self._videos(root)
        detector = face.mtcnn_detector(max_side=builder.FACE_DETECT_MAX_SIDE)
        located, crops, gaps, outside, errors = [], {}, {}, {}, []
        for source in sources:
            files = video_files(source)
            if not files:
                raise ValueError(
                    f"{self.name}: {source.folder} holds no frames "
                    f"({'/'.join(builder.IMAGE_SUFFIXES)})"
                )
            numbers = [n for n, _ in files]
            if missing := _gaps(numbers):
                gaps[source.key] = missing
            for event in source.events:
                first, last = np.searchsorted(numbers, [event.onset, event.offset + 1])
                if first == last:
                    outside.setdefault(source.key, []).append([event.onset, event.offset])
            try:
                geometry, entry = locate_face(source, files, detector)
            except face.NoFaceError as error:
                errors.append(error)
                continue
            crops[source.key] = entry
            located.append((source, files, geometry))
        if errors:
            raise builder.NoFaceClipsError(self.name, errors)
        for key, spans in outside.items():
            logging.warning("%s: %s: events %s hold no frame of the video", self.name, key, spans)
        report = {
            **report,
            "fps": self.FPS,
            "frame_size": self.builder_config.size,
            "videos": len(sources),
            "videos_without_events": sorted(s.key for s in sources if not s.events),
            "events_outside_frames": outside,
            "frame_gaps": gaps,
            "skipped_frames": {s.key: sorted(s.skip) for s in sources if s.skip},
            "manual_dir": str(root.absolute()),
            "annotation_sha256": builder.annotation_hashes(root),
            "face_crop_method": builder.FACE_METHOD.format(
                probes=builder.FACE_PROBE_FRAMES, max_side=builder.FACE_DETECT_MAX_SIDE,
                min_angle=face.MIN_ROTATION_DEGREES, margin=builder.FACE_MARGIN,
            ).replace("over the clip", "over the video"),
            "face_crops": crops,
        }  # fmt: skip
        for excluded in report.get("excluded", []):
            logging.warning("%s: kept out %s", self.name, excluded)
        self.info.metadata["build_report"] = json.loads(json.dumps(report))
        by_split = collections.defaultdict(list)
        for item in located:
            by_split[item[0].subject].append(item)
        return {split: self._generate_examples(items) for split, items in sorted(by_split.items())}

    def _generate_examples(self, items):
        if self._clip_config:
            yield from super()._generate_examples(items)
            return
        size = self.builder_config.size
        for source, files, geometry in items:
            events = sorted(source.events, key=lambda e: (e.onset, e.offset))
            yield (
                source.key,
                {
                    "video": source.video,
                    "subject": source.subject,
                    "database": self.DATABASE,
                    "fps": self.FPS,
                    "frame_numbers": np.asarray([n for n, _ in files], np.int32),
                    "frames": list(encoded_frames(files, geometry, size)),
                    "events": {
                        "onset": [e.onset for e in events],
                        "apex": [e.apex for e in events],
                        "offset": [e.offset for e in events],
                        "type": [e.type for e in events],
                        "emotion": [e.emotion for e in events],
                        "au_code": [e.au_code for e in events],
                    },
                },
            )
