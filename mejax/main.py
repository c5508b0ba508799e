"""Command-line entry: ``python -m mejax.main --config=configs/stapf.py[:arg] --workdir=DIR``.

Runs (or resumes) the experiment of the config in DIR: a deep model (``train.run``), or a
hand-crafted baseline when the config has a ``baseline`` block (``baselines.run.run``). Any
config field can be overridden, e.g. ``--config.train.num_epochs=5``; an unknown field and
invalid counts or workdirs are refused before anything runs (:mod:`mejax.config_checks`). With
``--multihost`` every process of a multi-host job calls ``jax.distributed.initialize()`` first
(the cluster is found from the environment).
"""

from __future__ import annotations

import sys

from absl import app, flags, logging
from ml_collections import config_flags

from mejax import config_checks

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.")
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for checkpoints, logs and results.")
_MULTIHOST = flags.DEFINE_bool("multihost", False, "Call jax.distributed.initialize() first.")
flags.mark_flags_as_required(["config", "workdir"])


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing, with a plain message for an unknown ``--config.KEY`` override."""
    try:
        return app.parse_flags_with_usage(argv)
    except (AttributeError, KeyError) as error:
        sys.exit(f"FATAL Flags parsing error: {config_checks.override_error(argv, error)}")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    import jax

    if _MULTIHOST.value:
        jax.distributed.initialize()
    logging.set_verbosity(logging.INFO)
    from mejax import tasks

    try:
        config_checks.check(_CONFIG.value, _WORKDIR.value)
    except config_checks.ConfigError as error:
        sys.exit(f"FATAL {error}")

    if "baseline" in _CONFIG.value:  # hand-crafted descriptors + SVMs (mejax/baselines)
        from mejax.baselines import run as baseline_run

        results = baseline_run.run(_CONFIG.value, _WORKDIR.value)
    else:
        from mejax import train

        results = train.run(_CONFIG.value, _WORKDIR.value)
    print(f"{tasks.headline(results)}; see {_WORKDIR.value}/results.md")


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
