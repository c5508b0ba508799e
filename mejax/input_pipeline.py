"""From TFDS databases to batches: input variants, several databases, sampling, augmentation.

Data flow: TFDS builder(s) -> every clip of the run as one :class:`~mejax.clipset.ClipSet`
(held in memory: the micro-expression databases are a few hundred clips) -> training batches
drawn by step. A batch is a dict pytree (``inputs``, ``targets``, and ``domain`` when a second
database is mixed in) and a pure function of (seed, step), so a resumed run sees exactly the
batches an uninterrupted run would. Pixels stay uint8 and flow stays raw (u, v) until the
jitted step (:func:`normalize`) scales the pixels to [-1, 1] and encodes the flow.

``config.input.variant`` picks what reaches the model:

* ``frames`` (default): the raw clip, onset..offset resampled in time to ``num_frames``
  (``temporal_model``: ``tim``, STAP's temporal interpolation model; ``tim50``, SCA's TIM to 50
  then ``num_frames`` sampled; ``linear``) and resized to ``image_size``;
* ``tim``: the cached ``tim<num_frames>_<image_size>`` builder config;
* ``apex``: the apex frame of the cached ``apex_<image_size>`` config, RGB or, with
  ``gray``, one grey channel (Micro-Attention);
* ``flow``: the onset -> apex optical flow of the cached ``flow_<flow_method>_<image_size>``
  config, encoded by ``flow_encoding`` (``uv``, ``uvm`` with the magnitude, ``uv_strain`` with
  the optical strain, ``hsv`` the colour rendering; :func:`mejax.preprocess.flow.encode`);
  ``flow_emr`` ``evm`` or ``reduced`` reads the expression-magnified or -reduced flow (the
  ``_evm`` / ``_reduced`` configs of :mod:`mejax.preprocess.cached`); ``flow_augment="aug70"``
  reads MER-auGCN's 70 flows per clip (``_aug70``): training sees all of them, validation and
  test the plain onset -> apex flow (:func:`augmented_side`); ``render_flow`` renders the ``hsv``
  image when the clips are read instead of in the step, for augmentations of images
  (:func:`render_flow`).

A run reads ``config.dataset`` (a database or a composite) plus the databases of
``dataset.extra``; with several databases every subject is prefixed by its database
(``casme2_sub01``) unless it already is. ``config.aux_dataset`` names a database whose clips are
mixed into every training batch (domain adaptation) and never validated or tested.
"""

from __future__ import annotations

import importlib

import cv2
import jax.numpy as jnp
import ml_collections
import numpy as np
import tensorflow_datasets as tfds
from tqdm.auto import tqdm

from mejax import clipset
from mejax.preprocess import augment, temporal, tim
from mejax.preprocess import flow as flow_lib

TEMPORAL_MODELS = ("tim", "tim50", "linear")
VARIANTS = ("frames", "tim", "apex", "flow")
CROP_MODES = ("random", "corners")
GENERATED = ("synth_me", "synth_me_long")  # built on the user's machine (no manual download)


# =============================================================================================
# Builders
# =============================================================================================


def variant_config_name(input_config) -> str:
    """The cached builder-config suffix of ``input_config`` ("" for raw frames)."""
    variant = input_config.get("variant", "frames")
    size = input_config.image_size
    if variant == "frames":
        return ""
    if variant == "tim":
        return f"tim{input_config.num_frames}_{size}"
    if variant == "apex":
        return f"apex_{size}"
    if variant == "flow":
        suffix = input_config.get("flow_emr", "") or input_config.get("flow_augment", "")
        return f"flow_{input_config.get('flow_method', 'tvl1')}_{size}" + (
            f"_{suffix}" if suffix else ""
        )
    raise ValueError(f"input.variant {variant!r} not in {VARIANTS}")


