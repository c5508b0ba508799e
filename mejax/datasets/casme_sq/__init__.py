"""``casme_sq``: CAS(ME)² long videos as a manual-download TFDS builder (importing registers it)."""

from mejax.datasets.casme_sq.casme_sq import CasmeSq

__all__ = ["CasmeSq"]
