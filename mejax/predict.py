"""Applies a finished run to a new clip: ``python -m mejax.predict --workdir=RUN --video=CLIP``.

``CLIP`` is a video file or a folder of frames (read in the natural order of their names). The
steps:

1. **Face.** MTCNN (Zhang et al., IEEE SPL 2016; the ``mtcnn`` package, MIT, which ships its
   three networks' weights and runs them on the TensorFlow mejax already has: nothing is
   downloaded) finds the face and its eyes on a few frames spread over the clip. The clip is
   rotated about the eyes' midpoint so that they are level, and every frame is cropped with one
   square box (the median detection grown by ``--margin`` on each side), as a database's cropped
   faces are: one box per clip, so that the box adds no motion.
2. **Phases.** ``--onset`` / ``--offset`` default to the first and last frames; without
   ``--apex`` the apex is the frame that differs most from the onset frame (mean absolute grey
   difference of the aligned crops), and the output says so.
3. **Motion.** :func:`clip_motion` measures the face's change from onset to apex (the 99th
   percentile of the absolute grey difference of the two crops at 32 x 32, a global brightness
   change removed).
   A run records the same measure on its databases' clips (annotated onset to apex) when it
   starts, in ``WORKDIR/motion.json`` (lowest, 5th percentile, median); a run trained before
   runs recorded it reads its database now, where it is built, else the comparison is skipped
   and the output says why. A clip that moves less than the training clips' 5th percentile (a
   static face, whose "apex" is compression noise) gets the warning "no micro-expression
   motion found: ...", and its apex is marked as not found from motion (``apex_found``).
4. **Input.** The crops become the model input exactly as the run's clips did
   (``config.json``'s ``input`` block: :func:`mejax.input_pipeline.example_input` for raw
   frames, the cached variants' own transforms for TIM, apex and flow inputs, the centre crop of
   evaluation, the normalisation inside the model call).
5. **Models.** Each round's selected models (``WORKDIR/<round>/checkpoints``: the parameters
   that scored best on validation, as the run tested them) are applied; the probabilities are
   averaged over the rounds, or taken from ``--round=NAME``.
6. **Output.** ``<name>.json`` (per-AU probabilities of an AU run, class probabilities of a
   recognition run, per round and averaged, with the face box, angle, phases and motion,
   ``trained_on`` (the run's databases) and ``warnings``, which the command prints as
   ``WARNING: ...`` lines: a run trained on the synthetic database (``synth_me``) is said to be
   one, since its probabilities on a real face do not mean what they mean on its synthetic
   test clips; a clip without motion, above) and
   ``<name>.png`` (the face strip at onset, apex and offset with a bar per AU or class) in
   ``--output_dir``; for a model with class-activation maps, ``<name>_cam.png`` too.
7. **Class-activation maps** (Zhou et al., CVPR 2016; SCA's Fig. 6), where the model reads its
   logits linearly from a pooled last feature map (:mod:`mejax.cam`: SCA, I3D and I3DF, STAP and
   STAPF, the ResNet rows, Micro-Attention): ``<name>_cam.png`` holds one map per AU (or class)
   over the apex crop as the model saw it (the central ``crop_size / image_size`` of it where the
   run crops), shown at least 224 pixels a side, each map upsampled to it (bicubic), stretched
   to its own range and drawn inside the face only (an ellipse in the detected face box: a
   3 x 3 map spreads over the background as much as over the face), titled with its
   probability and its own size ("map 3x3"). The JSON's ``cam`` block has the file, that region
   (``[x, y, side]`` in the aligned crop), the map size (its raw grid), the size it is shown at
   and the maps themselves, each plus its bias so that a map's mean is the logit (of the AU's
   presence: present minus absent for a one-vs-rest model; of the class), averaged over the
   rounds' models like the probabilities (the map of their mean logit). For the other models
   (``part_mer``, ``au_gcn``) ``cam`` says why there is none: ``"not supported by part_mer:
   ..."``.

Errors name what went wrong: an unreadable video or frame folder, no face on the probed frames
(listed), a workdir without a finished round's checkpoints.
"""

