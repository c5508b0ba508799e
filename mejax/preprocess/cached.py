"""Cached preprocessing: the expensive variants of a database as TFDS builder configs.

A *variant* names what is stored per clip instead of the raw frames, so that it is computed
once, versioned with the builder, and read back as plain tensors:

==========================  ===============================================================
``tim<N>_<S>``              onset..offset interpolated by TIM to N frames (STAP: tim10),
                            each resized to S x S: ``frames`` (N, S, S, 3) uint8
``apex_<S>``                the onset and apex frames at S x S: ``onset_frame``,
                            ``apex_frame`` (S, S, 3) uint8 (Micro-Attention takes the apex)
``flow_<m>_<S>``            optical flow onset -> apex (m = ``tvl1`` JAX TV-L1, or
                            ``farneback``) at the frames' resolution, resized to S x S with
                            the vectors scaled: ``flow`` (S, S, 2) float32 (MER-auGCN: 28)
``flow_<m>_<S>_aug70``      the same for MER-auGCN's 70 augmented pairs
                            (:func:`mejax.preprocess.augment.augmented_pairs`): ``flow``
                            (70, S, S, 2), ``apex_index`` (70,) and ``angle`` (70,)
``flow_<m>_<S>_evm``        the Neural ME Recognizer's *magnification*: onset..apex is
                            magnified by Eulerian video magnification
                            (:func:`mejax.preprocess.evm.magnify_butter`), then the flow
                            runs from its first to its last frame: ``flow`` (S, S, 2)
``flow_<m>_<S>_reduced``    its *reduction* of macro-expressions: the flow runs from the
                            onset to the middle frame of onset..apex,
                            :func:`mejax.preprocess.evm.reduce_expression` (index
                            ``onset + (apex - onset + 1) // 2``): ``flow`` (S, S, 2)
==========================  ===============================================================

Expression magnification and reduction (EMR) follow Liu, Du, Zheng and Gedeon, "A Neural
Micro-Expression Recognizer" (FG 2019), and their ``Prepare.py``: micro-expression clips are
magnified (``_evm``), macro-expression clips (CK+) reduced (``_reduced``). Their EVM setting is
not published; ``_evm`` uses the EVM authors' "face2" motion setting of ``reproduceResults.m``
(Wu et al., SIGGRAPH 2012): Laplacian pyramid, Butterworth temporal band-pass 0.5-10 Hz,
alpha 20, lambda_c 80, chrominance not amplified, at 30 fps whatever the clip's rate, because
Liu et al. re-encode each clip as a 30-fps video before magnifying it (the filter then acts per
frame as it did there; a 200-fps CASME II clip is filtered as if it were 30 fps). The module
constants ``EVM_*`` hold these parameters. The clip is magnified at the resolution its flow is
computed at (after ``work_size``), where ``lambda_c`` is in pixels: on small frames only the
coarse pyramid levels are amplified, and by less than alpha.

Farneback flow (``farneback``, the Neural ME Recognizer's) uses that recogniser's parameters
(:data:`FARNEBACK`: pyramid scale 0.5, 1 level, window 15, 2 iterations, poly_n 5, sigma 1.1, on
the grey frames), not :func:`mejax.preprocess.flow.farneback`'s OpenCV-sample defaults
(3 levels, 3 iterations, sigma 1.2).

Every variant keeps the clip's labels and metadata (the fields of
:func:`mejax.datasets.features.clip_features` other than ``frames``). The stored ``onset``,
``apex`` and ``offset`` index the stored data:

==========================  ===============================================================
``tim<N>_<S>``              indices into the N stored frames (:func:`tim_phases`): onset 0,
                            the apex at its proportional position, rounded (-1 stays -1),
                            offset N - 1
``apex_<S>``, ``flow_*``    the original clip's indices (the frames they were taken from;
                            nothing indexable is stored); ``_reduced`` keeps the annotated
                            apex, its flow ends at the reduced frame computed from it
==========================  ===============================================================

TIM places input frame i of n at curve time (i + 1) / n and its N outputs evenly over
[1/n, 1] (Zhou et al., CVPR 2011; :mod:`mejax.preprocess.tim`), so frame i of onset..offset
falls at output position i (N - 1) / (n - 1): the mapping :func:`tim_phases` applies.

A database builder reuses the mechanism in three lines: give its config a ``variant`` name
(empty = raw clips), take :func:`features` in ``_info`` and pass its decoded examples
(``frames`` as a (T, H, W, 3) uint8 array, face-cropped where the database provides crops)
through :func:`transform` in ``_generate_examples``. Flow is computed ``batch_size`` pairs
at a time in one batched program (the last batch padded, so one size compiles once) with a
tqdm progress bar.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Iterator

import cv2
import numpy as np
import tensorflow_datasets as tfds
from tqdm.auto import tqdm

from mejax.preprocess import augment, evm, flow, tim, validate

LABEL_KEYS = (
    "onset",
    "apex",
    "offset",
    "subject",
    "clip",
    "aus",
    "au_code",
    "emotion",
    "objective_class",
    "fps",
    "database",
)
_PATTERN = re.compile(
    r"^(?:tim(?P<frames>\d+)_(?P<tim_size>\d+)|apex_(?P<apex_size>\d+)|"
    r"flow_(?P<method>tvl1|farneback)_(?P<flow_size>\d+)(?P<suffix>_aug70|_evm|_reduced)?)$"
)
GRAMMAR = (
    "tim<N>_<size>, apex_<size>, flow_<method>_<size>, flow_<method>_<size>_aug70, "
    "flow_<method>_<size>_evm or flow_<method>_<size>_reduced (method tvl1 or farneback)"
)
# The Neural ME Recognizer's Farneback parameters (its Prepare.py).
FARNEBACK = dict(pyr_scale=0.5, levels=1, winsize=15, iterations=2, poly_n=5, poly_sigma=1.1)
# ``_evm``: the EVM authors' "face2" motion setting, at the 30 fps of the re-encoded clips.
EVM_ALPHA, EVM_LAMBDA_C, EVM_LOW, EVM_HIGH, EVM_FPS = 20.0, 80.0, 0.5, 10.0, 30.0
EVM_CHROM_ATTENUATION = 0.0


@dataclasses.dataclass(frozen=True)
class Variant:
    """A parsed variant name (see the module docstring)."""

    name: str
    kind: str  # "tim", "apex" or "flow"
    size: int
    num_frames: int = 0
    method: str = ""
    augmented: bool = False
    emr: str = ""  # flow only: "evm" (magnified), "reduced" or "" (neither)


def parse(name: str) -> Variant:
    """Parses a variant name such as ``tim10_224``, ``flow_tvl1_28_aug70`` or
    ``flow_farneback_64_evm``."""
    match = _PATTERN.match(name)
    if not match:
        raise ValueError(f"unknown preprocessing variant {name!r}; expected {GRAMMAR}")
    groups = match.groupdict()
    if groups["frames"]:
        return Variant(name, "tim", int(groups["tim_size"]), num_frames=int(groups["frames"]))
    if groups["apex_size"]:
        return Variant(name, "apex", int(groups["apex_size"]))
    suffix = (groups["suffix"] or "").removeprefix("_")
    return Variant(
        name,
        "flow",
        int(groups["flow_size"]),
        method=groups["method"],
        augmented=suffix == "aug70",
        emr=suffix if suffix in ("evm", "reduced") else "",
    )


def features(variant: Variant, base: tfds.features.FeaturesDict) -> tfds.features.FeaturesDict:
    """The FeaturesDict of a variant: the base schema's labels plus the variant's data."""
    fields = {key: base[key] for key in LABEL_KEYS}
    s = variant.size
    if variant.kind == "tim":
        fields["frames"] = tfds.features.Video(
            shape=(variant.num_frames, s, s, 3), encoding_format="png"
        )
    elif variant.kind == "apex":
        fields["onset_frame"] = tfds.features.Image(shape=(s, s, 3))
        fields["apex_frame"] = tfds.features.Image(shape=(s, s, 3))
    elif variant.augmented:
        count = len(augment.ANGLES) * (len(augment.BEFORE_APEX) + 1 + len(augment.AFTER_APEX))
        fields["flow"] = tfds.features.Tensor(shape=(count, s, s, 2), dtype=np.float32)
        fields["apex_index"] = tfds.features.Tensor(shape=(count,), dtype=np.int32)
        fields["angle"] = tfds.features.Tensor(shape=(count,), dtype=np.float32)
    else:
        fields["flow"] = tfds.features.Tensor(shape=(s, s, 2), dtype=np.float32)
    return tfds.features.FeaturesDict(fields)


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    if image.shape[:2] == (size, size):
        return image
    interpolation = cv2.INTER_AREA if image.shape[0] > size else cv2.INTER_CUBIC
    return cv2.resize(image, (size, size), interpolation=interpolation)


def resize_flow(field: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 2) flow resized to (size, size, 2) (area average), vectors scaled with it."""
    height, width = field.shape[:2]
    out = cv2.resize(field, (size, size), interpolation=cv2.INTER_AREA)
    return (out * np.array([size / width, size / height], np.float32)).astype(np.float32)


