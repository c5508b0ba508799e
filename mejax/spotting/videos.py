"""The long videos of a spotting run, with what protocols and tasks ask of a set of samples.

A :class:`VideoSet` is to spotting what :class:`mejax.clipset.ClipSet` is to recognition: the
run's samples (here whole long videos, :class:`mejax.datasets.long_video.LongVideo`, their
frames decoded on demand) with their subjects, so that the protocols of :mod:`mejax.protocols`
(leave-one-subject-out over videos, as MEGC's learned spotters are evaluated) deal them into
rounds as they deal clips.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from mejax.datasets import long_video


@dataclasses.dataclass
class VideoSet:
    """Long videos sorted by key (``subject/video``)."""

    videos: list[long_video.LongVideo]

    def __len__(self) -> int:
        return len(self.videos)

    @property
    def names(self) -> list[str]:
        return [video.video for video in self.videos]

    @property
    def subjects(self) -> list[str]:
        return [video.subject for video in self.videos]

    @property
    def databases(self) -> list[str]:
        return [video.database for video in self.videos]

    @property
    def keys(self) -> list[str]:
        return [video.key for video in self.videos]

    @property
    def people(self) -> list[str]:
        """``<database>:<subject>`` of every video (as :attr:`ClipSet.people`)."""
        return [f"{video.database}:{video.subject}" for video in self.videos]

    def take(self, indices: Sequence[int] | np.ndarray) -> VideoSet:
        return VideoSet([self.videos[int(i)] for i in indices])

    def of_subjects(self, subjects: Sequence[str]) -> np.ndarray:
        """Sorted indices of the videos of ``subjects``; every subject must have videos."""
        wanted = set(subjects)
        unknown = wanted - set(self.subjects)
        if unknown:
            raise ValueError(f"subjects {sorted(unknown)} have no videos here")
        return np.asarray([i for i, s in enumerate(self.subjects) if s in wanted], np.int64)


def _not_read(key: str):
    def read():
        raise RuntimeError(f"{key}: a video listed from its frame folder has no frames read")

    return read


def from_folders(dataset) -> VideoSet:
    """The videos of a licensed long-video database as ``dataset.manual_dir`` holds them, without
    building it: the sheet's events (errata and rules applied, as the builder reads them) and
    each video's frame numbers, listed from its folder with no frame read (``--plan``).

    Raises:
      FileNotFoundError: the sheet or a frame folder the sheet names is missing.
      ValueError: a malformed row or folder.
    """
    from pathlib import Path

    from mejax import input_pipeline
    from mejax.datasets import long_video_builder

    builder, _ = input_pipeline.unprepared_builder(dataset)
    sources, _ = builder._videos(Path(dataset.manual_dir).expanduser())
    result = []
    for source in sources:
        numbers = np.asarray([n for n, _ in long_video_builder.video_files(source)], np.int64)
        result.append(
            long_video.LongVideo(
                source.video,
                source.subject,
                builder.DATABASE,
                builder.FPS,
                numbers,
                sorted(source.events, key=lambda e: (e.onset, e.offset)),
                _not_read(source.key),
            )  # fmt: skip
        )
    return VideoSet(sorted(result, key=lambda video: video.key))


def load(dataset) -> VideoSet:
    """The videos of a ``dataset`` block's long-video database (built on first use when it is
    generated, from ``dataset.manual_dir`` when it is licensed)."""
    from mejax import input_pipeline

    return VideoSet(long_video.read_videos(input_pipeline.database_builder(dataset)))
