"""One set of clips with everything a task, a protocol or a report needs to know about them.

The deep models read a :class:`ClipSet` of preprocessed inputs (frames, TIM clips, apex frames
or optical flow; :mod:`mejax.input_pipeline`), the hand-crafted baselines one of descriptors
(:mod:`mejax.baselines.features`). Either way the metadata travel with the inputs: subject,
database part, emotion, objective class, AUs and the onset / apex / offset indices. Tasks read
their targets from it (:mod:`mejax.tasks`), protocols select clips from it
(:mod:`mejax.protocols`).
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Sequence

import numpy as np

from mejax.datasets import aus as au_vocab


@dataclasses.dataclass
class ClipSet:
    """Clips sorted by name, with their metadata.

    Attributes:
      inputs: (N, ...) what a model or classifier reads: uint8 frames (N, T, H, W, 3), an apex
        image (N, H, W, C), float32 flow (N, H, W, C), or (N, D) descriptors.
      names: clip names as the database gives them; unique per subject, not always across
        subjects (CASME II numbers its clips per subject: ``EP02_01f`` is a clip of several).
        :attr:`keys` (``subject/name``) are unique.
      subjects: subject of each clip (a split name of its database; prefixed by the database
        where several databases share a run).
      databases: the ``database`` feature of each clip (the part of a composite).
      aus: (N, len(AU_VOCAB)) bool multi-hot.
      emotion: emotion label of each clip, as the database gives it.
      objective_class: (N,) int32 index into ``aus.OBJECTIVE_CLASSES`` (-1: none).
      phases: (N, 3) int32 onset, apex, offset as stored (-1: not annotated).
    """

    inputs: np.ndarray
    names: list[str]
    subjects: list[str]
    databases: list[str]
    aus: np.ndarray
    emotion: list[str]
    objective_class: np.ndarray
    phases: np.ndarray

    def __post_init__(self):
        count = len(self.names)
        for field in dataclasses.fields(self):
            if len(getattr(self, field.name)) != count:
                raise ValueError(f"ClipSet.{field.name} has {len(getattr(self, field.name))} "
                                 f"rows for {count} clips")  # fmt: skip

    def __len__(self) -> int:
        return len(self.names)

    @property
    def keys(self) -> list[str]:
        """``<subject>/<name>`` of every clip: unique, where names alone may repeat."""
        return [f"{s}/{n}" for s, n in zip(self.subjects, self.names, strict=True)]

    @property
    def people(self) -> list[str]:
        """``<database>:<subject>`` of every clip, the subject without the database prefix a run
        of several databases gives it: the same person has the same name in every run."""
        return [
            f"{d}:{s.removeprefix(f'{d}_')}"
            for s, d in zip(self.subjects, self.databases, strict=True)
        ]

    def take(self, indices: Sequence[int] | np.ndarray) -> ClipSet:
        """The clips at ``indices`` (in that order)."""
        indices = np.asarray(indices, np.int64)
        return ClipSet(
            inputs=self.inputs[indices],
            names=[self.names[i] for i in indices],
            subjects=[self.subjects[i] for i in indices],
            databases=[self.databases[i] for i in indices],
            aus=self.aus[indices],
            emotion=[self.emotion[i] for i in indices],
            objective_class=self.objective_class[indices],
            phases=self.phases[indices],
        )

    def of_subjects(self, subjects: Sequence[str]) -> np.ndarray:
        """Sorted indices of the clips of ``subjects``; every subject must have clips."""
        wanted = set(subjects)
        unknown = wanted - set(self.subjects)
        if unknown:
            raise ValueError(f"subjects {sorted(unknown)} have no clips here")
        return np.asarray([i for i, s in enumerate(self.subjects) if s in wanted], np.int64)

    @staticmethod
    def concatenate(parts: Sequence[ClipSet]) -> ClipSet:
        """The clips of every part, sorted by name (then subject); no (subject, name) may
        repeat."""
        names = [n for p in parts for n in p.names]
        keys = [k for p in parts for k in p.keys]
        repeated = sorted(k for k, count in collections.Counter(keys).items() if count > 1)
        if repeated:
            raise ValueError(f"clips repeat across the databases of a run: {repeated[:10]}")
        order = sorted(range(len(names)), key=lambda i: (names[i], keys[i]))
        joined = ClipSet(
            inputs=np.concatenate([p.inputs for p in parts]),
            names=names,
            subjects=[s for p in parts for s in p.subjects],
            databases=[d for p in parts for d in p.databases],
            aus=np.concatenate([p.aus for p in parts]),
            emotion=[e for p in parts for e in p.emotion],
            objective_class=np.concatenate([p.objective_class for p in parts]),
            phases=np.concatenate([p.phases for p in parts]),
        )
        return joined.take(order)


def from_rows(rows: list[dict]) -> ClipSet:
    """A ClipSet of per-clip dicts with the field names of :class:`ClipSet` (``input`` for
    one row of ``inputs``), sorted by clip name."""
    if not rows:
        raise ValueError("no clips")
    rows = sorted(rows, key=lambda row: (row["name"], row["subject"]))
    return ClipSet(
        inputs=np.stack([r["input"] for r in rows]),
        names=[r["name"] for r in rows],
        subjects=[r["subject"] for r in rows],
        databases=[r["database"] for r in rows],
        aus=np.stack([np.asarray(r["aus"], bool) for r in rows]).reshape(
            len(rows), len(au_vocab.AU_VOCAB)
        ),
        emotion=[r["emotion"] for r in rows],
        objective_class=np.asarray([r["objective_class"] for r in rows], np.int32),
        phases=np.asarray([r["phases"] for r in rows], np.int32).reshape(len(rows), 3),
    )