def _flow_batch(method: str, i0: np.ndarray, i1: np.ndarray, batch_size: int) -> np.ndarray:
    """Flows of (P, H, W, 3) pairs, ``batch_size`` at a time (the last batch padded to the
    compiled shape where TV-L1 runs a batch as one program)."""
    if method == "farneback":
        return np.stack([flow.farneback(a, b, **FARNEBACK) for a, b in zip(i0, i1, strict=True)])
    out = []
    for start in range(0, len(i0), batch_size):
        a, b = i0[start : start + batch_size], i1[start : start + batch_size]
        real = len(a)
        if real < batch_size and flow.vectorized_by_default():  # the compiled shape
            a = np.concatenate([a, np.repeat(a[-1:], batch_size - real, axis=0)])
            b = np.concatenate([b, np.repeat(b[-1:], batch_size - real, axis=0)])
        out.append(np.asarray(flow.tvl1(a, b))[:real])
    return np.concatenate(out)


def magnified_pair(clip: np.ndarray, *, sample: str = "clip") -> np.ndarray:
    """The first and last frame of a clip magnified with the ``EVM_*`` parameters.

    Args:
      clip: (T, H, W, 3) uint8, the onset..apex frames.
      sample: clip name for error messages.

    Returns:
      (2, H, W, 3) uint8: the onset (unchanged: the causal filter starts there) and the
      magnified apex; a one-frame clip (onset = apex) is returned twice, unmagnified.
    """
    if len(clip) < 2:
        return np.stack([clip[0], clip[-1]])
    out = evm.magnify_butter(
        clip,
        alpha=EVM_ALPHA,
        lambda_c=EVM_LAMBDA_C,
        low=EVM_LOW,
        high=EVM_HIGH,
        fps=EVM_FPS,
        chrom_attenuation=EVM_CHROM_ATTENUATION,
        sample=sample,
    )
    return np.stack([out[0], out[-1]])


