"""TFDS builder ``synth_me_cached``: preprocessed variants of ``synth_me``, built once.

Each config is a base size of :class:`~mejax.datasets.synth_me.SynthMe` (``tiny``,
``small``) and a preprocessing variant of :mod:`mejax.preprocess.cached` (``tim10_112``,
``apex_112``, ``flow_tvl1_28``, ``flow_tvl1_28_aug70``, ...), named ``<base>_<variant>``::

  import mejax.datasets.synth_me  # registers synth_me and synth_me_cached
  import tensorflow_datasets as tfds

  ds = tfds.load("synth_me_cached/small_flow_tvl1_28", split="sub01+sub02")

The clips are exactly those of ``synth_me/<base>`` (the same generator, the same labels and
splits), so the version follows ``synth_me``'s: a change of the renderer is a change of every
variant. TV-L1 variants run the JAX solver in batches; ``*_aug70`` computes 70 flows per clip
and is meant for a GPU (on a CPU, ``small_flow_tvl1_28_aug70`` takes hours).
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import tensorflow_datasets as tfds

from mejax.datasets import features
from mejax.datasets.synth_me.synth_me import SynthMe, SynthMeConfig
from mejax.preprocess import cached

_BASES = {name: SynthMe.builder_configs[name] for name in ("tiny", "small")}
_VARIANTS = {
    "tiny": ("tim10_48", "apex_48", "flow_tvl1_28"),
    "small": ("tim10_112", "apex_112", "flow_tvl1_28", "flow_tvl1_28_aug70"),
}


@dataclasses.dataclass(eq=False)
class SynthMeCachedConfig(SynthMeConfig):
    """A ``synth_me`` size plus the preprocessing variant stored in place of the frames."""

    variant: str = "tim10_112"

    def __post_init__(self):
        super().__post_init__()
        cached.parse(self.variant)  # raises on an unknown variant, naming it


def _config(base: str, variant: str) -> SynthMeCachedConfig:
    source = _BASES[base]
    return SynthMeCachedConfig(
        name=f"{base}_{variant}",
        description=f"synth_me/{base} preprocessed as {variant} (see mejax.preprocess.cached).",
        num_subjects=source.num_subjects,
        clips_per_subject=source.clips_per_subject,
        image_size=source.image_size,
        seed=source.seed,
        variant=variant,
    )


class SynthMeCached(SynthMe):
    """Preprocessed variants of the synthetic micro-expression clips."""

    VERSION = SynthMe.VERSION
    RELEASE_NOTES = SynthMe.RELEASE_NOTES  # the variants change when the clips do
    BUILDER_CONFIGS = [_config(base, v) for base, variants in _VARIANTS.items() for v in variants]
    DEFAULT_CONFIG_NAME = "small_tim10_112"

    def _info(self) -> tfds.core.DatasetInfo:
        size = self.builder_config.image_size
        variant = cached.parse(self.builder_config.variant)
        schema = cached.features(variant, features.clip_features((size, size)))
        return self.dataset_info_from_configs(features=schema)

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
            desc=f"synth_me {config.name} sub{subject + 1:02d}",
        )


def _decode(frames: list[bytes]) -> np.ndarray:
    """PNG bytes (as synth_me encodes them, RGB) back to a (T, H, W, 3) uint8 array."""
    decoded = [cv2.imdecode(np.frombuffer(f, np.uint8), cv2.IMREAD_COLOR) for f in frames]
    return np.stack([f[..., ::-1] for f in decoded])
