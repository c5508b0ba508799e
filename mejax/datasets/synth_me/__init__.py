"""``synth_me``: the embedded synthetic micro-expression database.

Importing this package registers the TFDS builder ``synth_me``::

  import mejax.datasets.synth_me  # noqa: F401
  import tensorflow_datasets as tfds

  ds = tfds.load("synth_me/small", split="sub01+sub02")

and ``synth_me_cached``, its preprocessed variants (``synth_me_cached/small_flow_tvl1_28``,
...; see :mod:`mejax.datasets.synth_me.cached`), and ``synth_me_long``, its long videos for
micro- and macro-expression spotting (``synth_me_long/small``; see
:mod:`mejax.datasets.synth_me.long`).
"""

from mejax.datasets.synth_me.cached import SynthMeCached, SynthMeCachedConfig
from mejax.datasets.synth_me.long import SynthMeLong, SynthMeLongConfig
from mejax.datasets.synth_me.synth_me import SynthMe, SynthMeConfig

__all__ = [
    "SynthMe",
    "SynthMeCached",
    "SynthMeCachedConfig",
    "SynthMeConfig",
    "SynthMeLong",
    "SynthMeLongConfig",
]
