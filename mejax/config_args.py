"""The argument of a config file: ``--config=configs/FILE.py:ARG``, ARG such as
``casme2,r50,sca_max``.

An argument is comma-separated tokens, in any order, each optional. A config declares the
groups of tokens it takes -- a database, a depth, an attention variant, a setting -- each with
its choices and its default, and :func:`parse` returns the chosen value of every group (the
default where the argument has no token of the group). An unknown token, two tokens of one
group (``casme2,samm``) or a database the config does not take is a ``ValueError`` that lists
the choices of every group.

A config file::

    from mejax import config_args

    ARGS = {
        "database": config_args.databases("synth", "megc2019", "casme2"),
        "input": config_args.choice(("flow", "apex"), default="flow"),
        "protocol": config_args.choice(("loso", "hde", "cde"), default=None),
        "tim": config_args.flag("tim"),
    }


    def get_config(arg=None):
        args = config_args.parse(arg, ARGS)
        # None            -> {"database": "synth", "input": "flow", "protocol": None, "tim": False}
        # "apex,megc2019" -> {"database": "megc2019", "input": "apex", "protocol": None, ...}
        name = config_args.builder(args["database"])  # "megc2019/cropped"
        ...

Groups:

- :func:`databases` -- database tokens, each one of :data:`DATABASES` (the databases known
  project-wide, with the TFDS builder each maps to); the first is the default.
- :func:`choice` -- one of a few tokens, or ``default=None`` for "none given".
- :func:`flag` -- a single token: ``True`` when given, ``False`` otherwise.

A config file states its paper settings and its synthetic setting (``synth``) itself; the blocks
the config files share are :mod:`mejax.presets`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Database token -> TFDS builder (``name/config``) of the ``dataset`` block.
DATABASES = {
    # The embedded synthetic database (mejax/datasets/synth_me), sized for a CPU.
    "synth": "synth_me/small",
    # CASME II with the 2014 coding sheet, whose AU labels STAP's Table II counts (AU4 129,
    # AU1 26, AU2 21).
    "casme2": "casme2/cropped_2014",
    # CASME and SAMM distribute no face crops; the papers (STAP, arXiv:1907.05023, III; SCA,
    # Neurocomputing 2021, 4) use "cropped face images": their builders' face-cropped configs
    # (MTCNN, one box per clip; mejax.datasets.builder, "Face crops"), never the full frames.
    "casme": "casme/faces",
    "samm": "samm/faces",
    # Recognition: SMIC's high-speed camera, the MEGC2019 and MEGC2018 composites, cropped faces.
    "smic": "smic/hs_cropped",
    "megc2019": "megc2019/cropped",
    "megc2018": "megc2018/cropped",
}


@dataclasses.dataclass(frozen=True)
class Group:
    """One group of tokens of a config argument.

    Attributes:
      values: token -> the value :func:`parse` returns when the token is given.
      default: the value when no token of the group is given.
      database: whether the tokens are databases (a known database the config does not take
        is then reported as such).
      doc: what the tokens mean, shown in error messages.
    """

    values: Mapping[str, Any]
    default: Any
    database: bool = False
    doc: str = ""

    def describe(self, name: str) -> str:
        tokens = ", ".join(
            f"{t} (default)" if v == self.default and not isinstance(v, bool) else t
            for t, v in self.values.items()
        )
        if self.default is None or self.default is False:
            tokens += ", or none"
        return f"{name}: {tokens}" + (f" ({self.doc})" if self.doc else "")


def choice(tokens: tuple[str, ...], default: str | None, doc: str = "") -> Group:
    """A group of ``tokens``, at most one given; ``default`` (one of them, or ``None``) when
    none is."""
    tokens = _tokens(tokens)
    if default is not None and default not in tokens:
        raise ValueError(f"default {default!r} is not one of the tokens {tokens}")
    return Group({t: t for t in tokens}, default, doc=doc)


def flag(token: str, doc: str = "") -> Group:
    """A group of one token: ``True`` when given, ``False`` otherwise."""
    (token,) = _tokens((token,))
    return Group({token: True}, False, doc=doc)


def databases(*tokens: str, default: str | None = None, doc: str = "") -> Group:
    """The databases a config takes, each a key of :data:`DATABASES`; ``default`` (the first
    token unless given) when the argument names none."""
    tokens = _tokens(tokens)
    unknown = [t for t in tokens if t not in DATABASES]
    if unknown:
        raise ValueError(f"unknown databases {unknown}; the databases are {tuple(DATABASES)}")
    default = tokens[0] if default is None else default
    if default not in tokens:
        raise ValueError(f"default database {default!r} is not one of {tokens}")
    return Group({t: t for t in tokens}, default, database=True, doc=doc)


def builder(database: str) -> str:
    """The TFDS builder (``name/config``) of a database token (:data:`DATABASES`)."""
    if database not in DATABASES:
        raise ValueError(f"unknown database {database!r}; the databases are {tuple(DATABASES)}")
    return DATABASES[database]


def parse(arg: str | None, groups: Mapping[str, Group]) -> dict[str, Any]:
    """The value of every group in a config argument.

    Args:
      arg: comma-separated tokens, in any order, each optional (``None`` or ``""``: every
        group's default). Spaces around a token and empty tokens are ignored.
      groups: group name -> :class:`Group`.

    Returns:
      group name -> the value of the group's token, or its default.

    Raises:
      ValueError: on an unknown token, two tokens of one group, or a database the config does
        not take; the message lists every group's choices.
    """
    owner = {}
    for name, group in groups.items():
        for token in group.values:
            if token in owner:
                raise ValueError(f"token {token!r} is in both groups {owner[token]!r} and {name!r}")
            owner[token] = name
    usage = "the argument is comma-separated tokens, in any order, each optional: " + "; ".join(
        group.describe(name) for name, group in groups.items()
    )
    given: dict[str, str] = {}
    for token in (t.strip() for t in (arg or "").split(",")):
        if not token:
            continue
        name = owner.get(token)
        if name is None:
            if token in DATABASES and any(g.database for g in groups.values()):
                raise ValueError(
                    f"config argument {arg!r}: database {token!r} is not one this config "
                    f"takes; {usage}"
                )
            raise ValueError(f"unknown config argument {token!r} in {arg!r}; {usage}")
        if name in given:
            raise ValueError(
                f"config argument {arg!r} gives two tokens of the group {name!r}, "
                f"{given[name]!r} and {token!r}; {usage}"
            )
        given[name] = token
    return {
        name: group.values[given[name]] if name in given else group.default
        for name, group in groups.items()
    }


def _tokens(tokens: tuple[str, ...]) -> tuple[str, ...]:
    tokens = tuple(tokens)
    if not tokens:
        raise ValueError("a group needs at least one token")
    for token in tokens:
        if not isinstance(token, str) or not token or "," in token or token != token.strip():
            raise ValueError(f"a token is a non-empty string without commas or spaces: {token!r}")
    if len(set(tokens)) != len(tokens):
        raise ValueError(f"repeated tokens in {tokens}")
    return tokens


def load_module(path: str | Path):
    """The config file ``path`` as a module (its ``get_config`` and ``ARGS``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such config file")
    spec = importlib.util.spec_from_file_location(f"mejax_config_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_file(path: str | Path, arg: str | None = None):
    """``get_config(arg)`` of the config file ``path``: what ``--config=PATH:ARG`` gives
    ``python -m mejax.main``, for scripts (benchmarks, tests) that build a run themselves."""
    return load_module(path).get_config(arg)


def config_folders() -> list[Path]:
    """Where the experiment configs are: the installed package's ``mejax/configs`` (a wheel, or
    an editable install's mapping to the checkout's ``configs/``), else the checkout's
    ``configs/`` beside the ``mejax`` package."""
    folders = []
    spec = importlib.util.find_spec("mejax.configs")
    if spec is not None and spec.submodule_search_locations:
        folders += [Path(p) for p in spec.submodule_search_locations]
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file():
        folders.append(checkout / "configs")
    return [f for f in folders if f.is_dir()]


def config_file(value: str) -> str:
    """The config file ``value`` (what ``--config`` takes: ``PATH[:ARG]``) names: the path as
    given where it exists; else, for a config's name (``stapf``, ``stapf.py`` or
    ``configs/stapf.py``), the installed config file of that name (:func:`config_folders`),
    so the same ``--config`` works from a checkout and from a wheel. ``:ARG`` is kept; a value
    that names nothing is returned as it is (the flag's parser reports it)."""
    path, colon, arg = value.partition(":")
    given = Path(path).expanduser()
    if given.is_file() or given.parent.name not in ("", "configs"):
        return value
    name = given.name if given.suffix == ".py" else f"{given.name}.py"
    for folder in config_folders():
        if (folder / name).is_file():
            return f"{folder / name}{colon}{arg}"
    return value