def builder_name(dataset_name: str, input_config) -> str:
    """The TFDS name holding ``dataset_name``'s clips as ``input_config`` reads them:
    ``synth_me/small`` -> ``synth_me_cached/small_flow_tvl1_64``, ``casme2/cropped_2014`` ->
    ``casme2/cropped_2014_apex_224``, ``samm`` -> ``samm/apex_224``."""
    suffix = variant_config_name(input_config)
    if not suffix:
        return dataset_name
    database, _, config = dataset_name.partition("/")
    if database == "synth_me":
        return f"synth_me_cached/{config or 'small'}_{suffix}"
    return f"{database}/{config}_{suffix}" if config else f"{database}/{suffix}"


def build_command(name: str, database: str) -> str:
    return (
        f'python -c "import mejax.datasets.{database}, tensorflow_datasets as tfds; '
        f"tfds.builder('{name}', data_dir=DATA_DIR or None).download_and_prepare("
        'download_config=tfds.download.DownloadConfig(manual_dir=MANUAL_DIR))"'
    )


class NotBuilt(ValueError):
    """A licensed database (or its cached variant) is not built and no manual directory is
    given to build it from."""


def database_builder(dataset, input_config=None) -> tfds.core.DatasetBuilder:
    """The prepared TFDS builder of a ``dataset`` block (``name``, ``data_dir``,
    ``manual_dir``) as ``input_config`` reads it (its cached variant, if any).

    Importing ``mejax.datasets.<database>`` registers the builder; a generated database
    (``synth_me``) is built on first use, a licensed one reads ``dataset.manual_dir``.

    Raises:
      ValueError: no such database, or no such cached variant of it; a licensed database's
        variant that is not built and no ``manual_dir`` to build it from (with the command).
    """
    builder, module = unprepared_builder(dataset, input_config)
    name = builder_name(dataset.name, input_config) if input_config is not None else dataset.name
    manual_dir = dataset.get("manual_dir") or None
    if not builder.is_prepared() and module not in GENERATED and manual_dir is None:
        raise NotBuilt(
            f"{name} is not built in {builder.data_dir} and dataset.manual_dir is empty. "
            f"Build it once from your copy of the database:\n  {build_command(name, module)}\n"
            "or pass --config.dataset.manual_dir=DIR (and data_dir) to build it in this run."
        )
    download_config = tfds.download.DownloadConfig(manual_dir=manual_dir)
    builder.download_and_prepare(download_config=download_config)
    return builder


def unprepared_builder(dataset, input_config=None) -> tuple[tfds.core.DatasetBuilder, str]:
    """(the TFDS builder of a ``dataset`` block as ``input_config`` reads it, not prepared; the
    ``mejax.datasets`` module that registers it).

    Raises:
      ValueError: no such database, or no such cached variant of it.
    """
    name = dataset.name if input_config is None else builder_name(dataset.name, input_config)
    database = name.split("/")[0]
    module = "synth_me" if database == "synth_me_cached" else database
    try:
        importlib.import_module(f"mejax.datasets.{module}")
    except ModuleNotFoundError as error:
        if error.name != f"mejax.datasets.{module}":
            raise
        raise ValueError(
            f"dataset.name {dataset.name!r}: mejax has no builder {module!r}"
        ) from None
    try:
        builder = tfds.builder(name, data_dir=dataset.get("data_dir") or None)
    except ValueError as error:
        if name == dataset.name:
            raise
        raise ValueError(
            f"{dataset.name} has no cached variant {name!r} (input.variant="
            f"{input_config.get('variant')!r}, image_size={input_config.image_size}); "
            f"the builder says: {str(error).splitlines()[0]}"
        ) from None
    return builder, module


def subjects(builder: tfds.core.DatasetBuilder) -> list[str]:
    """Subject names of a database (one split each)."""
    return sorted(builder.info.splits.keys())


# =============================================================================================
# Clips
# =============================================================================================


