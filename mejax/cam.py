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
pooling and W the ``fc`` kernel; it is averaged over the map's time steps, upsampled
smoothly (bicubic, :func:`overlay`; the title gives the map's own size) and drawn over the
frame with the largest change from the onset (the expression's peak in the model's input).
One PNG per clip and AU (``<clip>_AU<k>.png``) and one per clip with all AUs side by side
(``<clip>.png``), ``<clip>`` being ``<subject>_<clip>`` for a clip named with its subject; the
titles give the predicted probability and the label. The clips, and so the rounds' subjects,
are those the run trained and tested on: the task's sample rule
(:func:`mejax.paper_sets.apply`) and the clips taking part in the task.

**The maps of other models** (:func:`activation_maps`; ``python -m mejax.predict`` draws them
for a new clip). A CAM exists where the logits are a linear read-out of the last feature map
once its pooling is fixed: logit_k = b_k + sum_c W[c, k] sum_{t,h,w} P(t, h, w, c) F(t, h, w, c)
with pooling weights P summing to 1 over the map. The map of class (or AU) k is then

    CAM_k(h, w) = h' w' sum_t sum_c W[c, k] P(t, h, w, c) F(t, h, w, c)

(h' x w' the map's size), whose mean over the map plus b_k is the logit, exactly: Zhou et al.'s
definition where P is global average pooling, and each location's share of the logit where the
pooling chose its weights from the features. The models:

* ``sca_classifier``: P = 1 / (t h w) over the attention-weighted ``layer4``, W = ``fc``.
* ``i3d_classifier``, ``head="i3d"`` (I3D, I3DF): the (2, h, w) average pool (stride 1, VALID)
  and the mean over its windows are one weighted average, P(t) = (windows holding step t) /
  (windows x 2 h w), over the backbone's ``final_endpoint``; W = the 1x1x1 ``Conv3d_0c_1x1``.
* ``i3d_classifier``, ``head="stap"`` (STAP, STAPF): per time step and channel the max over the
  two-row bands picks one band, whose rows carry weight 1 / (2 w) (0 elsewhere); the 1x1x1 conv
  gives per-step logits, and the temporal pooling (eq. 1: softmax over time of the step margin,
  one set per class for ``softmax_per_class``, or the mean, or the max step) weights the steps.
  With those selections and weights held, the head is linear in F: the map is each location's
  share of the clip logit. The max and the softmax depend on F, so unlike a GAP model's map this
  one is not the gradient of the logit; it is the decomposition the head itself computes.
* ``resnet_classifier`` (ResNet rows on the apex frame or the flow), ``micro_attention`` (the
  ReLU of ``last_bn``): global average pooling and ``fc``.

Models without one: ``part_mer`` (a tanh embedding of the pooled parts before the classifier)
and ``au_gcn`` (Dual-Inception's fully connected layers, the AU attention and the graph
convolution): no linear read-out of a spatial map, so no CAM (:func:`cam_support` says why).
For a one-vs-rest AU model (two logits, absent / present) the AU's map is present minus absent,
the map of its log-odds.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
from absl import app, flags

from mejax import (
    checkpointing,
    experiment,
    input_pipeline,
    models,
    optim,
    paper_sets,
    protocols,
    sharding,
    train,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Model names (``config.model.name``) with a CAM, and why the others have none.
CAM_MODELS = (
    "sca_classifier", "sca_classifier_tiny", "i3d_classifier", "i3d_classifier_tiny",
    "resnet_classifier", "resnet_classifier_tiny", "micro_attention", "micro_attention_tiny",
)  # fmt: skip
NO_CAM = {
    "part_mer": "its pooled part features pass a tanh embedding before the classifier",
    "au_gcn": "its flow features pass fully connected layers, the AU attention and a graph "
    "convolution before the classifier",
}


def cam_support(model_config) -> str:
    """``""`` where the model of ``model_config`` has class-activation maps, else the reason
    (``"not supported by part_mer: ..."``)."""
    name = model_config["name"]
    if name in CAM_MODELS:
        return ""
    why = NO_CAM.get(name.removesuffix("_tiny"), "a model mejax.cam does not know")
    return (
        f"not supported by {name}: {why}; a class-activation map needs the last feature map "
        "pooled and read out by one linear layer"
    )


def _captured(state, name: str):
    return state["intermediates"][name]["__call__"][0]


def _stap_maps(features, kernel, bias, method: str, rows: int = 2):
    """(B, K, h, w) maps of the STAP head (see the module docstring) on (B, T, h, w, C)."""
    from mejax.models import stap

    height = features.shape[2]
    rows = min(rows, height)
    bands = stap.roi_candidates(features, rows)  # (B, T, R, C), the head's own band averages
    chosen = jnp.argmax(bands, axis=2)  # (B, T, C): the band each channel's max takes
    row = jnp.arange(height)[None, None, :, None]
    in_band = (row >= chosen[:, :, None]) & (row < chosen[:, :, None] + rows)  # (B, T, h, C)
    step = jnp.einsum("bthwc,bthc,ck->btkhw", features, in_band.astype(features.dtype), kernel)
    step = step * (height / rows)  # band weight 1 / (rows w), times the map's h w
    step_logits = jnp.einsum("btc,ck->btk", jnp.max(bands, axis=2), kernel) + bias
    weights = stap.temporal_weights(step_logits, method)  # (B, T, K), or (B, T) for both
    weights = jnp.broadcast_to(
        weights[..., None] if weights.ndim == 2 else weights, step_logits.shape
    )
    return jnp.einsum("btk,btkhw->bkhw", weights, step)


def activation_maps(model, variables, inputs) -> dict:
    """Class-activation maps of a model with one (see the module docstring).

    Args:
      model: a model of :data:`CAM_MODELS` (``mejax.models.build``).
      variables: its ``params`` and ``batch_stats``.
      inputs: the normalised model input, (B, T, H, W, 3) clips or (B, H, W, C) images / flow.

    Returns:
      ``{"maps": (B, K, h, w), "logits": (B, K), "bias": (K,), "outputs": the model's output}``
      with ``maps.mean((2, 3)) + bias == logits`` (float32 rounding aside); (h, w) is the last
      feature map's size. Jit-able.

    Raises:
      ValueError: a model without CAMs.
    """
    from mejax.models import I3DClassifier, MicroAttentionNet, ResNetClassifier, SCAClassifier

    params = variables["params"]
    if isinstance(model, SCAClassifier):
        outputs, state = model.apply(variables, inputs, train=False, mutable=["intermediates"])
        features, dense = state["intermediates"]["features"][0], params["fc"]
    elif isinstance(model, (I3DClassifier, ResNetClassifier, MicroAttentionNet)):
        name = {I3DClassifier: "I3D", ResNetClassifier: "backbone"}.get(type(model), "last_bn")
        outputs, state = model.apply(
            variables, inputs, train=False, mutable=["intermediates"],
            capture_intermediates=lambda module, method: method == "__call__"
            and module.name == name,
        )  # fmt: skip
        if isinstance(model, I3DClassifier):
            features = _captured(state, name)[model.final_endpoint]
            dense = params["Logits"]["Conv3d_0c_1x1"]
        elif isinstance(model, ResNetClassifier):
            features, dense = _captured(state, name)["layer4"], params["fc"]
        else:
            features, dense = jax.nn.relu(_captured(state, name)), params["fc"]
    else:
        raise ValueError(f"{type(model).__name__}: no class-activation maps (see mejax.cam)")
    features = features.astype(jnp.float32)
    if features.ndim == 4:  # (B, h, w, C) of a 2D model: one time step
        features = features[:, None]
    kernel, bias = dense["kernel"].astype(jnp.float32), dense["bias"].astype(jnp.float32)
    steps = features.shape[1]
    if isinstance(model, I3DClassifier) and model.head == "stap":
        maps = _stap_maps(features, kernel, bias, model.temporal_pooling)
    else:
        if isinstance(model, I3DClassifier):  # the (2, h, w) windows, stride 1, then their mean
            window = min(2, steps)
            windows = steps - window + 1
            held = jnp.convolve(jnp.ones(windows), jnp.ones(window))  # windows holding step t
            weights = held / (windows * window)
        else:  # global average pooling
            weights = jnp.full(steps, 1.0 / steps)
        maps = jnp.einsum("bthwc,t,ck->bkhw", features, weights, kernel)
    logits = outputs["logits"] if isinstance(outputs, dict) else outputs
    return {"maps": maps, "logits": logits, "bias": bias, "outputs": outputs}


def class_activation_maps(model, variables, clips: jnp.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(B, K, h, w) CAMs (averaged over the map's time steps) and (B, K) logits of model
    inputs ``clips`` (B, T, H, W, 3) (:func:`activation_maps` of an SCA model)."""
    found = activation_maps(model, variables, clips)
    return np.asarray(found["maps"]), np.asarray(found["logits"])


def peak_frame(clip: np.ndarray) -> np.ndarray:
    """The frame of a (T, H, W, 3) uint8 clip that differs most from its first (onset) frame."""
    change = np.abs(clip.astype(np.float32) - clip[:1]).mean(axis=(1, 2, 3))
    return clip[int(np.argmax(change))]


MIN_SHOWN = 224  # pixels: a face smaller than this is shown enlarged, with its maps


def overlay(ax, frame: np.ndarray, cam: np.ndarray, title: str, mask=None,
            min_size: int = MIN_SHOWN) -> tuple[int, int]:  # fmt: skip
    """Draws ``frame`` with ``cam`` over it: the frame enlarged (bicubic) to at least
    ``min_size`` pixels a side, the map upsampled smoothly (bicubic) to the same size and
    min-max normalised, drawn with transparency, only where ``mask`` (an (H, W) weight in
    [0, 1] at the frame's size, e.g. the face) is. The title gets the map's own size ("map
    3x3"): however smooth it is drawn, a map holds no more than its grid. Returns the
    (height, width) the frame and the map are shown at."""
    height, width = frame.shape[:2]
    scale = max(1.0, min_size / min(height, width))
    shown = (int(round(height * scale)), int(round(width * scale)))
    if shown != (height, width):
        frame = cv2.resize(frame, shown[::-1], interpolation=cv2.INTER_CUBIC)
    grid = cam.shape
    cam = cv2.resize(cam.astype(np.float32), shown[::-1], interpolation=cv2.INTER_CUBIC)
    span = float(cam.max() - cam.min())
    # A flat map (e.g. a 1 x 1 layer4 map) is drawn flat, not as its rounding noise stretched.
    flat = span <= 1e-6 * max(float(np.abs(cam).max()), 1e-12)
    cam = np.zeros_like(cam) if flat else (cam - cam.min()) / span
    alpha = np.full(shown, 0.45, np.float32)
    if mask is not None:
        mask = cv2.resize(np.asarray(mask, np.float32), shown[::-1], interpolation=cv2.INTER_LINEAR)
        alpha *= np.clip(mask, 0.0, 1.0)
    colours = plt.get_cmap("jet")(cam)
    colours[..., 3] = alpha
    ax.imshow(frame)
    ax.imshow(colours)
    ax.set_title(f"{title}\nmap {grid[0]}\u00d7{grid[1]}", fontsize=9)
    ax.axis("off")
    return shown


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
    init = train.make_steps(
        model, task, tx, sharding.data_mesh(), task.num_models, config.input
    ).init
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
    config, task = experiment.open_run(workdir)
    if config.model.name not in ("sca_classifier", "sca_classifier_tiny"):
        raise ValueError(
            f"{workdir}: model {config.model.name!r}; python -m mejax.cam draws the held-out "
            "clips of an SCA run (configs/sca.py); python -m mejax.predict draws the maps of "
            "every model that has them on a clip"
        )
    out = Path(out) if out else workdir / "cam"
    out.mkdir(parents=True, exist_ok=True)
    model = models.build(config.model, task.outputs_per_model)
    # The clips the run used (its sample rule, the clips with targets), so that the rounds
    # deal the same subjects as in training.
    data, _ = task.take_part(paper_sets.apply(input_pipeline.load(config), config.task))
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
