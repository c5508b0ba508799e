"""Evaluation of a deep model on a side of a round: its clips, its outputs, its scores.

A round's validation side selects each model (:meth:`mejax.tasks.ClipTask.validation_scores`: its
AU's F1, the average F1 of a multi-task model, the UF1 of a recognition model); its test side
is predicted once, by the selected models, into the round's test record
(:meth:`mejax.tasks.ClipTask.record`). The validation and test clips are centre-cropped
(``input.crop_size``) and, with augmented flows (``input.flow_augment``), read as each clip's
plain flow; the training side is read in place by the training loop (:mod:`mejax.train`).
"""

from __future__ import annotations

import jax
import numpy as np

from mejax import input_pipeline, protocols, sharding


def side(data, targets: np.ndarray, round_: protocols.Round, name: str, input_config):
    """(clips, targets) of the ``validation`` or ``test`` side of a round, as models see them."""
    index = round_.indices(name, data)
    clips, targets = data.take(index), targets[index]
    crop = input_config.get("crop_size", 0)
    if crop and len(clips):
        clips.inputs = input_pipeline.center_crop(clips.inputs, crop)
    if input_config.get("flow_augment", ""):
        clips.inputs, _ = input_pipeline.augmented_side(clips.inputs, targets, train=False)
    return clips, targets


def outputs(predict, params, batch_stats, inputs: np.ndarray, mesh, batch_size: int):
    """The stacked models' outputs (M, N, ...) on ``inputs``, in batches of ``batch_size``."""
    chunks = []
    for batch, real in input_pipeline.eval_batches(inputs, batch_size):
        found = predict(params, batch_stats, sharding.global_batch(mesh, batch))
        chunks.append(jax.tree.map(lambda x, r=real: np.asarray(x)[:, :r], found))
    return jax.tree.map(lambda *xs: np.concatenate(xs, axis=1), *chunks)


def validation_scores(task, predict, variables: dict, clips, targets, mesh, batch_size: int):
    """((M,) selection score of each model, scalars to log) of ``variables`` on a validation
    side."""
    found = outputs(predict, variables["params"], variables["batch_stats"], clips.inputs, mesh,
                    batch_size)  # fmt: skip
    return task.validation_scores(found, targets)


def test_record(task, predict, selection: dict, clips, targets, train_targets, mesh,
                batch_size: int) -> dict:  # fmt: skip
    """The task's test record of a round's test side, predicted by the selected models (an
    empty record for a round without a test side)."""
    if not len(clips):
        return {"names": np.zeros(0, str), "labels": np.zeros(0, np.int64)}
    found = outputs(predict, selection["params"], selection["batch_stats"], clips.inputs, mesh,
                    batch_size)  # fmt: skip
    return task.record(found, targets, clips, train_targets)