def tim_phases(onset: int, apex: int, offset: int, num_frames: int) -> tuple[int, int, int]:
    """Onset, apex and offset of a clip's onset..offset interpolated by TIM to N frames.

    Args:
      onset: the clip's onset index.
      apex: its apex index, or -1 (not annotated).
      offset: its offset index.
      num_frames: N, the number of TIM frames.

    Returns:
      ``(0, a, N - 1)`` with ``a = round((apex - onset) (N - 1) / (offset - onset))``
      (halves up; 0 for a one-frame clip), or -1 where the apex is -1.

    Raises:
      ValueError: N < 1, or the phases out of order (-1 apex aside).
    """
    if num_frames < 1:
        raise ValueError(f"num_frames={num_frames}; expected at least 1 TIM frame")
    if not 0 <= onset <= offset or not (apex == -1 or onset <= apex <= offset):
        raise ValueError(
            f"onset {onset}, apex {apex}, offset {offset}; expected 0 <= onset <= apex <= "
            "offset (apex -1: not annotated)"
        )
    last = num_frames - 1
    if apex == -1:
        return 0, -1, last
    if offset == onset:
        return 0, 0, last
    return 0, math.floor((apex - onset) * last / (offset - onset) + 0.5), last


def _labels(example: dict) -> dict:
    return {key: example[key] for key in LABEL_KEYS}


