"""``jaffe``: the Japanese Female Facial Expression database as a manual-download TFDS builder
(importing registers it)."""

from mejax.datasets.jaffe.jaffe import EMOTIONS, Jaffe

__all__ = ["EMOTIONS", "Jaffe"]