def preprocess_clip(
    example: dict, num_frames: int, image_size: int, temporal_model: str = "linear"
) -> np.ndarray:
    """Frames onset..offset of one example, resampled to ``num_frames`` with
    ``temporal_model`` (``tim``: the Temporal Interpolation Model, STAP's; ``tim50``: TIM to 50
    frames then ``num_frames`` evenly sampled, SCA's; ``linear``), resized to square."""
    onset, offset = int(example["onset"]), int(example["offset"])
    frames = example["frames"]
    clip = _text(example["clip"])
    if not 0 <= onset <= offset < len(frames):
        raise ValueError(
            f"clip {clip}: onset {onset} / offset {offset} outside its {len(frames)} frames"
        )
    if temporal_model == "tim":
        frames = tim.tim(frames[onset : offset + 1], num_frames, sample=f"clip {clip}")
    elif temporal_model == "tim50":
        frames = tim.tim_then_sample(
            frames[onset : offset + 1], 50, num_frames, sample=f"clip {clip}"
        )
    elif temporal_model == "linear":
        frames = temporal.resample_linear(frames[onset : offset + 1], num_frames)
    else:
        raise ValueError(f"input.temporal_model {temporal_model!r} not in {TEMPORAL_MODELS}")
    return _resize_frames(frames, image_size)


def _resize_frames(frames: np.ndarray, size: int) -> np.ndarray:
    if frames.shape[-3:-1] == (size, size):
        return frames
    return np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in frames])


def example_input(example: dict, input_config) -> np.ndarray:
    """The model input of one decoded example of the builder of ``input_config``'s variant."""
    variant = input_config.get("variant", "frames")
    if variant == "frames":
        return preprocess_clip(
            example,
            input_config.num_frames,
            input_config.image_size,
            input_config.get("temporal_model", "linear"),
        )
    if variant == "tim":
        return np.asarray(example["frames"])
    if variant == "apex":
        image = np.asarray(example["apex_frame"])
        if input_config.get("gray", False):
            image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None]
        return image
    if variant == "flow":
        flow = np.asarray(example["flow"], np.float32)
        if input_config.get("flow_augment", ""):
            flow = plain_first(flow, example)
        if input_config.get("render_flow", False):
            return render_flow(flow, input_config)
        return flow
    raise ValueError(f"input.variant {variant!r} not in {VARIANTS}")


def render_flow(flow: np.ndarray, input_config) -> np.ndarray:
    """Flow rendered as the uint8 image of ``input_config.flow_encoding`` (``hsv`` only) when
    the clips are read (``input.render_flow``), so that training augmentations of images
    (rotation, colour jitter, crops: ``input.photometric``, ``input.crop_size``) see the
    rendered image of the whole flow, as the MEGC2019 recogniser's reference code transforms
    its flow images; every side, and prediction, reads the same rendering, which the step
    then scales as it scales pixels (the same values as encoding inside the step)."""
    encoding = input_config.get("flow_encoding", "uv")
    if encoding != "hsv":
        raise ValueError(f"input.render_flow renders hsv flow only, not {encoding!r}")
    if input_config.get("flip", False):
        raise ValueError(
            "input.render_flow with input.flip: a mirrored rendering would keep the flow's "
            "horizontal direction (its hue); flip the flow instead (render_flow=False)"
        )
    return np.asarray(flow_lib.encode(jnp.asarray(flow), encoding))


def plain_first(flows: np.ndarray, example: dict) -> np.ndarray:
    """The (P, S, S, 2) flows of an augmented example (``flow_<m>_<S>_aug70``) reordered so
    that the plain onset -> apex flow (the annotated apex, no rotation) comes first: the one
    validation and test clips are scored on (:func:`augmented_side`). A clip without an
    annotated apex (-1: CASME II sub04/EP12_01f) was augmented around the middle frame, as the
    builder substitutes it (:func:`mejax.datasets.builder.middle_apex`)."""
    apex = int(example["apex"])
    if apex < 0:
        apex = (int(example["onset"]) + int(example["offset"])) // 2
    plain = np.flatnonzero((np.asarray(example["apex_index"]) == apex) & (example["angle"] == 0))
    if not len(plain):
        raise ValueError(
            f"{_text(example['clip'])}: the augmented flows hold no unrotated onset -> apex "
            f"(apex {apex}) pair"
        )
    return np.concatenate([flows[plain[:1]], np.delete(flows, plain[0], axis=0)])


