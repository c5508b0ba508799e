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

from mejax import clipset, input_pipeline
from mejax.baselines import descriptors

# Bump when a descriptor's output changes for the same settings (invalidates every cache).
FORMAT_VERSION = 2  # 2: the clips' onset / apex / offset are stored too
DEFAULT_CACHE_DIR = Path("~/.cache/mejax/features")


@dataclasses.dataclass(frozen=True)
class Cache:
    """Where a database's descriptors are cached.

    Attributes:
      path: the cache file.
      from_cache: whether the descriptors were read from ``path`` rather than computed.
    """

    path: Path
    from_cache: bool


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


# What a cache file holds beside the descriptors (``inputs``): every other field of a ClipSet.
_FIELDS = tuple(name for name in clipset.FIELDS if name != "inputs")


def _load(path: Path, key: dict) -> clipset.ClipSet | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            if json.loads(str(data["settings"])) != key:
                logging.warning("%s holds features of other settings; recomputing", path)
                return None
            fields = {f: data[f] for f in _FIELDS}
            for name in clipset.LIST_FIELDS:
                fields[name] = fields[name].tolist()
            return clipset.ClipSet(inputs=data["features"], **fields)
    except (OSError, KeyError, ValueError) as error:
        logging.warning("unreadable feature cache %s (%s); recomputing", path, error)
        return None


def _save(path: Path, key: dict, result: clipset.ClipSet) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed: a killed run never leaves a truncated cache.
    handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            np.savez(
                f,
                settings=np.asarray(json.dumps(key, sort_keys=True)),
                features=result.inputs,
                **{name: np.asarray(getattr(result, name)) for name in _FIELDS},
            )
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def extract(
    config: ml_collections.ConfigDict, builder: tfds.core.DatasetBuilder, prefix: bool = False
) -> tuple[clipset.ClipSet, Cache]:
    """The descriptors of every clip of ``builder``'s database, from the cache or computed
    (with a progress bar) and cached.

    Args:
      config: an experiment config with ``input`` and ``baseline`` blocks.
      builder: the prepared database builder (:func:`mejax.input_pipeline.database_builder`).
      prefix: prefix each subject with its database (a run of several databases).

    Returns:
      (the clips, with their (N, D) float32 descriptors as ``inputs``; where they are cached).
    """
    key = settings(config, builder)
    path = cache_path(config, key)
    if path.exists():
        cached = _load(path, key)
        if cached is not None:
            logging.info("features of %d clips read from %s", len(cached), path)
            return _prefixed(cached) if prefix else cached, Cache(path, True)
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
        rows.append(input_pipeline.clip_row(example, describe(clip).astype(np.float32)))
    if not rows:
        raise ValueError(f"{builder.info.full_name}: no clips to describe")
    result = clipset.from_rows(rows)
    _save(path, key, result)
    logging.info("features of %d clips (%d values each) saved to %s", len(result),
                 result.inputs.shape[1], path)  # fmt: skip
    return _prefixed(result) if prefix else result, Cache(path, False)


def _prefixed(clips: clipset.ClipSet) -> clipset.ClipSet:
    """The clips with every subject prefixed by its database, as
    :func:`mejax.input_pipeline.clip_row` does for a run of several databases."""
    subjects = [
        input_pipeline.prefixed_subject(s, d)
        for s, d in zip(clips.subjects, clips.databases, strict=True)
    ]
    return dataclasses.replace(clips, subjects=subjects)