from __future__ import annotations

import functools
import json
import re
import textwrap
from pathlib import Path

import numpy as np

from mejax import config_checks, console, reporting

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


class PredictError(Exception):
    """A problem with the clip or the run, in words for the person who gave them."""


# =============================================================================================
# The clip
# =============================================================================================


def frame_order(path: Path):
    """Sort key of a frame file: the numbers in its name as numbers (img2 before img10)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def read_frames(path: str | Path) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB frames of a video file or a folder of images.

    Raises:
      PredictError: the path does not exist, or no frame can be read from it.
    """
    import cv2

    path = Path(path)
    if not path.exists():
        raise PredictError(f"{path}: no such video file or frame folder")
    if path.is_dir():
        files = sorted(
            (p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=frame_order
        )
        if not files:
            raise PredictError(
                f"{path}: a folder without image files ({', '.join(IMAGE_SUFFIXES)})"
            )
        frames = []
        for file in files:
            image = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if image is None:
                raise PredictError(f"{file}: unreadable image")
            frames.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        shapes = {f.shape for f in frames}
        if len(shapes) > 1:
            raise PredictError(f"{path}: frames of different sizes {sorted(shapes)}")
        return np.stack(frames)
    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
        while capture.isOpened():
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
    if not frames:
        raise PredictError(f"{path}: unreadable video (no frame could be decoded)")
    return np.stack(frames)


# =============================================================================================
# The face
# =============================================================================================


def locate_face(frames: np.ndarray, detector=None, margin: float = 0.2):
    """The clip's aligned face crops and where they are: MTCNN (or ``detector``) on a few
    probed frames, one square box per clip (:func:`mejax.preprocess.face.face_track` and
    :func:`~mejax.preprocess.face.align_and_crop`, which the builders' face crops use too).

    Returns:
      ((T, S, S, 3) uint8 crops, {"box": [x, y, side], "angle": degrees}, the face track).

    Raises:
      PredictError: no face on the probed frames (listed), or no ``mtcnn`` package.
    """
    from mejax.preprocess import face

    try:
        track = face.face_track(frames, detector or face.mtcnn_detector())
    except (face.NoFaceError, ImportError) as error:
        raise PredictError(str(error)) from error
    crops, where = face.align_and_crop(frames, track, margin)
    return crops, where, track


def face_mask(track: dict, where: dict, side: int) -> np.ndarray:
    """(side, side) float32 in [0, 1]: the ellipse inscribed in the detected face box (grown by
    a tenth, its edge feathered), in the aligned crop of :func:`locate_face`; where the
    class-activation maps are drawn."""
    import cv2

    left, right = track["eyes"]
    centre = ((left[0] + right[0]) / 2, (left[1] + right[1]) / 2)
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), track["angle"], 1.0)
    x, y, w, h = (float(v) for v in track["box"])
    cx, cy = matrix @ np.array([x + w / 2, y + h / 2, 1.0])
    x0, y0, _ = where["box"]
    rows, columns = np.mgrid[0:side, 0:side].astype(np.float32) + 0.5
    radius = np.hypot((columns - (cx - x0)) / (0.55 * w), (rows - (cy - y0)) / (0.55 * h))
    return np.clip((1.0 - radius) / 0.1 + 0.5, 0.0, 1.0).astype(np.float32)


def find_apex(crops: np.ndarray, onset: int, offset: int) -> int:
    """The frame of onset..offset that differs most from the onset frame (mean absolute
    difference of the grey crops)."""
    grey = crops[onset : offset + 1].astype(np.float32).mean(axis=-1)
    change = np.abs(grey - grey[:1]).mean(axis=(1, 2))
    return onset + int(np.argmax(change))


# =============================================================================================
# Motion: is there an expression in the clip at all?
# =============================================================================================

