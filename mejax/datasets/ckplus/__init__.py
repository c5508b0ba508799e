"""``ckplus``: CK+ as a manual-download TFDS builder (importing registers it)."""

from mejax.datasets.ckplus.ckplus import EMOTIONS, Ckplus

__all__ = ["EMOTIONS", "Ckplus"]
