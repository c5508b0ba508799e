"""Every paper setting of the configs: each licensed-database argument their token groups accept.

A config file declares the token groups of its argument (``ARGS``, :mod:`mejax.config_args`).
The paper settings are the arguments built from every combination of the groups that choose
data, protocol or training stage (a database, a protocol, a cross-database order, a setting, a
stage flag) -- the groups that only choose a model variant (:data:`MODEL_GROUPS`: a row of a
table, a depth, an attention) keep their default, since they change neither the clips nor the
rounds -- that the config accepts and that read a licensed database (not ``synth_me``): the
clip databases (mock copies: :mod:`mejax.datasets.mock`, :mod:`mejax.datasets.mock_macro`) and
the long videos of the spotting settings (:mod:`mejax.datasets.mock_long`).
``python -m mejax.main --plan`` checks one, :func:`settings` lists them all for the tests and
``benchmarks/paper_settings.py``.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

from mejax import config_args

CONFIGS_DIR = Path(__file__).resolve().parent.parent / "configs"
# Groups that pick a model variant only: their default stands for all their tokens.
MODEL_GROUPS = ("row", "depth", "attention", "recogniser")


@dataclasses.dataclass(frozen=True)
class Setting:
    """One paper setting: ``--config=configs/<config>.py:<arg>``."""

    config: str
    arg: str

    @property
    def name(self) -> str:
        return f"{self.config}:{self.arg}"

    @property
    def path(self) -> Path:
        return CONFIGS_DIR / f"{self.config}.py"

    def load(self):
        return config_args.load_file(self.path, self.arg)


def arguments(path: str | Path) -> list[str]:
    """The paper-setting arguments of one config file (see the module docstring): of the
    arguments that give the same config, the shortest (then the first in order)."""
    module = config_args.load_module(path)
    groups = [g for n, g in module.ARGS.items() if n not in MODEL_GROUPS]
    found = {}
    for combination in itertools.product(*([*g.values, ""] for g in groups)):
        arg = ",".join(t for t in combination if t)
        try:
            config = module.get_config(arg)
        except ValueError:  # a combination the config refuses (e.g. a cross order + database)
            continue
        names = [config.dataset.name, *config.dataset.get("extra", ())]
        if any(name.startswith("synth_me") for name in names):
            continue
        key = config.to_json_best_effort(sort_keys=True)
        if key not in found or (len(arg), arg) < (len(found[key]), found[key]):
            found[key] = arg
    return sorted(found.values())


def settings(configs_dir: str | Path = CONFIGS_DIR) -> list[Setting]:
    """Every paper setting of every config file in ``configs_dir``."""
    return [
        Setting(path.stem, arg)
        for path in sorted(Path(configs_dir).glob("*.py"))
        for arg in arguments(path)
    ]


def _database(name: str) -> str:
    return name.split("/")[0]


def dataset_blocks(config) -> list:
    """The dataset blocks of a setting: its databases (``dataset``, ``dataset.extra``) and
    its auxiliary one."""
    from mejax import input_pipeline  # noqa: PLC0415  (TFDS; listing the settings needs none)

    blocks = input_pipeline.dataset_blocks(config.dataset)
    aux = config.get("aux_dataset")
    return blocks + ([aux] if aux is not None and aux.get("name") else [])


def databases(config) -> list[str]:
    """The databases a setting reads (``casme2``, ``samm``, ``ckplus``, ...)."""
    return sorted({_database(block.name) for block in dataset_blocks(config)})


def on_copies(config, copies: str | Path, data_dir: str | Path):
    """``config`` (unlocked) reading each of its databases from ``copies/<database>`` (a copy
    or mock of it as it ships) and building into ``data_dir``."""
    config = config.unlock()
    config.dataset.manual_dir = str(Path(copies) / _database(config.dataset.name))
    config.dataset.data_dir = str(data_dir)
    if config.dataset.get("extra", ()):
        config.dataset.extra_manual_dirs = tuple(
            str(Path(copies) / _database(name)) for name in config.dataset.extra
        )
    aux = config.get("aux_dataset")
    if aux is not None and aux.get("name"):
        aux.manual_dir = str(Path(copies) / _database(aux.name))
        aux.data_dir = str(data_dir)
    return config