MOTION_FILE = "motion.json"
MOTION_SIZE = 32
MOTION_ABOUT = (
    "99th percentile of the absolute grey-level difference (0-255) between the onset and the "
    f"apex frame, each face crop converted to grey and resized to {MOTION_SIZE} x {MOTION_SIZE} "
    "(area averaging), the difference's mean (a global brightness change) removed"
)


def clip_motion(onset_frame: np.ndarray, apex_frame: np.ndarray) -> float:
    """How much a face moves from ``onset_frame`` to ``apex_frame`` (face crops, (H, W, 3) or
    (H, W) uint8): :data:`MOTION_ABOUT`. Cheap, the same at any crop size, and blind to a
    global brightness change. The area averaging to 32 x 32 smooths a video's compression noise
    away faster than an expression's local change, which the 99th percentile (the largest
    changes, about ten of the 1024 pixels) keeps; on a still photograph saved as an MPEG-4
    video the noise measures about half of the lowest synth_me clip's expression. A head
    movement counts as motion, so a low value says that nothing moved, a high one not that
    an expression did."""
    import cv2

    def grey(frame):
        frame = np.asarray(frame, np.float32)
        if frame.ndim == 3:
            frame = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        size = (MOTION_SIZE, MOTION_SIZE)
        return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)

    difference = grey(apex_frame) - grey(onset_frame)
    return float(np.percentile(np.abs(difference - difference.mean()), 99))


def database_motion(config) -> dict:
    """:func:`clip_motion` of every clip of the run's databases (``config.dataset`` and its
    ``extra``: the raw clips, onset to annotated apex) summarised: ``{"clips", "lowest",
    "p5", "median", "databases", "measure"}``. Reads built databases only (nothing is built).

    Raises:
      PredictError: a database is not built, or has no clip with an annotated onset and apex.
    """
    import tensorflow_datasets as tfds

    from mejax import input_pipeline
    from mejax.datasets.long_video import decode

    values, names = [], []
    for block in input_pipeline.dataset_blocks(config.dataset):
        try:
            builder, _ = input_pipeline.unprepared_builder(block)
        except ValueError as error:
            raise PredictError(str(error)) from None
        if not builder.is_prepared():
            raise PredictError(f"{block.name} is not built in {builder.data_dir}")
        names.append(block.name)
        splits = "+".join(input_pipeline.subjects(builder))
        dataset = builder.as_dataset(  # frames left encoded: two of each clip are decoded
            split=splits, shuffle_files=False, decoders={"frames": tfds.decode.SkipDecoding()}
        )
        for example in tfds.as_numpy(dataset):
            onset, apex, frames = int(example["onset"]), int(example["apex"]), example["frames"]
            if 0 <= onset < apex < len(frames):
                values.append(clip_motion(decode(frames[onset]), decode(frames[apex])))
    if not values:
        raise PredictError(f"{', '.join(names)}: no clip with an annotated onset and apex")
    values = np.asarray(values)
    return {
        "clips": int(len(values)),
        "lowest": round(float(values.min()), 4),
        "p5": round(float(np.percentile(values, 5)), 4),
        "median": round(float(np.median(values)), 4),
        "databases": names,
        "measure": MOTION_ABOUT,
    }


def record_training_motion(config, workdir) -> None:
    """Writes ``WORKDIR/motion.json`` (:func:`database_motion` of the run's clips), once per
    run, for predict to compare a new clip's motion with; a database that cannot be read is
    logged and skipped (predict then reads the database itself, or says it cannot compare)."""
    from absl import logging

    path = Path(workdir) / MOTION_FILE
    if path.exists():
        return
    try:
        reporting.write_text(path, json.dumps(database_motion(config), indent=2))
    except PredictError as error:
        logging.info("no %s: %s", MOTION_FILE, error)


