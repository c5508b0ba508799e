"""Descriptor extraction over a whole database, cached on disk.

A clip's descriptor is a deterministic function of the database (builder name, config and
version), the input settings (``config.input``: frames, temporal model, size) and the
descriptor settings (``config.baseline.descriptor`` and ``blocks``). :func:`extract` computes it
once for every clip of the database -- clips stream through the input pipeline's
preprocessing (:func:`mejax.input_pipeline.preprocess_clip`), so memory holds one clip at a
time -- and saves all of them in

    <cache_dir>/<database>/<config>/<version>/<sha256 of the settings, 16 hex>.npz

(``cache_dir`` is ``config.baseline.cache_dir``, default ``~/.cache/mejax/features``) with the
settings as JSON beside the arrays, so every round of a protocol (and every later run, e.g. a
LOSO sweep or another classifier setting) reads the same features. A file whose stored
settings differ from the requested ones is recomputed, never trusted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path

import ml_collections
import numpy as np
import tensorflow_datasets as tfds
from absl import logging
from tqdm.auto import tqdm

from mejax import input_pipeline
from mejax.baselines import descriptors

# Bump when a descriptor's output changes for the same settings (invalidates every cache).
FORMAT_VERSION = 1
DEFAULT_CACHE_DIR = Path("~/.cache/mejax/features")


@dataclasses.dataclass
class FeatureSet:
    """Descriptors of every clip of a database, sorted by clip name.

    Attributes:
      features: (N, D) float32.
      names: clip names.
      subjects: subject of each clip.
      aus: (N, len(AU_VOCAB)) bool multi-hot.
      objective_class: (N,) int32 (-1 where not annotated).
      emotion: emotion label of each clip.
      databases: the ``database`` feature of each clip (the part of a composite).
      path: the cache file.
      from_cache: whether the features were read from ``path`` rather than computed.
    """

    features: np.ndarray
    names: list[str]
    subjects: list[str]
    aus: np.ndarray
    objective_class: np.ndarray
    emotion: list[str]
    databases: list[str]
    path: Path
    from_cache: bool

    def __len__(self) -> int:
        return len(self.names)

    def select(self, split: str) -> np.ndarray:
        """Indices of the clips of a ``+``-joined subject split (e.g. a round's side)."""
        wanted = set(split.split("+"))
        unknown = wanted - set(self.subjects)
        if unknown:
            raise ValueError(f"subjects {sorted(unknown)} have no clips in {self.path}")
        return np.flatnonzero([s in wanted for s in self.subjects])


def settings(config: ml_collections.ConfigDict, builder: tfds.core.DatasetBuilder) -> dict:
    """Everything the features depend on (the cache key)."""
    return {
        "format": FORMAT_VERSION,
        "database": builder.info.full_name,
        "input": {
            "num_frames": int(config.input.num_frames),
            "image_size": int(config.input.image_size),
            "temporal_model": config.input.get("temporal_model", "linear"),
        },
        "descriptor": json.loads(json.dumps(config.baseline.descriptor.to_dict())),
        "blocks": [int(b) for b in config.baseline.blocks],
    }


def cache_path(config: ml_collections.ConfigDict, key: dict) -> Path:
    """The cache file of the settings ``key``."""
    root = Path(config.baseline.get("cache_dir") or DEFAULT_CACHE_DIR).expanduser()
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return root / key["database"] / f"{digest}.npz"


def _load(path: Path, key: dict) -> FeatureSet | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            if json.loads(str(data["settings"])) != key:
                logging.warning("%s holds features of other settings; recomputing", path)
                return None
            return FeatureSet(
                features=data["features"],
                names=data["names"].tolist(),
                subjects=data["subjects"].tolist(),
                aus=data["aus"],
                objective_class=data["objective_class"],
                emotion=data["emotion"].tolist(),
                databases=data["databases"].tolist(),
                path=path,
                from_cache=True,
            )
    except (OSError, KeyError, ValueError) as error:
        logging.warning("unreadable feature cache %s (%s); recomputing", path, error)
        return None


def _save(path: Path, key: dict, result: FeatureSet) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed: a killed run never leaves a truncated cache.
    handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            np.savez(
                f,
                settings=np.asarray(json.dumps(key, sort_keys=True)),
                features=result.features,
                names=np.asarray(result.names),
                subjects=np.asarray(result.subjects),
                aus=result.aus,
                objective_class=result.objective_class,
                emotion=np.asarray(result.emotion),
                databases=np.asarray(result.databases),
            )
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def extract(config: ml_collections.ConfigDict, builder: tfds.core.DatasetBuilder) -> FeatureSet:
    """The descriptors of every clip of ``builder``'s database, from the cache or computed
    (with a progress bar) and cached.

    Args:
      config: an experiment config with ``input`` and ``baseline`` blocks.
      builder: the prepared database builder (:func:`mejax.input_pipeline.database_builder`).
    """
    key = settings(config, builder)
    path = cache_path(config, key)
    if path.exists():
        cached = _load(path, key)
        if cached is not None:
            logging.info("features of %d clips read from %s", len(cached), path)
            return cached
    describe = descriptors.make(config.baseline.descriptor, config.baseline.blocks)
    subjects = input_pipeline.subjects(builder)
    split = "+".join(subjects)
    total = sum(builder.info.splits[s].num_examples for s in subjects)
    dataset = builder.as_dataset(split=split, shuffle_files=False)
    rows = []
    name = config.baseline.descriptor.name
    for example in tqdm(tfds.as_numpy(dataset), total=total, desc=f"{name} features"):
        clip = input_pipeline.preprocess_clip(
            example,
            config.input.num_frames,
            config.input.image_size,
            config.input.get("temporal_model", "linear"),
        )
        rows.append(
            (
                example["clip"].decode(),
                example["subject"].decode(),
                describe(clip),
                np.asarray(example["aus"], bool),
                int(example.get("objective_class", -1)),
                _text(example.get("emotion", b"")),
                _text(example.get("database", b"")),
            )
        )
    if not rows:
        raise ValueError(f"{builder.info.full_name}: no clips to describe")
    rows.sort(key=lambda row: row[0])
    names, subject_names, features, aus, objective, emotion, database = zip(*rows, strict=True)
    result = FeatureSet(
        features=np.stack(features).astype(np.float32),
        names=list(names),
        subjects=list(subject_names),
        aus=np.stack(aus),
        objective_class=np.asarray(objective, np.int32),
        emotion=list(emotion),
        databases=list(database),
        path=path,
        from_cache=False,
    )
    _save(path, key, result)
    logging.info("features of %d clips (%d values each) saved to %s", len(result),
                 result.features.shape[1], path)  # fmt: skip
    return result


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
