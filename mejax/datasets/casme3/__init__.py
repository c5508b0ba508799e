"""``casme3``: CAS(ME)³ part A long videos and micro-expression clips as a manual-download TFDS
builder (importing registers it)."""

from mejax.datasets.casme3.casme3 import Casme3

__all__ = ["Casme3"]