def _checked(key: str, example: dict) -> np.ndarray:
    frames = validate.check_clip(example["frames"], key)
    validate.check_phases(
        int(example["onset"]), int(example["apex"]), int(example["offset"]), len(frames), key
    )
    return frames


def build_bar(total: int, desc: str) -> tqdm:
    """One progress bar for a whole build (every split), closed by its last example."""
    return tqdm(total=total, desc=desc, unit="clip", leave=False)


def _advancing(examples: Iterable[tuple[str, dict]], progress: tqdm):
    for item in examples:
        yield item
        progress.update(1)
        if progress.n >= progress.total:
            progress.close()


def transform(
    examples: Iterable[tuple[str, dict]],
    variant: Variant,
    *,
    batch_size: int = 16,
    work_size: int | None = None,
    desc: str = "preprocess",
    progress: tqdm | None = None,
) -> Iterator[tuple[str, dict]]:
    """Turns (key, raw clip example) pairs into (key, variant example) pairs.

    Args:
      examples: (key, example) with the fields of ``clip_features`` and ``frames`` a decoded
        (T, H, W, 3) uint8 array.
      variant: the parsed variant.
      batch_size: flow pairs per batched call (TV-L1); clips are buffered to fill it.
      work_size: frames are resized to work_size x work_size before the flow is computed
        (needed when a database's clips differ in size); None keeps their resolution.
      desc: progress-bar label.
      progress: the build's one bar (:func:`build_bar`), which every split's examples advance,
        in place of a bar of this call's own.

    Yields:
      (key, example) in the input order. Errors name the clip (its key).
    """
    if progress is None:
        examples = tqdm(examples, desc=f"{desc} {variant.name}", leave=False)
    else:
        examples = _advancing(examples, progress)
    if variant.kind != "flow":
        for key, example in examples:
            frames = _checked(key, example)
            onset, apex, offset = (int(example[k]) for k in ("onset", "apex", "offset"))
            out = _labels(example)
            if variant.kind == "tim":
                clip = tim.tim(frames[onset : offset + 1], variant.num_frames, sample=key)
                out["frames"] = np.stack([_resize(f, variant.size) for f in clip])
                phases = tim_phases(onset, apex, offset, variant.num_frames)
                out["onset"], out["apex"], out["offset"] = phases
            else:
                out["onset_frame"] = _resize(frames[onset], variant.size)
                out["apex_frame"] = _resize(frames[apex], variant.size)
            yield key, out
        return

    pending = []  # (key, example, first pair row, number of pairs)
    rows0, rows1, keys_meta = [], [], []

    def flush():
        if not pending:
            return
        flows = _flow_batch(variant.method, np.stack(rows0), np.stack(rows1), batch_size)
        for (key, example, start, count), meta in zip(pending, keys_meta, strict=True):
            fields = [resize_flow(f, variant.size) for f in flows[start : start + count]]
            out = _labels(example)
            if variant.augmented:
                out["flow"] = np.stack(fields)
                out["apex_index"] = np.array([m[0] for m in meta], np.int32)
                out["angle"] = np.array([m[1] for m in meta], np.float32)
            else:
                out["flow"] = fields[0]
            yield key, out
        pending.clear(), rows0.clear(), rows1.clear(), keys_meta.clear()

    for key, example in examples:
        frames = _checked(key, example)
        if work_size is not None:
            frames = np.stack([_resize(f, work_size) for f in frames])
        onset, apex, offset = (int(example[k]) for k in ("onset", "apex", "offset"))
        if variant.augmented:
            pairs, meta = augment.augmented_pairs(frames, onset, apex, offset, sample=key)
        elif variant.emr == "reduced":
            middle = evm.reduce_expression(frames, onset, apex, sample=key)
            pairs, meta = np.stack([frames[onset], middle])[None], [(apex, 0.0)]
        elif variant.emr == "evm":
            pairs, meta = magnified_pair(frames[onset : apex + 1], sample=key)[None], [(apex, 0.0)]
        else:
            pairs, meta = frames[[onset, apex]][None], [(apex, 0.0)]
        pending.append((key, example, len(rows0), len(pairs)))
        keys_meta.append(meta)
        rows0.extend(pairs[:, 0])
        rows1.extend(pairs[:, 1])
        if len(rows0) >= batch_size:
            yield from flush()
    yield from flush()
