"""TFDS builder ``synth_me_cached``: preprocessed variants of ``synth_me``, built once.

Each config is a base config of :class:`~mejax.datasets.synth_me.SynthMe` (``tiny``,
``small``, ``macro``, ``macro_tiny``) and a preprocessing variant of
:mod:`mejax.preprocess.cached` (``tim10_112``, ``apex_112``, ``flow_tvl1_28``,
``flow_tvl1_28_aug70``, ...), named ``<base>_<variant>``::

  import mejax.datasets.synth_me  # registers synth_me and synth_me_cached
  import tensorflow_datasets as tfds

  ds = tfds.load("synth_me_cached/small_flow_tvl1_28", split="sub01+sub02")

The variants per base (:data:`VARIANTS`):

==============  ============================================================================
``tiny``        ``tim10_48``, ``apex_48``, ``flow_tvl1_28``, ``flow_farneback_28``,
                ``flow_farneback_28_evm``, ``flow_farneback_28_aug70`` (tests)
``small``       ``tim10_112``, ``apex_112``, ``flow_tvl1_28``, ``flow_tvl1_28_aug70``;
                ``apex_64``, ``flow_tvl1_64`` for the recognition models on a CPU;
                ``flow_farneback_64`` and its magnified ``flow_farneback_64_evm`` (the
                Neural ME Recognizer without and with expression magnification);
                ``flow_farneback_28`` and ``flow_farneback_28_aug70`` (MER-auGCN's input
                and its 70 augmented flows, with Farneback standing in for TV-L1 on a CPU)
``macro``       ``apex_64``, ``flow_tvl1_64`` (the macro-expression source domain);
                ``flow_farneback_64`` and its reduced ``flow_farneback_64_reduced``
``macro_tiny``  ``apex_48``, ``flow_tvl1_28``, ``flow_farneback_28``,
                ``flow_farneback_28_reduced`` (tests)
==============  ============================================================================

The clips are exactly those of ``synth_me/<base>`` (the same generator, the same labels and
splits), so the version follows ``synth_me``'s: a change of the renderer is a change of every
variant. TV-L1 variants run the JAX solver in batches, at the frames' resolution unless
:data:`FLOW_WORK_SIZES` names the config (``flow_work_size``). On a CPU, TV-L1 costs in
proportion to the pixels it is computed at, not to the stored size: at 112 x 112 a flow
variant of ``small`` (240 pairs) takes about 3.5 minutes on 2 idle cores (10 on busy ones),
while ``small_flow_tvl1_64``, computed on the frames area-resized to 64 x 64, takes 1.3
(2.6 on busy cores). ``*_aug70`` computes 70 flows per clip: with TV-L1 it is meant for a
GPU (on a CPU, ``small_flow_tvl1_28_aug70`` takes hours, ``small_flow_farneback_28_aug70``
about 1.5 minutes). Farneback is cheap: on 2 busy cores
``macro_flow_farneback_64_reduced`` builds in about 30 s, ``small_flow_farneback_64_evm``
(Eulerian magnification of each onset..apex first) in about 1.5 minutes.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import tensorflow_datasets as tfds

from mejax.datasets import features
from mejax.datasets.synth_me.synth_me import SynthMe, SynthMeConfig, subject_name
from mejax.preprocess import cached

VARIANTS = {
    "tiny": (
        "tim10_48",
        "apex_48",
        "flow_tvl1_28",
        "flow_farneback_28",
        "flow_farneback_28_evm",
        "flow_farneback_28_aug70",
    ),
    "small": (
        "tim10_112",
        "apex_112",
        "flow_tvl1_28",
        "flow_tvl1_28_aug70",
        "apex_64",
        "flow_tvl1_64",
        "flow_farneback_64",
        "flow_farneback_64_evm",
        "flow_farneback_28",
        "flow_farneback_28_aug70",
    ),
    "macro": ("apex_64", "flow_tvl1_64", "flow_farneback_64", "flow_farneback_64_reduced"),
    "macro_tiny": ("apex_48", "flow_tvl1_28", "flow_farneback_28", "flow_farneback_28_reduced"),
}
# Configs whose flow is computed on the frames area-resized to this size (the others at the
# frames' resolution): the recognition flows, kept to CPU build times (see above), and the
# Neural ME Recognizer's Farneback flows of the same clips at the same size.
FLOW_WORK_SIZES = {
    f"{base}_{variant}": 64
    for base in ("small", "macro")
    for variant in VARIANTS[base]
    if variant.startswith(("flow_tvl1_64", "flow_farneback_64"))
}
_BASES = {name: SynthMe.builder_configs[name] for name in VARIANTS}


@dataclasses.dataclass(eq=False)
class SynthMeCachedConfig(SynthMeConfig):
    """A ``synth_me`` size plus the preprocessing variant stored in place of the frames.

    Attributes:
      variant: a variant name of :mod:`mejax.preprocess.cached`.
      flow_work_size: flow variants only: compute the flow on the frames area-resized to
        this size (8 to ``image_size``); 0 computes it at the frames' resolution.
    """

    variant: str = "tim10_112"
    flow_work_size: int = 0

    def __post_init__(self):
        super().__post_init__()
        variant = cached.parse(self.variant)  # raises on an unknown variant, naming it
        work = self.flow_work_size
        if work and (variant.kind != "flow" or not 8 <= work <= self.image_size):
            raise ValueError(
                f"SynthMeCachedConfig {self.name!r}: flow_work_size={work!r} must be 0, or "
                f"in [8, image_size={self.image_size}] for a flow variant (variant "
                f"{self.variant!r})"
            )


def _config(base: str, variant: str) -> SynthMeCachedConfig:
    source = _BASES[base]
    name = f"{base}_{variant}"
    work = FLOW_WORK_SIZES.get(name, 0)
    at = f", flow computed at {work}x{work}" if work else ""
    return SynthMeCachedConfig(
        name=name,
        description=(
            f"synth_me/{base} preprocessed as {variant}{at} (see mejax.preprocess.cached)."
        ),
        num_subjects=source.num_subjects,
        clips_per_subject=source.clips_per_subject,
        image_size=source.image_size,
        seed=source.seed,
        expression=source.expression,
        variant=variant,
        flow_work_size=work,
    )


class SynthMeCached(SynthMe):
    """Preprocessed variants of the synthetic micro-expression clips."""

    VERSION = SynthMe.VERSION
    # The variants change when the clips do, and with the preprocessing.
    RELEASE_NOTES = {
        **SynthMe.RELEASE_NOTES,
        "1.3.0": SynthMe.RELEASE_NOTES["1.3.0"]
        + (
            " Variants: tim<N>_<S> store onset 0, the apex at its position in the N frames and "
            "offset N-1 (1.2.0 stored the raw clip's indices, outside the stored frames); new "
            "apex_64 and flow_tvl1_64 (computed at 64x64) of small and of macro, apex_48 and "
            "flow_tvl1_28 of macro_tiny."
        ),
    }
    BUILDER_CONFIGS = [_config(base, v) for base, variants in VARIANTS.items() for v in variants]
    DEFAULT_CONFIG_NAME = "small_tim10_112"

    def _info(self) -> tfds.core.DatasetInfo:
        size = self.builder_config.image_size
        variant = cached.parse(self.builder_config.variant)
        schema = cached.features(variant, features.clip_features((size, size)))
        return self.dataset_info_from_configs(features=schema)

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        config = self.builder_config
        total = config.num_subjects * config.clips_per_subject
        self._progress = cached.build_bar(total, f"synth_me {config.name}")  # one per build
        return super()._split_generators(dl_manager)

    def _generate_examples(self, subject: int):
        config = self.builder_config
        raw = (
            (key, {**example, "frames": _decode(example["frames"])})
            for key, example in super()._generate_examples(subject)
        )
        yield from cached.transform(
            raw,
            cached.parse(config.variant),
            batch_size=min(16, config.clips_per_subject),
            work_size=config.flow_work_size or None,
            desc=f"synth_me {config.name} {subject_name(subject, config.expression)}",
            progress=getattr(self, "_progress", None),
        )


def _decode(frames: list[bytes]) -> np.ndarray:
    """PNG bytes (as synth_me encodes them, RGB) back to a (T, H, W, 3) uint8 array."""
    decoded = [cv2.imdecode(np.frombuffer(f, np.uint8), cv2.IMREAD_COLOR) for f in frames]
    return np.stack([f[..., ::-1] for f in decoded])