def augmented_side(inputs: np.ndarray, targets: np.ndarray, train: bool):
    """(inputs, targets) of one side of a round whose clips hold P augmented flows each
    (N, P, S, S, 2), plain flow first (:func:`plain_first`): the training side becomes the N x P
    flows, each with its clip's targets (MER-auGCN's 70-fold augmentation enlarges the
    training set); validation and test keep the plain flow of each clip."""
    if not train:
        return inputs[:, 0], targets
    per_clip = inputs.shape[1]
    flat = inputs.each_item() if isinstance(inputs, Rows) else inputs.reshape(-1, *inputs.shape[2:])
    return flat, np.repeat(targets, per_clip, axis=0)


class Rows:
    """Rows ``index`` of ``base`` (N, ...), read only when indexed: a round's training clips
    without a copy of them. Rounds trained together (``train.folds_per_step``) all read the one
    array of the run's clips instead of holding a copy each."""

    def __init__(self, base: np.ndarray, index: np.ndarray):
        self.base, self.index = base, np.asarray(index, np.int64)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, item) -> np.ndarray:
        return self.base[self.index[item]]

    @property
    def dtype(self):
        return self.base.dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.index), *self.base.shape[1:])

    def each_item(self) -> Rows:
        """Rows of clips holding P items each (N, P, ...) as N x P rows of single items."""
        per_clip = self.base.shape[1]
        flat = self.base.reshape(-1, *self.base.shape[2:])
        return Rows(flat, (self.index[:, None] * per_clip + np.arange(per_clip)).ravel())


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def prefixed_subject(subject: str, database: str) -> str:
    """``subject`` prefixed by its database (``casme2_sub01``) unless it already is: the
    subjects of a run of several databases."""
    return subject if subject.startswith(f"{database}_") else f"{database}_{subject}"


def clip_row(example: dict, inputs: np.ndarray, prefix: bool = False) -> dict:
    """One decoded example's row of a :class:`~mejax.clipset.ClipSet`: ``inputs`` (what the
    model or classifier reads) with the example's metadata.

    Args:
      example: a decoded example of the schema of :func:`mejax.datasets.features.clip_features`
        (or of a cached variant).
      inputs: the clip's model input (or descriptor).
      prefix: prefix the subject with its database (``casme2_sub01``) unless it already is.
    """
    database, subject = _text(example["database"]), _text(example["subject"])
    return {
        "input": inputs,
        "name": _text(example["clip"]),
        "subject": prefixed_subject(subject, database) if prefix else subject,
        "database": database,
        "aus": example["aus"],
        "emotion": _text(example["emotion"]),
        "objective_class": int(example["objective_class"]),
        "phases": [int(example[k]) for k in ("onset", "apex", "offset")],
    }


def load_database(dataset, input_config, prefix: bool = False) -> clipset.ClipSet:
    """Every clip of one database (all subjects), preprocessed as ``input_config`` says.

    Args:
      dataset: a ``dataset`` block (``name``, ``data_dir``, ``manual_dir``).
      input_config: the ``input`` block.
      prefix: prefix each subject with its database (``casme2_sub01``) unless it already is.
    """
    builder = database_builder(dataset, input_config)
    names = subjects(builder)
    total = sum(builder.info.splits[s].num_examples for s in names)
    examples = tfds.as_numpy(builder.as_dataset(split="+".join(names), shuffle_files=False))
    rows = [
        clip_row(example, example_input(example, input_config), prefix)
        for example in tqdm(
            examples, total=total, desc=f"load {builder.info.full_name}", leave=False
        )
    ]
    if not rows:
        raise ValueError(f"{builder.info.full_name}: no clips")
    return clipset.from_rows(rows)