def training_motion(config, workdir) -> tuple[dict | None, str]:
    """(the training clips' motion, where it comes from) of a run: its ``motion.json``, or for
    a run without one (trained before runs recorded it) its databases read now; (None, why)
    where neither can be read."""
    path = Path(workdir) / MOTION_FILE
    if path.is_file():
        try:
            return json.loads(path.read_text()), f"the run's {MOTION_FILE}"
        except (OSError, json.JSONDecodeError) as error:
            return None, f"{path}: unreadable ({error})"
    try:
        return database_motion(config), f"{', '.join(config_database_names(config))}, read now"
    except PredictError as error:
        return None, f"the run has no {MOTION_FILE} and its database cannot be read: {error}"


def config_database_names(config) -> list[str]:
    """The names of the databases a run trained on: ``dataset.name`` and ``dataset.extra``."""
    return [config.dataset.name, *config.dataset.get("extra", ())]


def phases(num_frames: int, onset=None, apex=None, offset=None, crops=None):
    """(onset, apex, offset, how the apex was found), checked against the clip's length."""
    onset = 0 if onset is None else int(onset)
    offset = num_frames - 1 if offset is None else int(offset)
    if not 0 <= onset < offset < num_frames:
        raise PredictError(
            f"onset {onset} and offset {offset} must satisfy 0 <= onset < offset < {num_frames} "
            "(the clip's frames)"
        )
    if apex is None:
        apex = find_apex(crops, onset, offset)
        how = f"frame {apex}: the largest change from the onset frame {onset} (no --apex given)"
    else:
        apex = int(apex)
        if not onset <= apex <= offset:
            raise PredictError(f"apex {apex} is not between onset {onset} and offset {offset}")
        how = f"frame {apex}: given"
    return onset, apex, offset, how


# =============================================================================================
# The run
# =============================================================================================


def read_run(workdir: str | Path, round_name: str = ""):
    """(config, task, [(round name, checkpoints dir)]) of a finished run.

    Raises:
      PredictError: no ``config.json``, a baseline run, or no round with a checkpoint.
    """
    from mejax import experiment

    workdir = Path(workdir)
    try:
        config, task = experiment.open_run(workdir)
    except experiment.NotARun as error:
        raise PredictError(str(error)) from None
    if "baseline" in config:
        raise PredictError(f"{workdir}: a hand-crafted baseline run; predict applies deep models")
    rounds = sorted(
        (d.name, d / "checkpoints")
        for d in workdir.iterdir()
        if (d / "checkpoints").is_dir()
        and any(p.name.isdigit() for p in (d / "checkpoints").iterdir())
    )
    if round_name:
        rounds = [r for r in rounds if r[0] == round_name]
        if not rounds:
            raise PredictError(f"{workdir}: no round {round_name!r} with checkpoints")
    if not rounds:
        raise PredictError(
            f"{workdir}: a run without models (no <round>/checkpoints with a saved step); train "
            "it first with python -m mejax.main"
        )
    return config, task, rounds


def flow_work_size(config) -> int | None:
    """The size the run's builder resized frames to before computing their flow (None: at
    the frames' resolution), so that a new clip's flow is computed alike: a database builder's
    :data:`mejax.datasets.builder.FLOW_WORK_SIZE`, ``synth_me_cached``'s per config."""
    from mejax import input_pipeline

    if config.input.get("variant", "frames") != "flow":
        return None
    name = input_pipeline.builder_name(config.dataset.name, config.input)
    database, _, builder_config = name.partition("/")
    if database == "synth_me_cached":
        from mejax.datasets.synth_me import cached as synth_cached

        return synth_cached.FLOW_WORK_SIZES.get(builder_config) or None
    from mejax.datasets import builder

    return builder.FLOW_WORK_SIZE


