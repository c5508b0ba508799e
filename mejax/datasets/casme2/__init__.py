"""``casme2``: CASME II as a manual-download TFDS builder (importing registers it)."""

from mejax.datasets.casme2.casme2 import Casme2, Casme2Config

__all__ = ["Casme2", "Casme2Config"]
