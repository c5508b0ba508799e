"""``casme``: CASME as a manual-download TFDS builder (importing registers it)."""

from mejax.datasets.casme.casme import Casme

__all__ = ["Casme"]
