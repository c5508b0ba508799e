"""``synth_me_long``: importing this package registers the builder of synth_me's long videos
(:mod:`mejax.datasets.synth_me.long`), so that a name such as ``synth_me_long/small``
resolves like every ``<database>/<config>`` name: ``mejax.datasets.<database>`` is imported,
then ``tfds.builder(name)``.
"""

from mejax.datasets.synth_me.long import SynthMeLong, SynthMeLongConfig

__all__ = ["SynthMeLong", "SynthMeLongConfig"]
