"""``oulu_casia``: Oulu-CASIA NIR&VIS, its visible-light normal-illumination sequences, as a
manual-download TFDS builder (importing registers it)."""

from mejax.datasets.oulu_casia.oulu_casia import EMOTIONS, OuluCasia

__all__ = ["EMOTIONS", "OuluCasia"]