def model_input(crops: np.ndarray, onset: int, apex: int, offset: int, input_config,
                work_size: int | None = None):  # fmt: skip
    """(1, ...) model input of the aligned crops, as the run's clips were made (a flow variant's
    frames resized to ``work_size`` first where the run's builder did so:
    :func:`flow_work_size`)."""
    from mejax import input_pipeline
    from mejax.preprocess import cached

    input_config = input_config.copy_and_resolve_references()
    name = input_pipeline.variant_config_name(input_config)
    example = {
        "frames": crops,
        "onset": onset,
        "apex": apex,
        "offset": offset,
        "clip": "clip",
        "subject": "",
        "aus": np.zeros(1, np.int64),
        "au_code": "",
        "emotion": "",
        "objective_class": 0,
        "fps": 0.0,
        "database": "",
    }
    if name:
        variant = cached.parse(name.removesuffix("_aug70"))
        ((_, example),) = cached.transform(
            [("clip", example)],
            variant,
            batch_size=1,  # one clip's one flow pair: no padding to a builder's batch
            work_size=work_size if variant.kind == "flow" else None,
        )
        if input_config.get("flow_augment", ""):
            input_config.flow_augment = ""  # evaluation reads the plain onset -> apex flow
    inputs = input_pipeline.example_input(example, input_config)[None]
    crop = input_config.get("crop_size", 0)
    if crop:
        inputs = input_pipeline.center_crop(inputs, crop)
    return inputs


@functools.lru_cache(maxsize=8)
def _jitted_apply(model_json: str, input_json: str, num_outputs: int, with_maps: bool):
    """The jitted model call of a run's model and input blocks, compiled once for every round
    and every clip of the process."""
    import ml_collections

    from mejax import cam, input_pipeline, models
    from mejax.models import compiler

    model = models.build(ml_collections.ConfigDict(json.loads(model_json)), num_outputs)
    input_config = ml_collections.ConfigDict(json.loads(input_json))

    @compiler.jit
    def apply(variables, x):
        x = input_pipeline.normalize(x, input_config)
        if not with_maps:
            return model.apply(variables, x, train=False), None
        found = cam.activation_maps(model, variables, x)
        return found["outputs"], found["maps"][0] + found["bias"][:, None, None]

    return apply


def round_predictions(config, task, checkpoints: Path, inputs: np.ndarray, with_maps=False):
    """({name: probability}, {name: (h, w) map} or None) of one round's selected models on
    ``inputs`` (one clip).

    With ``with_maps`` (a model of :data:`mejax.cam.CAM_MODELS`), each AU's or class's
    class-activation map (:func:`mejax.cam.activation_maps`) plus its bias, so that the map's
    mean is the logit (of an AU's presence or of a class).
    """
    import jax

    from mejax import checkpointing

    saved = checkpointing.restore_as_saved(checkpoints)
    if "selection" not in saved:
        raise PredictError(f"{checkpoints}: no selected models in the checkpoint")
    selection = saved["selection"]
    apply = _jitted_apply(
        config.model.to_json(), config.input.to_json(), task.outputs_per_model, with_maps
    )
    num_models = len(np.asarray(selection["score"]))
    outputs, maps = [], []
    for index in range(num_models):  # one model at a time (a vmap is slow on CPU)
        variables = {
            "params": jax.tree.map(lambda x, i=index: x[i], selection["params"]),
            "batch_stats": jax.tree.map(lambda x, i=index: x[i], selection.get("batch_stats", {})),
        }
        output, model_maps = apply(variables, inputs)
        outputs.append(output)
        maps.append(None if model_maps is None else np.asarray(model_maps))
    stacked = jax.tree.map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *outputs)
    named = task.named_maps(maps) if with_maps else None
    return task.named_outputs(stacked), named


def model_region(side: int, input_config) -> list[int]:
    """[x, y, side] of the square face crop (``side`` pixels) that the model input shows: all
    of it, or the central ``crop_size / image_size`` of it with ``input.crop_size``."""
    crop = input_config.get("crop_size", 0)
    if not crop:
        return [0, 0, side]
    seen = int(round(side * crop / input_config.image_size))
    offset = (side - seen) // 2
    return [offset, offset, seen]


# =============================================================================================
# Output
# =============================================================================================


