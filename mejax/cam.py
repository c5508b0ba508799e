"""Class-activation maps of a trained SCA model (Li, Huang, Zhao, Neurocomputing 2021, Fig. 6).

    python -m mejax.cam --workdir=runs/sca --clips=sub03_ep02,sub07_ep05 [--out=runs/sca/cam]
    python -m mejax.cam --workdir=runs/sca_casme2 --clips=sub01/EP02_01f

A clip is named as the database names it; where the name alone is not unique (CASME II numbers
its clips per subject: ``EP02_01f`` is a clip of several subjects) it is given as
``<subject>/<clip>``. The clip's subject comes from the run's clip set, never from its name.

For each clip, the model of the round that tested it (selected on that round's validation
subjects, read from the round's last checkpoint) gives, per AU k, the map

    CAM_k(t, h, w) = sum_c W[c, k] * F(t, h, w, c)

of Zhou et al. (CVPR 2016), with F the attention-weighted ``layer4`` map before global average
pooling and W the ``fc`` kernel; it is averaged over the map's time steps, upsampled to the
frame and drawn over the frame with the largest change from the onset (the expression's peak
in the model's input). One PNG per clip and AU (``<clip>_AU<k>.png``) and one per clip with all
AUs side by side (``<clip>.png``), ``<clip>`` being ``<subject>_<clip>`` for a clip named with its
subject; the titles give the predicted probability and the label. The clips, and so the rounds'
subjects, are those the run trained and tested on: the task's sample rule
(:func:`mejax.paper_sets.select`) and the clips taking part in the task.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import jax
import jax.numpy as jnp
import matplotlib
import ml_collections
import numpy as np
from absl import app, flags

from mejax import (
    checkpointing,
    input_pipeline,
    models,
    optim,
    paper_sets,
    protocols,
    sharding,
    tasks,
    train,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def class_activation_maps(model, variables, clips: jnp.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(B, K, h, w) CAMs (averaged over the map's time steps) and (B, K) logits of model
    inputs ``clips`` (B, T, H, W, 3)."""
    logits, state = model.apply(variables, clips, train=False, mutable=["intermediates"])
    features = state["intermediates"]["features"][0]  # (B, t, h, w, C)
    kernel = variables["params"]["fc"]["kernel"]  # (C, K)
    maps = jnp.einsum("bthwc,ck->bkhw", features, kernel) / features.shape[1]
    return np.asarray(maps), np.asarray(logits)


def peak_frame(clip: np.ndarray) -> np.ndarray:
    """The frame of a (T, H, W, 3) uint8 clip that differs most from its first (onset) frame."""
    change = np.abs(clip.astype(np.float32) - clip[:1]).mean(axis=(1, 2, 3))
    return clip[int(np.argmax(change))]


