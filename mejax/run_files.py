"""The files that make a workdir one run's: its config, each round's config hash and test record.

A run records its config in ``WORKDIR/config.json`` once everything it needs is loaded and built
(:func:`record_config`); a later start with another config is refused (:func:`check_workdir`).
Each round records the hash of the config that runs it beside its checkpoints
(:func:`mark_round`), and its test record, once finished, as ``ROUND/predictions.npz``
(:func:`save_record`; a round whose record is readable is not run again, :func:`read_record`).
Every experiment, deep or hand-crafted (:mod:`mejax.experiment`), keeps them alike.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from pathlib import Path

import jax
import ml_collections
import numpy as np
from absl import logging

from mejax import reporting

RECORD_FILE = "predictions.npz"


def _flatten(config: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


# How the steps are run, not what they compute (up to float rounding): a run may resume with
# other values (e.g. started fold-parallel on a GPU, finished one fold at a time on a laptop;
# require_platform only checks where it runs).
EXECUTION_SETTINGS = ("train.models_per_step", "train.folds_per_step", "require_platform")


class AnotherConfig(ValueError):
    """The workdir holds a run of another config."""


def check_workdir(config: ml_collections.ConfigDict, workdir: Path, record: bool = True) -> None:
    """Records the config in ``workdir/config.json`` (unless not ``record``: a run records it
    once everything it needs is loaded and built, so a refused start leaves nothing behind);
    refuses a workdir of another config (:data:`EXECUTION_SETTINGS` aside).

    An unreadable ``config.json`` (cut short, or damaged) is written again, with a warning, only
    when every round the workdir holds records this config's hash (:func:`mark_round`): a run of
    another config is refused even then, and so is one whose rounds cannot be recognised.

    Raises:
      AnotherConfig: naming every setting that differs from the one the workdir was made with,
        or the rounds of an unreadable ``config.json`` that are not this config's.
    """
    recorded = workdir / "config.json"
    current = json.loads(config.to_json_best_effort())
    previous = _read_config(recorded)
    if previous is None and recorded.exists():
        strangers = [
            name for name, found in round_hashes(workdir).items() if found != config_hash(config)
        ]
        if strangers:
            raise AnotherConfig(
                f"{recorded} is unreadable and the round(s) {', '.join(strangers)} of {workdir} "
                f"do not record this config's hash in their {CONFIG_HASH_FILE}: they may be a "
                "run of another config. Their checkpoints are left untouched; use a new "
                "--workdir, or restore the config.json of that run."
            )
        logging.warning("%s is unreadable; its rounds are this config's: writing it again",
                        recorded)  # fmt: skip
    if previous is not None:
        previous = _flatten(previous)
        now = _flatten(current)
        keys = (previous.keys() | now.keys()) - set(EXECUTION_SETTINGS)
        differing = sorted(k for k in keys if previous.get(k) != now.get(k))
        if differing:
            details = "; ".join(f"{k}: {previous.get(k)!r} -> {now.get(k)!r}" for k in differing)
            raise AnotherConfig(
                f"{workdir} holds a run of another config ({details}). Its checkpoints are left "
                "untouched; use a new --workdir, or the config it was made with to resume."
            )
    elif record:
        record_config(config, workdir)


def record_config(config: ml_collections.ConfigDict, workdir: Path) -> None:
    """Writes ``workdir/config.json`` unless it holds a readable config (which
    :func:`check_workdir` has found to be this one)."""
    recorded = workdir / "config.json"
    if _read_config(recorded) is None and jax.process_index() == 0:
        current = json.loads(config.to_json_best_effort())
        reporting.write_text(recorded, json.dumps(current, indent=2, sort_keys=True))


def _read_config(recorded: Path) -> dict | None:
    """The config recorded in ``recorded``, or None if there is none or it is unreadable."""
    if not recorded.exists():
        return None
    try:
        return json.loads(recorded.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None


# Beside each round's checkpoints: the hash of the config that made them (check_workdir).
CONFIG_HASH_FILE = "config.sha256"


def config_hash(config: ml_collections.ConfigDict) -> str:
    """SHA-256 of the config's settings (:data:`EXECUTION_SETTINGS` aside)."""
    flat = _flatten(json.loads(config.to_json_best_effort()))
    kept = {k: v for k, v in flat.items() if k not in EXECUTION_SETTINGS}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()


def mark_round(round_dir: Path, config: ml_collections.ConfigDict) -> None:
    """Records, in a round's folder, the hash of the config that runs it."""
    if jax.process_index() == 0:
        round_dir.mkdir(parents=True, exist_ok=True)
        reporting.write_text(round_dir / CONFIG_HASH_FILE, config_hash(config) + "\n")


def round_hashes(workdir: Path) -> dict[str, str | None]:
    """Round folder -> the config hash it records (None: none, or unreadable), for every
    folder of ``workdir`` that holds checkpoints or a test record."""
    found = {}
    for folder in sorted(p for p in workdir.iterdir() if p.is_dir()):
        if (folder / "checkpoints").is_dir() or (folder / "predictions.npz").exists():
            try:
                found[folder.name] = (folder / CONFIG_HASH_FILE).read_text().strip()
            except (OSError, UnicodeDecodeError):
                found[folder.name] = None
    return found


def read_record(record_file: Path) -> dict | None:
    """The test record of a finished round, or None: not finished, or its file is unreadable
    (then it is removed, and the round predicts again from its last checkpoint)."""
    if not record_file.exists():
        return None
    try:
        with np.load(record_file) as npz:
            return {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as error:
        logging.warning("%s is unreadable (%s); predicting again", record_file, error)
        if jax.process_index() == 0:
            record_file.unlink()
        return None


def save_record(round_dir: Path, record: dict) -> None:
    """Writes a finished round's test record (the lead process only)."""
    if jax.process_index() == 0:
        round_dir.mkdir(parents=True, exist_ok=True)
        reporting.savez(round_dir / RECORD_FILE, **record)
