"""Checkpoints with orbax (the only module that imports it), and the lock of a workdir.

A checkpoint is the whole training state pytree (parameters, BatchNorm statistics, optimizer
state, step, RNG keys, and the model-selection record). Orbax writes each step to a temporary
directory and renames it when complete, so a run killed mid-save leaves the previous checkpoint
intact. Only a folder with orbax's ``_CHECKPOINT_METADATA`` (written when a step is complete)
counts as a step: any other folder named by a number (``checkpoints/9/``, made by hand or by a
copy cut short) is moved aside as ``9.incomplete`` with a warning. A latest step that fails to
restore (a file damaged after it was written) is moved aside as ``9.unreadable``, with a warning,
and the previous step is restored instead; a complete step outside the run's schedule (another
run's checkpoint copied in as ``999``) is moved aside as ``999.foreign``.

:func:`workdir_lock` holds an operating-system lock on ``WORKDIR/run.lock`` while a run (deep or
hand-crafted) lasts: a second run in the same workdir is refused with the first one's process
id and host; the lock dies with its process, so a killed run leaves none behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import filelock
import jax
import orbax.checkpoint as ocp
from absl import logging

COMPLETE_MARKER = "_CHECKPOINT_METADATA"  # orbax writes it into a step's folder when complete


def _move_aside(folder: Path, suffix: str, why: str) -> None:
    """Renames ``folder`` to ``folder.suffix`` (or ``folder.suffix-N``), with a warning."""
    target = folder.with_name(f"{folder.name}.{suffix}")
    count = 1
    while target.exists():
        count += 1
        target = folder.with_name(f"{folder.name}.{suffix}-{count}")
    if jax.process_index() == 0:
        folder.rename(target)
    logging.warning("checkpoint %s %s; moved to %s", folder, why, target.name)


def set_aside_incomplete_steps(directory: Path) -> None:
    """Moves every numbered folder of ``directory`` that is not a complete step aside."""
    if not directory.is_dir():
        return
    for folder in sorted(directory.iterdir()):
        if folder.name.isdigit() and folder.is_dir() and not (folder / COMPLETE_MARKER).exists():
            _move_aside(folder, "incomplete", f"is not a complete step (no {COMPLETE_MARKER})")


OWNER_FILE = "mejax_owner.txt"  # in a step's folder: what the run that saved it is (its config)


def set_aside_foreign_steps(directory: Path, valid_step: Callable[[int], bool] | None,
                            owner: str | None) -> None:  # fmt: skip
    """Moves every step of ``directory`` aside that ``valid_step`` rejects (a step the run's
    schedule never saves, e.g. a checkpoint of another run copied in as ``999``) or that records
    another ``owner`` (another run's checkpoint, at a step of this schedule)."""
    if not directory.is_dir():
        return
    for folder in sorted(directory.iterdir()):
        if not (folder.name.isdigit() and folder.is_dir()):
            continue
        if valid_step is not None and not valid_step(int(folder.name)):
            _move_aside(folder, "foreign", "is not a step of this run's schedule")
            continue
        recorded = folder / OWNER_FILE
        if owner is not None and recorded.exists() and recorded.read_text().strip() != owner:
            _move_aside(folder, "foreign", "was saved by a run of another config")


class Checkpointer:
    """Saves and restores training states in one directory.

    Args:
      directory: the checkpoints' folder.
      max_to_keep: the newest steps kept.
      valid_step: which steps the run saves (its schedule); any other step found is set aside
        as ``STEP.foreign`` before anything is restored.
      owner: what identifies the run (its config's hash): written into every step saved, and a
        step that records another is set aside as ``STEP.foreign``.
    """

    def __init__(self, directory: str | Path, max_to_keep: int = 2,
                 valid_step: Callable[[int], bool] | None = None,
                 owner: str | None = None):  # fmt: skip
        self._directory = Path(directory).absolute()
        self._options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True)
        self._owner = owner
        set_aside_incomplete_steps(self._directory)
        set_aside_foreign_steps(self._directory, valid_step, owner)
        self._manager = ocp.CheckpointManager(self._directory, options=self._options)

    def latest_step(self) -> int | None:
        """Step of the newest complete checkpoint, or None."""
        return self._manager.latest_step()

    def save(self, step: int, state) -> None:
        """Saves ``state`` as ``step`` and waits until it is on disk."""
        self._manager.save(step, args=ocp.args.StandardSave(state))
        self._manager.wait_until_finished()
        if self._owner is not None and jax.process_index() == 0:
            (self._directory / str(step) / OWNER_FILE).write_text(self._owner + "\n")

    def restore(self, target, step: int | None = None):
        """Restores the checkpoint of ``step`` into ``target``'s structure, shapes, dtypes and
        shardings; without ``step``, the latest step that restores (see the module docstring).

        Raises:
          RuntimeError: no step restores (naming the folders to remove).
        """
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
        if step is not None:
            return self._manager.restore(step, args=ocp.args.StandardRestore(abstract))
        failed = []
        while (latest := self.latest_step()) is not None:
            try:
                return self._manager.restore(latest, args=ocp.args.StandardRestore(abstract))
            except Exception as error:  # noqa: BLE001  (orbax and TensorStore raise many kinds)
                failed.append(f"{latest} ({type(error).__name__}: {str(error)[:200]})")
                self._set_aside(latest, f"does not restore ({type(error).__name__})")
        raise RuntimeError(
            f"no checkpoint in {self._directory} restores: {'; '.join(failed) or 'none left'}. "
            "They were moved aside as STEP.unreadable; remove the round's folder to start it "
            "again."
        )

    def _set_aside(self, step: int, why: str) -> None:
        self._manager.close()
        _move_aside(self._directory / str(step), "unreadable", why)
        self._manager = ocp.CheckpointManager(self._directory, options=self._options)

    def close(self) -> None:
        self._manager.close()


