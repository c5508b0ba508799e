"""``megc2018``: the MEGC2018 composite (CASME II + SAMM, objective classes I-V)."""

from mejax.datasets.megc2018.megc2018 import Megc2018, Megc2018Config

__all__ = ["Megc2018", "Megc2018Config"]
