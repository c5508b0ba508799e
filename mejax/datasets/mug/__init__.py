"""``mug``: the MUG facial expression database (its posed part) as a manual-download TFDS
builder (importing registers it)."""

from mejax.datasets.mug.mug import EMOTIONS, Mug

__all__ = ["EMOTIONS", "Mug"]
