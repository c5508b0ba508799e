"""From a TFDS database to batches: temporal sampling, resizing, augmentation, batching.

Data flow: TFDS builder -> each clip's frames from onset to offset, resampled in time to
``num_frames`` and resized to ``image_size`` (uint8, held in memory: the micro-expression
databases are a few hundred clips) -> training batches drawn by step. A batch is a pure function
of (seed, step), so a resumed run sees exactly the batches an uninterrupted run would.
Pixels stay uint8 until the jitted step scales them to [-1, 1] (the I3D input range).
"""

from __future__ import annotations

import dataclasses
import importlib

import cv2
import ml_collections
import numpy as np
import tensorflow_datasets as tfds
from tqdm.auto import tqdm

from mejax.preprocess import temporal, tim

TEMPORAL_MODELS = ("tim", "tim50", "linear")


@dataclasses.dataclass
class ClipSet:
    """Preprocessed clips of some subjects, sorted by clip name.

    Attributes:
      clips: (N, T, H, W, 3) uint8.
      aus: (N, len(AU_VOCAB)) bool multi-hot.
      names: clip names.
      subjects: subject of each clip.
    """

    clips: np.ndarray
    aus: np.ndarray
    names: list[str]
    subjects: list[str]

    def __len__(self) -> int:
        return len(self.names)


def database_builder(config: ml_collections.ConfigDict) -> tfds.core.DatasetBuilder:
    """The prepared TFDS builder of ``config.name`` (e.g. ``synth_me/small``).

    Importing ``mejax.datasets.<database>`` registers the builder; a generated database
    (``synth_me``) is built on first use, a licensed one reads ``config.manual_dir``.
    """
    database = config.name.split("/")[0]
    try:
        importlib.import_module(f"mejax.datasets.{database}")
    except ModuleNotFoundError as error:
        if error.name != f"mejax.datasets.{database}":
            raise
        raise ValueError(
            f"dataset.name {config.name!r}: mejax has no builder {database!r}"
        ) from None
    builder = tfds.builder(config.name, data_dir=config.data_dir or None)
    download_config = tfds.download.DownloadConfig(manual_dir=config.manual_dir or None)
    builder.download_and_prepare(download_config=download_config)
    return builder


def subjects(builder: tfds.core.DatasetBuilder) -> list[str]:
    """Subject names of a database (one split each)."""
    return sorted(builder.info.splits.keys())


def preprocess_clip(
    example: dict, num_frames: int, image_size: int, temporal_model: str = "linear"
) -> np.ndarray:
    """Frames onset..offset of one example, resampled to ``num_frames`` with
    ``temporal_model`` (``tim``: the Temporal Interpolation Model, STAP's; ``tim50``: TIM to 50
    frames then ``num_frames`` evenly sampled, SCA's; ``linear``), resized to square."""
    onset, offset = int(example["onset"]), int(example["offset"])
    frames = example["frames"]
    clip = example["clip"].decode() if isinstance(example["clip"], bytes) else example["clip"]
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
    if frames.shape[1:3] != (image_size, image_size):
        frames = np.stack(
            [cv2.resize(f, (image_size, image_size), interpolation=cv2.INTER_AREA) for f in frames]
        )
    return frames


def load_clips(
    builder: tfds.core.DatasetBuilder,
    split: str,
    num_frames: int,
    image_size: int,
    temporal_model: str = "linear",
) -> ClipSet:
    """Loads and preprocesses every clip of ``split`` (a ``+``-joined subject list)."""
    dataset = builder.as_dataset(split=split, shuffle_files=False)
    rows = []
    for example in tqdm(tfds.as_numpy(dataset), desc=f"load {split}", leave=False):
        rows.append(
            (
                example["clip"].decode(),
                example["subject"].decode(),
                preprocess_clip(example, num_frames, image_size, temporal_model),
                example["aus"],
            )
        )
    rows.sort(key=lambda row: row[0])
    names, subject_names, clips, multi_hot = zip(*rows, strict=True)
    return ClipSet(np.stack(clips), np.stack(multi_hot), list(names), list(subject_names))


def center_crop(clips: np.ndarray, size: int) -> np.ndarray:
    """The central size x size crop of (..., H, W, C) clips (the evaluation view of a model
    trained on random crops)."""
    height, width = clips.shape[-3:-1]
    if size > min(height, width):
        raise ValueError(f"input.crop_size={size} exceeds the {height}x{width} frames")
    top, left = (height - size) // 2, (width - size) // 2
    return clips[..., top : top + size, left : left + size, :]


class TrainBatches:
    """Shuffled training batches indexed by step (epoch-wise permutations, last partial batch
    dropped), with optional horizontal flips and random crops.

    A horizontal flip maps an AU to the same AU on the other side; the multi-hot carries no
    side, so flipping never changes a label. A random crop (``crop`` > 0, SCA's 112^2) takes
    one location per clip, the same for all its frames.
    """

    def __init__(
        self,
        data: ClipSet,
        labels: np.ndarray,
        batch_size: int,
        seed: int,
        flip: bool,
        crop: int = 0,
    ):
        if len(data) < batch_size:
            raise ValueError(
                f"train.batch_size={batch_size} exceeds the {len(data)} training clips"
            )
        if crop:
            center_crop(data.clips[:1], crop)  # checks the size
        self.data, self.labels = data, labels
        self.batch_size, self.seed, self.flip, self.crop = batch_size, seed, flip, crop
        self.steps_per_epoch = len(data) // batch_size

    def __call__(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """(clips (B, T, H, W, 3) uint8, labels (B, K) int32) of training step ``step``."""
        epoch, index = divmod(step, self.steps_per_epoch)
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.data))
        chosen = np.sort(order[index * self.batch_size : (index + 1) * self.batch_size])
        clips = self.data.clips[chosen]
        if self.flip:
            flips = np.random.default_rng([self.seed, epoch, index, 1]).random(len(chosen)) < 0.5
            clips = np.where(flips[:, None, None, None, None], clips[:, :, :, ::-1], clips)
        if self.crop:
            rng = np.random.default_rng([self.seed, epoch, index, 2])
            height, width = clips.shape[2:4]
            tops = rng.integers(0, height - self.crop + 1, len(chosen))
            lefts = rng.integers(0, width - self.crop + 1, len(chosen))
            clips = np.stack(
                [
                    clip[:, top : top + self.crop, left : left + self.crop]
                    for clip, top, left in zip(clips, tops, lefts, strict=True)
                ]
            )
        return clips, self.labels[chosen]


def eval_batches(clips: np.ndarray, batch_size: int):
    """Yields (padded clips, number of real clips) covering ``clips`` in order."""
    for start in range(0, len(clips), batch_size):
        chunk = clips[start : start + batch_size]
        real = len(chunk)
        if real < batch_size:
            pad = np.zeros((batch_size - real, *chunk.shape[1:]), chunk.dtype)
            chunk = np.concatenate([chunk, pad])
        yield chunk, real