def overlay(ax, frame: np.ndarray, cam: np.ndarray, title: str) -> None:
    """Draws ``frame`` with ``cam`` (min-max normalised, upsampled) over it."""
    size = frame.shape[:2]
    cam = cv2.resize(cam.astype(np.float32), size[::-1], interpolation=cv2.INTER_LINEAR)
    span = float(cam.max() - cam.min())
    # A flat map (e.g. a 1 x 1 layer4 map) is drawn flat, not as its rounding noise stretched.
    flat = span <= 1e-6 * max(float(np.abs(cam).max()), 1e-12)
    cam = np.zeros_like(cam) if flat else (cam - cam.min()) / span
    ax.imshow(frame)
    ax.imshow(cam, cmap="jet", alpha=0.45, vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def find_clip(clips, name: str) -> tuple[int, str]:
    """The index of the clip ``name`` in a clip set, and the stem of its PNG files.

    Args:
      clips: the run's :class:`~mejax.clipset.ClipSet`.
      name: a clip name (``sub03_ep02``, ``006_1_2``), or ``<subject>/<clip>``
        (``sub01/EP02_01f``), needed where several subjects have a clip of that name.

    Raises:
      ValueError: no such clip, or a bare name that several subjects' clips have (listing
        them as ``<subject>/<clip>``).
    """
    subject, _, clip = name.rpartition("/")
    matches = [
        i
        for i, (n, s) in enumerate(zip(clips.names, clips.subjects, strict=True))
        if n == clip and (not subject or s == subject)
    ]
    if not matches:
        raise ValueError(f"clip {name!r} is not a clip of the run")
    if len(matches) > 1:
        choices = ", ".join(f"{clips.subjects[i]}/{clip}" for i in matches)
        raise ValueError(f"clip {name!r} is a clip of several subjects: name one of {choices}")
    index = matches[0]
    return index, f"{clips.subjects[index]}_{clip}" if subject else clip


def _restore_selection(config, model, task, round_dir: Path, example_clips):
    """The validation-selected variables of a round, from its last checkpoint."""
    checkpointer = checkpointing.Checkpointer(round_dir / "checkpoints")
    if checkpointer.latest_step() is None:
        raise FileNotFoundError(f"{round_dir / 'checkpoints'}: no checkpoint to read the model")
    tx = optim.make_optimizer(config.optimizer)
    init, _, _ = train.make_steps(
        model, task, tx, sharding.data_mesh(), task.num_models, config.input
    )
    state = init(jax.random.split(jax.random.PRNGKey(0), task.num_models), example_clips)
    selection = {
        "params": state["params"],
        "batch_stats": state["batch_stats"],
        "score": np.zeros(task.num_models),
        "step": np.zeros(task.num_models, np.int32),
    }
    restored = checkpointer.restore({"state": state, "selection": selection})["selection"]
    checkpointer.close()
    return jax.tree.map(lambda x: x[0], {k: restored[k] for k in ("params", "batch_stats")})


def write_cams(workdir: str | Path, clip_names: list[str], out: str | Path | None = None) -> list:
    """Writes the CAM PNGs of ``clip_names`` for the run in ``workdir``; returns their paths."""
    workdir = Path(workdir)
    config = ml_collections.ConfigDict(json.loads((workdir / "config.json").read_text()))
    if config.model.name not in ("sca_classifier", "sca_classifier_tiny"):
        raise ValueError(
            f"{workdir}: model {config.model.name!r}; class-activation maps need the global "
            "average pooling + fc head of an SCA model (configs/sca.py)"
        )
    out = Path(out) if out else workdir / "cam"
    out.mkdir(parents=True, exist_ok=True)
    task = tasks.build(config.task)
    model = models.build(config.model, task.outputs_per_model)
    # The clips the run used (its sample rule, the clips with targets), so that the rounds
    # deal the same subjects as in training.
    data, _ = task.take_part(paper_sets.select(input_pipeline.load(config), config.task))
    rounds = protocols.build(config.protocol, data, config.seed)
    crop = config.input.get("crop_size", 0)
    round_variables = {}  # each round's model is read once, however many clips ask
    written = []
    for clip_name in clip_names:
        try:
            index, name = find_clip(data, clip_name)
        except ValueError as error:
            raise ValueError(f"{config.dataset.name}: {error}") from None
        tested = [r for r in rounds if index in r.indices("test", data)]
        if not tested:
            raise ValueError(
                f"clip {clip_name!r}: its subject {data.subjects[index]!r} is in no test fold of "
                f"the run's rounds ({', '.join(r.name for r in rounds)}); CAMs are drawn for "
                "held-out clips only"
            )
        clip = data.inputs[index : index + 1]
        if crop:
            clip = input_pipeline.center_crop(clip, crop)
        round_name = tested[0].name
        if round_name not in round_variables:
            round_variables[round_name] = _restore_selection(
                config, model, task, workdir / round_name, clip
            )
        variables = round_variables[round_name]
        inputs = input_pipeline.normalize(jnp.asarray(clip), config.input)
        cams, logits = class_activation_maps(model, variables, inputs)
        probabilities = np.asarray(jax.nn.sigmoid(logits[0]))
        labels = task.targets(data.take([index]))[0]
        frame = peak_frame(clip[0])
        figure, axes = plt.subplots(1, len(task.aus), figsize=(3 * len(task.aus), 3.3))
        for k, au in enumerate(task.names):
            title = f"{au}: p={probabilities[k]:.2f}, label {labels[k]}"
            overlay(np.atleast_1d(axes)[k], frame, cams[0, k], title)
            single, ax = plt.subplots(figsize=(3, 3.3))
            overlay(ax, frame, cams[0, k], f"{name} {title}")
            path = out / f"{name}_{au}.png"
            single.savefig(path, dpi=100, bbox_inches="tight")
            plt.close(single)
            written.append(path)
        figure.suptitle(f"{name} ({round_name} test clip)")
        figure.savefig(out / f"{name}.png", dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(out / f"{name}.png")
    return written


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    for path in write_cams(flags.FLAGS.workdir, flags.FLAGS.clips, flags.FLAGS.out):
        print(path)


if __name__ == "__main__":
    # Defined here, not at import: mejax.main defines --workdir too, and both modules are
    # imported into one process by the tests.
    flags.DEFINE_string("workdir", None, "Workdir of a finished SCA run.")
    flags.DEFINE_list(
        "clips", None, "Clip names, e.g. sub03_ep02,sub07_ep05, or sub01/EP02_01f (CASME II)."
    )
    flags.DEFINE_string("out", None, "Output folder (default: WORKDIR/cam).")
    flags.mark_flags_as_required(["workdir", "clips"])
    app.run(main)
