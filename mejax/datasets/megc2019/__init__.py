"""``megc2019``: the MEGC2019 composite (CASME II + SAMM + SMIC, 3 classes)."""

from mejax.datasets.megc2019.megc2019 import CLASSES, Megc2019, Megc2019Config

__all__ = ["CLASSES", "Megc2019", "Megc2019Config"]
