"""``samm``: SAMM as a manual-download TFDS builder (importing registers it)."""

from mejax.datasets.samm.samm import Samm

__all__ = ["Samm"]