def dataset_blocks(dataset: ml_collections.ConfigDict) -> list[ml_collections.ConfigDict]:
    """The ``dataset`` block of every database of a run: ``dataset`` itself, then one per name
    of ``dataset.extra`` (same ``data_dir``; its manual directory from the matching entry of
    ``dataset.extra_manual_dirs``, which may be left out when those databases are built)."""
    extra = list(dataset.get("extra", ()))
    manual_dirs = list(dataset.get("extra_manual_dirs", ())) or [""] * len(extra)
    if len(manual_dirs) != len(extra):
        raise ValueError(
            f"dataset.extra_manual_dirs has {len(manual_dirs)} entries for the {len(extra)} "
            f"databases of dataset.extra {extra}: give one per database ('' for a built one)"
        )
    return [dataset] + [
        ml_collections.ConfigDict(
            {"name": name, "data_dir": dataset.get("data_dir", ""), "manual_dir": manual}
        )
        for name, manual in zip(extra, manual_dirs, strict=True)
    ]


def load(config: ml_collections.ConfigDict) -> clipset.ClipSet:
    """The clips of the run: ``config.dataset`` and every database of ``dataset.extra``
    (subjects then prefixed by their database, :func:`clip_row`)."""
    blocks = dataset_blocks(config.dataset)
    parts = [load_database(b, config.input, prefix=len(blocks) > 1) for b in blocks]
    return parts[0] if len(parts) == 1 else clipset.ClipSet.concatenate(parts)


def load_aux(config: ml_collections.ConfigDict) -> clipset.ClipSet | None:
    """The clips of ``config.aux_dataset`` (None without one), read as the run's input except
    for the fields of ``aux_dataset.input`` (e.g. ``flow_emr="reduced"`` for a macro-expression
    source whose own clips are magnified, the MEGC2019 recogniser's expression reduction)."""
    aux = config.get("aux_dataset")
    if aux is None or not aux.get("name"):
        return None
    return load_database(aux, aux_input(config))


