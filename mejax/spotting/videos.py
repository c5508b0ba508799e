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


def load(dataset) -> VideoSet:
    """The videos of a ``dataset`` block's long-video database (built on first use when it is
    generated, from ``dataset.manual_dir`` when it is licensed)."""
    from mejax import input_pipeline

    return VideoSet(long_video.read_videos(input_pipeline.database_builder(dataset)))
