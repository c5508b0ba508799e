"""Checks of a config and a workdir before anything is loaded or trained.

A count of zero or less (``--config.train.num_epochs=-1``) would otherwise finish "successfully"
with untrained predictions or divide by zero deep in the loop, and a workdir that is a file or
cannot be written would fail with a raw traceback. :func:`check` names every problem at once,
in the config's own terms (``train.num_epochs = -1``); :func:`override_error` explains a
``--config.KEY=VALUE`` override whose key the config does not have.

``require_platform`` (optional in every config; ``--config.require_platform=tpu`` adds it):
``"cpu"``, ``"gpu"`` or ``"tpu"`` stops a run at its start, with :class:`PlatformError`, when
JAX does not run on that platform (JAX falls back to the CPU, with only a warning, when an
accelerator's backend cannot start, e.g. a TPU that another process holds); ``""`` (the default)
runs anywhere.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import ml_collections

from mejax.weights import pretrained

# Settings that count something and must be >= 1 (0 means "the default" for none of them).
COUNTS = (
    "train.num_epochs",
    "train.eval_every_epochs",
    "train.batch_size",
    "train.eval_batch_size",
    "train.log_every_steps",
    "train.folds_per_step",
    "input.num_frames",
    "input.image_size",
)
# Settings where 0 means "the default" (or "none") and a negative value is an error.
DEFAULTABLE_COUNTS = ("train.models_per_step", "input.crop_size")


# The values of ``require_platform``: JAX's platform names (jax.default_backend()), "" for any.
PLATFORMS = ("cpu", "gpu", "tpu")


class ConfigError(ValueError):
    """A config value or workdir the run cannot use; the message lists every problem."""


class PlatformError(ConfigError):
    """JAX does not run on the platform the config's ``require_platform`` asks for."""


def _lookup(config: ml_collections.ConfigDict, dotted: str):
    """The value of ``dotted`` (``train.num_epochs``) in ``config``, or None if absent."""
    value = config
    for part in dotted.split("."):
        if not hasattr(value, "get") or part not in value:
            return None
        value = value[part]
    return value