def restore_as_saved(directory: str | Path, step: int | None = None):
    """The checkpoint of ``step`` (default: latest) in ``directory``, in the structure it was
    saved in, without a target (for reading another run's weights; nothing is written).

    Raises:
      FileNotFoundError: ``directory`` holds no complete checkpoint.
    """
    directory = Path(directory).absolute()
    options = ocp.CheckpointManagerOptions(read_only=True, create=False)
    manager = ocp.CheckpointManager(directory, options=options)
    try:
        if step is None:
            complete = [
                s for s in manager.all_steps() if (directory / str(s) / COMPLETE_MARKER).exists()
            ]
            step = max(complete, default=None)
        if step is None:
            raise FileNotFoundError(f"{directory} holds no complete checkpoint")
        return manager.restore(step, args=ocp.args.StandardRestore())
    finally:
        manager.close()


# =============================================================================================
# The lock of a workdir
# =============================================================================================

LOCK_NAME = "run.lock"
HOLDER_NAME = "run.lock.json"


class WorkdirInUse(RuntimeError):
    """Another run holds the workdir's lock."""


def _read_holder(workdir: Path) -> dict:
    try:
        return json.loads((workdir / HOLDER_NAME).read_text())
    except (OSError, ValueError):
        return {}


def _refusal(workdir: Path) -> WorkdirInUse:
    holder = _read_holder(workdir)
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("since", 0)))
    who = f" (pid {holder.get('pid')} on host {holder.get('host')}, since {since})"
    return WorkdirInUse(
        f"{workdir} is in use by another run{who if holder else ''}. Wait for it to end or use "
        "another --workdir."
    )


def acquire_lock(workdir: str | Path) -> filelock.BaseFileLock:
    """Takes ``workdir``'s lock: an operating-system lock on ``run.lock`` (``filelock``), which
    the system releases when its process ends, however it ends -- no stale lock to take over, no
    race between two runs taking one over. The holder's pid, host and start time are written
    beside it (``run.lock.json``) for the refusal message.

    Raises:
      WorkdirInUse: another run (or this process, in another ``with`` block) holds it.
    """
    workdir = Path(workdir)
    lock = filelock.FileLock(workdir / LOCK_NAME, timeout=0, thread_local=False)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise _refusal(workdir) from None
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
    (workdir / HOLDER_NAME).write_text(json.dumps(holder))
    return lock


def release_lock(lock: filelock.BaseFileLock) -> None:
    """Releases a lock of :func:`acquire_lock` (``run.lock`` stays: removing a file others may
    be waiting on would let two runs hold two locks)."""
    with contextlib.suppress(FileNotFoundError):
        (Path(lock.lock_file).parent / HOLDER_NAME).unlink()
    lock.release()


@contextlib.contextmanager
def workdir_lock(workdir: str | Path):
    """Holds ``workdir``'s lock (process 0 of a job) for the duration of the ``with`` block."""
    if jax.process_index() != 0:
        yield
        return
    lock = acquire_lock(workdir)
    try:
        yield
    finally:
        release_lock(lock)