def write_figure(path: Path, crops: np.ndarray, onset: int, apex: int, offset: int,
                 probabilities: dict, title: str) -> None:  # fmt: skip
    """The face at onset, apex and offset beside one bar per AU or class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(probabilities)
    figure = plt.figure(figsize=(10, 3.2 + 0.12 * len(names)))
    grid = figure.add_gridspec(1, 4, width_ratios=[1, 1, 1, 1.6])
    for column, (label, index) in enumerate((("onset", onset), ("apex", apex), ("offset", offset))):
        axis = figure.add_subplot(grid[0, column])
        axis.imshow(crops[index])
        axis.set_title(f"{label} (frame {index})", fontsize=9)
        axis.axis("off")
    axis = figure.add_subplot(grid[0, 3])
    values = [probabilities[n] for n in names]
    axis.barh(range(len(names)), values, color=["C3" if v >= 0.5 else "C0" for v in values])
    axis.set_yticks(range(len(names)), names, fontsize=8)
    axis.invert_yaxis()
    axis.set_xlim(0, 1)
    axis.axvline(0.5, color="grey", linewidth=0.8, linestyle="--")
    axis.set_xlabel("probability")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    reporting.write_atomic(
        path, lambda file: figure.savefig(file, format="png", dpi=100), binary=True
    )
    plt.close(figure)


def write_cam_figure(path: Path, face: np.ndarray, maps: dict, probabilities: dict,
                     title: str, per_row: int = 6, mask=None) -> tuple[int, int]:  # fmt: skip
    """One panel per AU or class: its class-activation map over ``face`` (the apex crop as the
    model saw it), upsampled to the face shown (at least :data:`mejax.cam.MIN_SHOWN` pixels),
    each map stretched to its own range and drawn where ``mask`` (the face) is
    (:func:`mejax.cam.overlay`, which titles each panel with the map's own size). Returns the
    (height, width) the maps are shown at."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mejax import cam

    names = list(maps)
    columns = min(per_row, len(names))
    rows = -(-len(names) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3 * columns, 3.3 * rows + 0.4))
    axes = np.atleast_1d(axes).reshape(-1)
    shown = None
    for axis, name in zip(axes, names, strict=False):
        label = f"{name}: p={probabilities[name]:.2f}"
        shown = cam.overlay(axis, face, maps[name], label, mask=mask)
    for axis in axes[len(names) :]:
        axis.axis("off")
    figure.suptitle("\n".join(textwrap.wrap(title, 20 * columns + 8)), fontsize=9)
    figure.tight_layout()
    reporting.write_atomic(
        path, lambda file: figure.savefig(file, format="png", dpi=100), binary=True
    )
    plt.close(figure)
    return shown


