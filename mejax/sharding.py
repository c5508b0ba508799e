"""Data parallelism through shardings: a 1-D ``data`` mesh over every device of every host.

Parameters and optimizer state are replicated; batches are split along their first axis. The
same code runs on one CPU, on 8 fake CPU devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=8``), a GPU or a TPU pod; with several
hosts every process computes the same global batch and hands JAX its own slice.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec


def data_mesh() -> jax.sharding.Mesh:
    """Mesh with one ``data`` axis over all devices."""
    # Auto axes: XLA propagates the batch sharding through the model (no annotations needed).
    return jax.make_mesh((jax.device_count(),), ("data",), axis_types=(jax.sharding.AxisType.Auto,))


def replicated(mesh: jax.sharding.Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


def batch_sharded(mesh: jax.sharding.Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec("data"))


def check_batch_size(batch_size: int, name: str = "train.batch_size") -> None:
    """Raises ValueError unless ``batch_size`` splits evenly over the devices."""
    if batch_size % jax.device_count():
        raise ValueError(
            f"{name}={batch_size} must be a multiple of the {jax.device_count()} devices"
        )


def global_batch(mesh: jax.sharding.Mesh, array: np.ndarray) -> jax.Array:
    """Global array, sharded over ``data``, from the full batch every process computed."""
    per_process = len(array) // jax.process_count()
    start = jax.process_index() * per_process
    local = array[start : start + per_process]
    return jax.make_array_from_process_local_data(batch_sharded(mesh), local, array.shape)