def count_errors(config: ml_collections.ConfigDict) -> list[str]:
    """One line per count of :data:`COUNTS` (present in ``config``) that is not an int >= 1."""
    errors = []
    for key, least in [(k, 1) for k in COUNTS] + [(k, 0) for k in DEFAULTABLE_COUNTS]:
        value = _lookup(config, key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            errors.append(f"{key} = {value!r}: must be an integer >= {least}")
    return errors


def setting_errors(config: ml_collections.ConfigDict) -> list[str]:
    """What else a run would fail on only after loading its data: a model or AU that does not
    exist, a learning rate that is not a finite positive number, pre-trained weights that are
    not there."""
    import math  # noqa: PLC0415

    from mejax import models  # noqa: PLC0415  (JAX and Flax; the configs load without them)
    from mejax.datasets import aus  # noqa: PLC0415

    errors = []
    name = _lookup(config, "model.name")
    if name is not None and name not in models.MODELS:
        errors.append(f"model.name = {name!r}: no such model; one of {sorted(models.MODELS)}")
    unknown = [au for au in (_lookup(config, "task.aus") or ()) if au not in aus.AU_INDEX]
    if unknown:
        errors.append(f"task.aus = {tuple(_lookup(config, 'task.aus'))}: AU(s) {unknown} are not "
                      f"in the AU vocabulary {aus.AU_VOCAB}")  # fmt: skip
    rates = {"optimizer.learning_rate": _lookup(config, "optimizer.learning_rate")}
    for group, block in (_lookup(config, "optimizer.groups") or {}).items():
        rates[f"optimizer.groups.{group}.learning_rate"] = block.get("learning_rate")
    for key, rate in rates.items():
        number = isinstance(rate, int | float) and not isinstance(rate, bool)
        if rate is not None and not (number and math.isfinite(rate) and rate > 0):
            errors.append(f"{key} = {rate!r}: must be a finite number > 0")
    platform = _lookup(config, "require_platform")
    if platform not in (None, "", *PLATFORMS):
        errors.append(f"require_platform = {platform!r}: one of {PLATFORMS}, or '' for any")
    source = pretrained.source(_lookup(config, "init_from") or "")
    if source and source not in (pretrained.REQUIRED, pretrained.KINETICS400):
        if not Path(source).expanduser().exists():
            errors.append(f"init_from = {source!r}: no such file or run directory")
    return errors


def require_platform(config: ml_collections.ConfigDict, platform: str) -> None:
    """Sets ``config.require_platform`` (a field no config file needs to define: what
    ``--config.require_platform=...`` does)."""
    with config.unlocked():
        config.require_platform = platform


def platform_error(config: ml_collections.ConfigDict) -> str | None:
    """Why this process cannot run ``config``: JAX's platform is not its ``require_platform``
    (None when it is, or when the config asks for none)."""
    wanted = _lookup(config, "require_platform")
    if wanted not in PLATFORMS:
        return None
    import jax  # noqa: PLC0415

    found = jax.default_backend()
    if found == wanted:
        return None
    devices = jax.devices()
    return (
        f"require_platform = {wanted!r}, but JAX runs on {found} ({len(devices)} device(s): "
        f"{devices[0].device_kind}). The {wanted} backend did not start (JAX then falls back to "
        "the CPU with only a warning on stderr), or this machine has no such device: check the "
        "runtime's accelerator and that no other process holds it (a TPU is held by one "
        "process at a time), restart the Python process, and look for JAX's warning; or set "
        "require_platform to '' to run anywhere."
    )


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def workdir_errors(workdir: str | Path, what: str = "workdir") -> list[str]:
    """Why ``workdir`` (a run's, or another output folder: ``what``) cannot be written (it is a
    file, lies under a file, is not writable)."""
    workdir = Path(workdir).expanduser().absolute()
    if workdir.exists() and not workdir.is_dir():
        return [f"{what} {workdir} is a file, not a directory"]
    existing = _nearest_existing(workdir)
    if not existing.is_dir():
        return [f"{what} {workdir} cannot be created: {existing} is a file"]
    if not os.access(existing, os.W_OK | os.X_OK):
        if existing == workdir:
            return [f"{what} {workdir} is not writable"]
        return [f"{what} {workdir} cannot be created: {existing} is not writable"]
    return []


def check(config: ml_collections.ConfigDict, workdir: str | Path) -> None:
    """Raises :class:`ConfigError` listing every invalid count and setting of ``config``
    (:func:`count_errors`, :func:`setting_errors`, missing pre-trained weights) and every reason
    ``workdir`` cannot be used; then :class:`PlatformError` when JAX does not run on the
    config's ``require_platform`` (:func:`platform_error`); returns quietly when all is well."""
    errors = (
        count_errors(config)
        + setting_errors(config)
        + pretrained.pretraining_errors(config)
        + workdir_errors(workdir)
    )
    if errors:
        raise ConfigError("invalid config or workdir:\n  " + "\n  ".join(errors))
    platform = platform_error(config)
    if platform:
        raise PlatformError(platform)


def override_error(argv: list[str], error: Exception) -> str:
    """The message for ``error`` (``KeyError``/``AttributeError`` of ml_collections) raised while
    applying the ``--config.KEY=VALUE`` overrides of ``argv``: the override and the key."""
    text = str(error)  # a KeyError's repr, nested in an AttributeError's: quotes escaped
    found = re.search(r"([A-Za-z_]\w*)", text)
    key = found.group(1) if found else text
    overrides = [a.split("=", 1)[0].removeprefix("--") for a in argv if a.startswith("--config.")]
    named = [o for o in overrides if key in o.split(".")]
    where = named[0] if named else ", ".join(overrides) or "a --config override"
    message = f"unknown config key {key!r} in --{where}: the config has no such field"
    hint = re.search(r'Did you mean "\w+" instead of "\w+"\?', text)
    return f"{message}. {hint.group(0)}" if hint else message
