"""Checkpoints with orbax (the only module that imports it).

A checkpoint is the whole training state pytree (parameters, BatchNorm statistics, optimizer
state, step, RNG keys, and the model-selection record). Orbax writes each step to a temporary
directory and renames it when complete, so a run killed mid-save leaves the previous checkpoint
intact and ``latest_step`` never points at a partial one.
"""

from __future__ import annotations

from pathlib import Path

import jax
import orbax.checkpoint as ocp


class Checkpointer:
    """Saves and restores training states in one directory."""

    def __init__(self, directory: str | Path, max_to_keep: int = 2):
        options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True)
        self._manager = ocp.CheckpointManager(Path(directory).absolute(), options=options)

    def latest_step(self) -> int | None:
        """Step of the newest complete checkpoint, or None."""
        return self._manager.latest_step()

    def save(self, step: int, state) -> None:
        """Saves ``state`` as ``step`` and waits until it is on disk."""
        self._manager.save(step, args=ocp.args.StandardSave(state))
        self._manager.wait_until_finished()

    def restore(self, target, step: int | None = None):
        """Restores the checkpoint of ``step`` (default: latest) into ``target``'s structure,
        shapes, dtypes and shardings."""
        step = self.latest_step() if step is None else step
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
        return self._manager.restore(step, args=ocp.args.StandardRestore(abstract))

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
        step = manager.latest_step() if step is None else step
        if step is None:
            raise FileNotFoundError(f"{directory} holds no complete checkpoint")
        return manager.restore(step, args=ocp.args.StandardRestore())
    finally:
        manager.close()