def predict(
    workdir, video, *, onset=None, apex=None, offset=None, round_name: str = "",
    output_dir=".", name: str = "", margin: float = 0.2, detector=None,
) -> dict:  # fmt: skip
    """Applies the run in ``workdir`` to ``video``; writes ``<name>.json``, ``<name>.png`` and,
    for a model with class-activation maps, ``<name>_cam.png`` in ``output_dir`` (``name``: the
    video's name) and returns the JSON's content."""
    unusable = config_checks.workdir_errors(output_dir, what="--output_dir")
    if unusable:  # before any model runs
        raise PredictError(unusable[0])
    config, task, rounds = read_run(workdir, round_name)
    frames = read_frames(video)
    if len(frames) < 2:
        raise PredictError(f"{video}: {len(frames)} frame; a clip needs at least two")
    crops, face, track = locate_face(frames, detector, margin)
    apex_given = apex is not None
    onset, apex, offset, apex_how = phases(len(frames), onset, apex, offset, crops)
    trained_on = config_database_names(config)
    warnings = []
    if any(n.startswith("synth_me") for n in trained_on):
        warnings.append(
            f"the run was trained on the synthetic database {', '.join(trained_on)} (rendered "
            "faces): its probabilities on a real face do not mean what they mean on the "
            "synthetic test clips its results report"
        )
    motion = {"clip": round(clip_motion(crops[onset], crops[apex]), 4)}
    reference, motion["training_source"] = training_motion(config, workdir)
    motion["training"] = reference
    motion["measure"] = MOTION_ABOUT
    motion["below_training"] = bool(reference) and motion["clip"] < reference["p5"]
    if motion["below_training"]:
        warnings.append(
            f"no micro-expression motion found: the change from onset (frame {onset}) to apex "
            f"(frame {apex}) is {motion['clip']:.2f}, below the 5th percentile "
            f"{reference['p5']:.2f} of the run's training clips (lowest {reference['lowest']:.2f}, "
            f"median {reference['median']:.2f}); the probabilities describe noise"
        )
        if not apex_given:
            apex_how += "; no micro-expression motion found, so the apex is not found from motion"
    apex_found = "given" if apex_given else (
        "not found from motion" if motion["below_training"] else "from motion"
    )  # fmt: skip
    inputs = model_input(crops, onset, apex, offset, config.input, flow_work_size(config))
    from mejax import cam

    no_cam = cam.cam_support(config.model)
    per_round, round_maps = {}, []
    for round_dir, checkpoints in rounds:
        probabilities, maps = round_predictions(
            config, task, checkpoints, inputs, with_maps=not no_cam
        )
        per_round[round_dir] = probabilities
        round_maps.append(maps)
    keys = list(next(iter(per_round.values())))
    mean = {k: float(np.mean([p[k] for p in per_round.values()])) for k in keys}

    kind = task.output_kind
    result = {
        "workdir": str(Path(workdir).resolve()),
        "experiment": config.get("name", ""),
        "video": str(Path(video).resolve()),
        "num_frames": int(len(frames)),
        "onset": onset,
        "apex": apex,
        "offset": offset,
        "apex_found_by": apex_how,
        "apex_found": apex_found,
        "motion": motion,
        "trained_on": trained_on,
        "warnings": warnings,
        "face": {
            "box": face["box"],
            "angle_degrees": round(face["angle"], 2),
            "probed_frames": track["probed"],
            "frames_without_face": track["missed"],
        },
        "kind": kind,
        "rounds": sorted(per_round),
        "probabilities": mean,
        "per_round": per_round,
    }
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    name = name or Path(video).stem
    rounds_text = f"round {round_name}" if round_name else f"mean of {len(per_round)} round(s)"
    title = (
        f"{config.get('name', 'mejax')} on {Path(video).name}: {kind} probabilities, {rounds_text}"
    )
    write_figure(output_dir / f"{name}.png", crops, onset, apex, offset, mean, title)
    files = [output_dir / f"{name}.json", output_dir / f"{name}.png"]
    if no_cam:
        result["cam"] = no_cam
    else:
        maps = {k: np.mean([m[k] for m in round_maps], axis=0) for k in round_maps[0]}
        x, y, side = model_region(crops.shape[1], config.input)
        cam_file = output_dir / f"{name}_cam.png"
        shown = write_cam_figure(
            cam_file, crops[apex, y : y + side, x : x + side], maps, mean,
            f"{config.get('name', 'mejax')}: class-activation maps over the apex (frame {apex}), "
            f"{rounds_text}",
            mask=face_mask(track, face, crops.shape[1])[y : y + side, x : x + side],
        )  # fmt: skip
        files.append(cam_file)
        result["cam"] = {
            "file": str(cam_file),
            "region": [x, y, side],
            "map_size": list(next(iter(maps.values())).shape),
            "shown_size": list(shown),
            "maps": {k: np.round(m, 5).tolist() for k, m in maps.items()},
            "about": (
                "one map per AU or class over the region [x, y, side] of the aligned face crop "
                "that the model saw; each map's mean is the logit (an AU's log-odds, a class's "
                "logit), averaged over the rounds' models; the figure shows each map_size map "
                "upsampled (bicubic) to shown_size and drawn inside the face's ellipse only: a "
                "coarse map cannot say where inside the face it points"
            ),
        }
    reporting.write_text(output_dir / f"{name}.json", json.dumps(result, indent=2))
    result["files"] = [str(f) for f in files]
    return result


