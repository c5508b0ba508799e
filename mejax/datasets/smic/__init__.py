"""``smic``: SMIC (HS, VIS, NIR) as a manual-download TFDS builder (importing registers it)."""

from mejax.datasets.smic.smic import Smic, SmicConfig

__all__ = ["Smic", "SmicConfig"]
