"""``synth_me_cached``: importing this package registers the builder of the preprocessed
variants of ``synth_me`` (:mod:`mejax.datasets.synth_me.cached`), so that a name such as
``synth_me_cached/small_flow_tvl1_28`` resolves like every ``<database>/<config>`` name:
``mejax.datasets.<database>`` is imported, then ``tfds.builder(name)``.
"""

from mejax.datasets.synth_me.cached import SynthMeCached, SynthMeCachedConfig

__all__ = ["SynthMeCached", "SynthMeCachedConfig"]