def aux_input(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """The ``input`` block the clips of ``config.aux_dataset`` are read with: the run's, with
    the fields of ``aux_dataset.input`` in place of its own."""
    input_config = ml_collections.ConfigDict(config.input.to_dict())
    input_config.update(dict(config.aux_dataset.get("input", {})))
    return input_config


def center_crop(clips: np.ndarray, size: int) -> np.ndarray:
    """The central size x size crop of (..., H, W, C) clips (the evaluation view of a model
    trained on random crops)."""
    height, width = clips.shape[-3:-1]
    if size > min(height, width):
        raise ValueError(f"input.crop_size={size} exceeds the {height}x{width} frames")
    top, left = (height - size) // 2, (width - size) // 2
    return clips[..., top : top + size, left : left + size, :]


def normalize(inputs: jnp.ndarray, input_config) -> jnp.ndarray:
    """Model input of a batch, inside the jitted step: uint8 pixels -> float32 in [-1, 1] (the
    I3D input range; with ``raw_pixels`` 0..255, the range of Caffe models whose input
    BatchNorm normalises them), optionally minus the onset frame (``subtract_onset``: the
    network sees the facial change rather than the face); raw flow -> its ``flow_encoding``."""
    if jnp.issubdtype(inputs.dtype, jnp.floating):  # flow (..., H, W, 2)
        inputs = flow_lib.encode(inputs, input_config.get("flow_encoding", "uv"))
        if inputs.dtype != jnp.uint8:
            return inputs.astype(jnp.float32)
    if input_config.get("raw_pixels", False):  # Caffe's ImageData: 0..255 as they are
        return inputs.astype(jnp.float32)
    x = inputs.astype(jnp.float32) / 127.5 - 1.0
    if input_config.get("subtract_onset", False) and x.ndim == 5:
        x = x - x[:, :1]
    return x


# =============================================================================================
# Batches
# =============================================================================================


def flip(inputs: np.ndarray) -> np.ndarray:
    """Horizontal mirror of a batch of frames (B, T, H, W, C), images (B, H, W, C) or flow
    (B, H, W, 2; the horizontal component changes sign). An AU maps to the same AU on the other
    side, and the multi-hot carries no side, so a flip never changes a label."""
    mirrored = inputs[..., ::-1, :]
    if np.issubdtype(inputs.dtype, np.floating):
        mirrored = mirrored * np.array([-1.0, 1.0], inputs.dtype)
    return mirrored


LAST_BATCH = ("drop", "fill")
# ``train.balance_epoch``: what an epoch of class-balanced resampling is (:class:`TrainBatches`).
BALANCE_EPOCHS = ("clips", "largest")


class TrainBatches:
    """Training batches indexed by step: epoch-wise permutations (the last partial batch
    dropped, or filled), optional class-balanced resampling, horizontal flips, colour shifts,
    rotations and smoothing, random or corner crops, and clips of a second database mixed in.

    Args:
      inputs, targets: the training clips' inputs (N, ...) and task targets (N, ...).
      batch_size: clips per batch, the auxiliary ones included.
      seed: with the step, all the randomness of a batch.
      flip: mirror each clip with probability 1/2.
      crop: > 0: one random ``crop`` x ``crop`` window per clip, the same for all its frames
        (SCA's 112^2).
      balance_classes: (N,) class index per clip: each epoch draws N clips with replacement,
        each with probability inversely proportional to its class's count (-1, clips of no
        class, count as one more class); see ``balance_epoch``.
      aux: (inputs, targets) of the auxiliary database, or None.
      aux_ratio: the fraction of every batch drawn from ``aux``; those clips have ``domain``
        0 (source), the run's own 1 (target).
      crop_mode: ``"random"`` (any window) or ``"corners"`` (one of the four corner windows,
        Micro-Attention's CDE augmentation).
      photometric: keyword arguments of :func:`mejax.preprocess.augment.random_photometric`
        (``max_color_shift``, ``max_rotation``, ``max_smoothing``) for uint8 inputs; empty:
        none.
      last_batch: what an epoch does with the clips left over after its full batches
        (``train.last_batch``). ``"drop"``: they wait for another epoch's permutation (an
        epoch is ``N // batch`` steps; a side smaller than one batch is refused). ``"fill"``:
        the last batch is completed with clips drawn without replacement from the rest of the
        side (an epoch is ``ceil(N / batch)`` steps, every clip is seen each epoch); a side
        smaller than one batch gives one step per epoch, every clip once and the rest of the
        batch drawn again from the side (a clip repeats once more only where the batch exceeds
        twice the side). The paper settings fill: a side of 41 clips trains at SCA's batch of 64
        (Li, Huang, Zhao, Neurocomputing 2021, Sec. 4.4) and 101 clips are not cut to 64.
      balance_epoch: with ``balance_classes``, what an epoch is (``train.balance_epoch``):
        ``"clips"`` (default) the N weighted draws above; ``"largest"`` every class resampled
        up to the largest, Micro-Attention's "resample every class up to the largest" (Wang,
        Peng, Bi, Chen, Neurocomputing 2020, Sec. 4.1): an epoch of C x n_max clips (C classes,
        n_max the largest class's count), n_max of each class, the largest's clips once each
        and a class of n_c clips each of its clips n_max // n_c times plus n_max % n_c of them
        drawn without replacement, shuffled; its steps (``steps_per_epoch``) count those draws.
    """

    def __init__(self, inputs, targets, batch_size: int, seed: int, flip: bool, crop: int = 0,
                 balance_classes=None, aux=None, aux_ratio: float = 0.0,
                 crop_mode: str = "random", photometric=None,
                 last_batch: str = "drop", balance_epoch: str = "clips"):  # fmt: skip
        if last_batch not in LAST_BATCH:
            raise ValueError(f"train.last_batch {last_batch!r} not in {LAST_BATCH}")
        self.num_aux = round(batch_size * aux_ratio) if aux is not None else 0
        self.num_main = batch_size - self.num_aux
        if aux is not None and not 0 < self.num_aux < batch_size:
            raise ValueError(
                f"aux_dataset.ratio={aux_ratio} gives {self.num_aux} of {batch_size} clips per "
                "batch; it must leave at least one clip of each database"
            )
        if not len(inputs) or (last_batch == "drop" and len(inputs) < self.num_main):
            raise ValueError(
                f"train.batch_size={batch_size} needs {self.num_main} training clips per batch; "
                f"there are {len(inputs)}"
                + ("" if not len(inputs) else " (train.last_batch='fill' fills a batch)")
            )
        if aux is not None and len(aux[0]) < self.num_aux:
            raise ValueError(f"{self.num_aux} auxiliary clips per batch; there are {len(aux[0])}")
        if crop:
            center_crop(inputs[:1], crop)  # checks the size
        if crop_mode not in CROP_MODES:
            raise ValueError(f"input.crop_mode {crop_mode!r} not in {CROP_MODES}")
        photometric = dict(photometric or {})
        if photometric and inputs.dtype != np.uint8:
            raise ValueError(
                f"input.photometric {photometric} needs uint8 frames, not {inputs.dtype}"
            )
        self.crop_mode, self.photometric = crop_mode, photometric
        self.inputs, self.targets, self.aux = inputs, targets, aux
        self.seed, self.flip, self.crop = seed, flip, crop
        if balance_epoch not in BALANCE_EPOCHS:
            raise ValueError(f"train.balance_epoch {balance_epoch!r} not in {BALANCE_EPOCHS}")
        self.weights, self.members, epoch_clips = None, None, len(inputs)
        if balance_classes is not None:
            _, group, counts = np.unique(balance_classes, return_inverse=True, return_counts=True)
            weights = 1.0 / counts[group]
            self.weights = weights / weights.sum()
            if balance_epoch == "largest":
                self.members = [np.flatnonzero(group == g) for g in range(len(counts))]
                epoch_clips = len(counts) * int(counts.max())
        self.last_batch = last_batch
        self.steps_per_epoch = steps_per_epoch(epoch_clips, self.num_main, last_batch)

    def _main(self, epoch: int, index: int) -> np.ndarray:
        if self.weights is None:
            order = np.random.default_rng([self.seed, epoch]).permutation(len(self.inputs))
        elif self.members is not None:  # balance_epoch="largest"
            order = up_to_largest(np.random.default_rng([self.seed, epoch, 7]), self.members)
        else:
            rng = np.random.default_rng([self.seed, epoch, 3])
            order = rng.choice(len(self.inputs), len(self.inputs), p=self.weights)
        if self.steps_per_epoch * self.num_main > len(order):  # last_batch="fill"
            rng = np.random.default_rng([self.seed, epoch, 6])
            order = np.concatenate([order, fill_draws(rng, order, self.num_main)])
        return np.sort(order[index * self.num_main : (index + 1) * self.num_main])

    def __call__(self, step: int) -> dict:
        """The batch of training step ``step``: ``inputs`` (B, ...), ``targets`` (B, ...), and
        with an auxiliary database ``domain`` (B,) int32 (its clips last)."""
        epoch, index = divmod(step, self.steps_per_epoch)
        chosen = self._main(epoch, index)
        inputs, targets = self.inputs[chosen], self.targets[chosen]
        if self.aux is not None:
            rng = np.random.default_rng([self.seed, step, 4])
            picked = np.sort(rng.choice(len(self.aux[0]), self.num_aux, replace=False))
            inputs = np.concatenate([inputs, self.aux[0][picked]])
            targets = np.concatenate([targets, self.aux[1][picked]])
        if self.flip:
            flips = np.random.default_rng([self.seed, epoch, index, 1]).random(len(inputs)) < 0.5
            mask = flips.reshape((-1,) + (1,) * (inputs.ndim - 1))
            inputs = np.where(mask, flip(inputs), inputs)
        if self.photometric:
            rng = np.random.default_rng([self.seed, epoch, index, 5])
            inputs = np.stack([augment.random_photometric(x, rng, **self.photometric)
                               for x in inputs])  # fmt: skip
        if self.crop:
            inputs = self._random_crops(inputs, np.random.default_rng([self.seed, epoch, index, 2]))
        batch = {"inputs": inputs, "targets": targets}
        if self.aux is not None:
            domain = np.r_[np.ones(self.num_main, np.int32), np.zeros(self.num_aux, np.int32)]
            batch["domain"] = domain
        return batch

    def _random_crops(self, inputs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        height, width = inputs.shape[-3:-1]
        if self.crop_mode == "corners":
            tops = rng.integers(0, 2, len(inputs)) * (height - self.crop)
            lefts = rng.integers(0, 2, len(inputs)) * (width - self.crop)
        else:
            tops = rng.integers(0, height - self.crop + 1, len(inputs))
            lefts = rng.integers(0, width - self.crop + 1, len(inputs))
        return np.stack(
            [
                x[..., top : top + self.crop, left : left + self.crop, :]
                for x, top, left in zip(inputs, tops, lefts, strict=True)
            ]
        )


def up_to_largest(rng: np.random.Generator, members: list[np.ndarray]) -> np.ndarray:
    """One epoch of every class resampled up to the largest (``members``: the clip indices of
    each class), shuffled: n_max of each class, each clip of a class of n_c clips
    n_max // n_c times and n_max % n_c of them once more, drawn without replacement."""
    largest = max(len(m) for m in members)
    drawn = [
        np.concatenate([np.tile(m, largest // len(m)),
                        rng.choice(m, largest % len(m), replace=False)])
        for m in members
    ]  # fmt: skip
    return rng.permutation(np.concatenate(drawn))


def steps_per_epoch(num_clips: int, batch_size: int, last_batch: str = "drop") -> int:
    """Training steps per epoch of ``num_clips`` clips at ``batch_size`` clips per step (the
    run's own clips, auxiliary ones aside): the full batches (``drop``), or every clip once
    with the last batch filled (``fill``; see :class:`TrainBatches`)."""
    if last_batch == "fill":
        return -(-num_clips // batch_size)
    return num_clips // batch_size


def fill_draws(rng: np.random.Generator, order: np.ndarray, batch_size: int) -> np.ndarray:
    """The clips that complete the last batch of an epoch in ``order``: drawn without
    replacement from the clips the partial batch does not hold (from the whole side when the
    side is smaller than a batch, again as often as it takes)."""
    partial = len(order) % batch_size
    count = batch_size - partial
    pool = order[: len(order) - partial] if len(order) > batch_size else order
    draws = []
    while count > 0:
        take = min(count, len(pool))
        draws.append(rng.permutation(pool)[:take])
        count -= take
    return np.concatenate(draws)


def eval_batches(inputs: np.ndarray, batch_size: int):
    """Yields (padded inputs, number of real clips) covering ``inputs`` in order."""
    for start in range(0, len(inputs), batch_size):
        chunk = inputs[start : start + batch_size]
        real = len(chunk)
        if real < batch_size:
            pad = np.zeros((batch_size - real, *chunk.shape[1:]), chunk.dtype)
            chunk = np.concatenate([chunk, pad])
        yield chunk, real
