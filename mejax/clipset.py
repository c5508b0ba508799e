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


def _field(row: str, stack):
    """A :class:`ClipSet` field: ``row``, its key in the per-clip dicts of :func:`from_rows`;
    ``stack``, what makes the field of the rows' values (a list, or an array)."""
    return dataclasses.field(metadata={"row": row, "stack": stack})


def _multi_hot(values: list) -> np.ndarray:
    return np.stack([np.asarray(v, bool) for v in values]).reshape(
        len(values), len(au_vocab.AU_VOCAB)
    )


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

    inputs: np.ndarray = _field("input", np.stack)
    names: list[str] = _field("name", list)
    subjects: list[str] = _field("subject", list)
    databases: list[str] = _field("database", list)
    aus: np.ndarray = _field("aus", _multi_hot)
    emotion: list[str] = _field("emotion", list)
    objective_class: np.ndarray = _field("objective_class", lambda v: np.asarray(v, np.int32))
    phases: np.ndarray = _field("phases", lambda v: np.asarray(v, np.int32).reshape(len(v), 3))

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
            **{
                name: [values[i] for i in indices] if name in LIST_FIELDS else values[indices]
                for name, values in ((name, getattr(self, name)) for name in FIELDS)
            }
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
            **{
                name: [v for p in parts for v in getattr(p, name)]
                if name in LIST_FIELDS
                else np.concatenate([getattr(p, name) for p in parts])
                for name in FIELDS
            }
        )
        return joined.take(order)


def from_rows(rows: list[dict]) -> ClipSet:
    """A ClipSet of per-clip dicts, sorted by clip name. A dict holds each field of
    :class:`ClipSet` under the field's row key: ``input`` (one row of ``inputs``), ``name``,
    ``subject``, ``database``, and the other fields' own names."""
    if not rows:
        raise ValueError("no clips")
    rows = sorted(rows, key=lambda row: (row["name"], row["subject"]))
    return ClipSet(
        **{
            f.name: f.metadata["stack"]([row[f.metadata["row"]] for row in rows])
            for f in dataclasses.fields(ClipSet)
        }
    )


# The fields of a ClipSet, in order; those that are lists (one string per clip), not arrays.
FIELDS = tuple(f.name for f in dataclasses.fields(ClipSet))
LIST_FIELDS = tuple(f.name for f in dataclasses.fields(ClipSet) if f.metadata["stack"] is list)