# =============================================================================================
# Command line
# =============================================================================================


def _is_spotting_run(workdir) -> bool:
    recorded = Path(workdir) / "config.json"
    if not recorded.is_file():
        return False
    try:
        return json.loads(recorded.read_text()).get("task", {}).get("name") == "spotting"
    except (OSError, json.JSONDecodeError):
        return False


def main(argv=None) -> int:
    import argparse
    import logging
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m mejax.predict",
        description="AU (or class) probabilities of a finished mejax run on a new clip; for a "
        "spotting run, the spotting score over a long video and the intervals found "
        "(mejax.spotting.predict).",
    )
    parser.add_argument("--workdir", required=True, help="the finished run's directory")
    parser.add_argument("--video", required=True, help="a video file or a folder of frames")
    parser.add_argument("--onset", type=int, default=None, help="onset frame (default: first)")
    parser.add_argument(
        "--apex",
        type=int,
        default=None,
        help="apex frame (default: the largest change from the onset)",
    )
    parser.add_argument("--offset", type=int, default=None, help="offset frame (default: last)")
    parser.add_argument(
        "--round", default="", help="one round's models (default: every round's, averaged)"
    )
    parser.add_argument("--output_dir", default=".", help="where NAME.json and NAME.png go")
    parser.add_argument("--name", default="", help="output file name (default: the video's)")
    parser.add_argument("--verbose", action="store_true", help="the libraries' log lines too")
    parser.add_argument(
        "--margin",
        type=float,
        default=0.2,
        help="growth of the face box on each side, as a fraction of its size",
    )
    parser.add_argument("--fps", type=float, default=None, help="a spotting run: the frame rate")
    args = parser.parse_args(argv)
    if not args.verbose:  # TensorFlow's and orbax's INFO and warning lines
        console.import_tensorflow_quietly()
        logging.getLogger("absl").setLevel(logging.ERROR)
    if _is_spotting_run(args.workdir):  # a long video: the spotting score over time
        from mejax.spotting import predict as spotting_predict

        spotting = ["--workdir", args.workdir, "--video", args.video, "--output_dir",
                    args.output_dir, "--name", args.name]  # fmt: skip
        return spotting_predict.main(spotting + (["--fps", str(args.fps)] if args.fps else []))
    try:
        result = predict(
            args.workdir, args.video, onset=args.onset, apex=args.apex, offset=args.offset,
            round_name=args.round, output_dir=args.output_dir, name=args.name, margin=args.margin,
        )  # fmt: skip
    except PredictError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    face = result["face"]
    print(
        f"face: box {face['box']} (x, y, side), rotated {face['angle_degrees']} degrees"
        + (
            f"; no face on frames {face['frames_without_face']}"
            if face["frames_without_face"]
            else ""
        )
    )
    print(f"onset {result['onset']}, offset {result['offset']}; apex {result['apex_found_by']}")
    motion, reference = result["motion"], result["motion"]["training"]
    print(
        f"motion onset -> apex: {motion['clip']:.2f}"
        + (
            f" (training clips: lowest {reference['lowest']:.2f}, 5th percentile "
            f"{reference['p5']:.2f}, median {reference['median']:.2f}; from "
            f"{motion['training_source']})"
            if reference
            else f" (not compared: {motion['training_source']})"
        )
    )
    top = sorted(result["probabilities"].items(), key=lambda item: -item[1])
    print(", ".join(f"{k} {v:.2f}" for k, v in top))
    if isinstance(result["cam"], str):
        print(f"class-activation maps: {result['cam']}")
    else:
        grid, shown = result["cam"]["map_size"], result["cam"]["shown_size"]
        print(
            f"class-activation maps: {grid[0]}x{grid[1]} each, shown upsampled to "
            f"{shown[0]}x{shown[1]} inside the face"
        )
    for warning in result["warnings"]:
        print(f"WARNING: {warning}")
    print(f"written: {', '.join(result['files'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
