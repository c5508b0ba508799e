"""``samm_lv``: SAMM Long Videos as a manual-download TFDS builder (importing registers it)."""

from mejax.datasets.samm_lv.samm_lv import SammLv

__all__ = ["SammLv"]
