"""Command-line entry: ``python -m mejax.main --config=configs/stapf.py[:arg] --workdir=DIR``
(installed: ``mejax-train``; ``--config=stapf[:arg]`` names a config of the installed package).

With ``--plan`` (no ``--workdir`` needed) it prints what every round of the run will see and
every problem found, and stops (:mod:`mejax.plan`; ``--plan_json=FILE`` also writes it as JSON);
the exit status is 1 when a problem makes the run impossible (installed: ``mejax-plan``).

Runs (or resumes) the experiment of the config in DIR (:func:`mejax.experiment.run`): a deep
model, or a hand-crafted baseline when the config has a ``baseline`` block. Any
config field can be overridden, e.g. ``--config.train.num_epochs=5``; an unknown field and
invalid counts or workdirs are refused before anything runs (:mod:`mejax.config_checks`). With
``--multihost`` every process of a multi-host job calls ``jax.distributed.initialize()`` first
(the cluster is found from the environment).

The console shows what the run does, one progress bar per round, mejax's own messages, each
round's validation figures, the headline and where the results are. The INFO lines of the
libraries (orbax's checkpointing, TFDS, JAX, TensorFlow's and XLA's C++ logs) appear with absl's
``--verbosity=0`` (its INFO level; 1 and up add debug lines), in absl's format.
"""

from __future__ import annotations

import logging as python_logging
import os
import sys
from pathlib import Path

from absl import app, flags, logging
from ml_collections import config_flags

from mejax import config_checks, console

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.")
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for checkpoints, logs and results.")
_MULTIHOST = flags.DEFINE_bool("multihost", False, "Call jax.distributed.initialize() first.")
_PLAN = flags.DEFINE_bool(
    "plan", False, "Print the plan of the run (rounds, sides, counts, steps, problems) and stop."
)
_PLAN_JSON = flags.DEFINE_string("plan_json", None, "With --plan: also write the plan as JSON.")
flags.mark_flags_as_required(["config"])

PACKAGE_DIR = str(Path(__file__).resolve().parent)


PLATFORM_FLAG = "--config.require_platform"
_platform: list[str] = []  # the value of --config.require_platform, applied in main


def _resolve_arguments(argv: list[str]) -> list[str]:
    """``argv`` with ``--config``'s value resolved (a config's name, ``--config=stapf``, to its
    installed file: :func:`mejax.config_args.config_file`) and ``--config.require_platform=...``
    taken out (a field no config file defines: :func:`main` sets it)."""
    from mejax import config_args

    resolved, rest = [], list(argv)
    while rest:
        argument = rest.pop(0)
        if argument in ("--config", PLATFORM_FLAG) and rest:
            argument = f"{argument}={rest.pop(0)}"
        if argument.startswith("--config="):
            argument = "--config=" + config_args.config_file(argument.split("=", 1)[1])
        if argument.startswith(PLATFORM_FLAG + "="):
            _platform[:] = [argument.split("=", 1)[1]]
            continue
        resolved.append(argument)
    return resolved


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing, with a plain message for an unknown ``--config.KEY`` override."""
    resolved = _resolve_arguments(argv)
    if list(argv) == sys.argv:  # the config flag finds its overrides in sys.argv
        sys.argv[:] = resolved
    argv = resolved
    try:
        return app.parse_flags_with_usage(argv)
    except (AttributeError, KeyError) as error:
        sys.exit(f"FATAL Flags parsing error: {config_checks.override_error(argv, error)}")


# --- The console ---------------------------------------------------------------------------------


class _PlainFormatter(python_logging.Formatter):
    """mejax's messages as plain lines; a warning or error says so."""

    def format(self, record: python_logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        if record.levelno >= python_logging.WARNING:
            return f"{record.levelname}: {message}"
        return message


def _own_or_serious(record: python_logging.LogRecord) -> bool:
    """Keeps mejax's records of any level and the libraries' errors."""
    own = os.path.realpath(record.pathname).startswith(PACKAGE_DIR + os.sep)
    return own or record.levelno >= python_logging.ERROR


def configure_console(verbosity: int | None) -> None:
    """Sets what the console shows; call before JAX or TensorFlow is imported.

    Args:
      verbosity: absl's ``--verbosity`` when given on the command line (every library's records
        at that level, TensorFlow's and XLA's C++ INFO lines from 0 on), or None: the quiet
        console (mejax's messages as plain lines, the libraries' errors only, no TFDS progress
        bars while a database is built).
    """
    verbose = verbosity is not None and verbosity >= 0
    # Read by TensorFlow's and XLA's C++ logging when they load: an explicit setting wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if verbose else "2")
    if verbosity is not None:  # absl applied it while parsing the flags
        return
    # Every run reads its data through TensorFlow: loaded now, its libraries' INFO lines go to
    # the null device (see mejax.console).
    console.import_tensorflow_quietly()
    import tensorflow_datasets as tfds

    tfds.disable_progress_bar()
    logging.set_verbosity(logging.INFO)
    handler = logging.get_absl_handler()
    handler.setFormatter(_PlainFormatter())
    handler.addFilter(_own_or_serious)


def describe(config, workdir: str) -> str:
    """One line: what the run trains or computes, on which data, and where it writes."""
    from mejax import experiment, tasks

    method = experiment.fitter_class(config).method(config)
    data = config.dataset.name
    aux = config.get("aux_dataset", {}).get("name", "")
    if aux:
        data += f" (+ {aux})"
    protocol = config.protocol.name
    rounds = config.protocol.get("rounds", ())
    if rounds:
        protocol += f", rounds {', '.join(map(str, rounds))}"
    target = tasks.kind(config.task).describe(config.task)
    name = config.get("name", "") or "mejax"
    line = f"{name}: {method} on {data} ({protocol})" + (f", {target}" if target else "")
    path = Path(workdir)
    started = path.is_dir() and any(path.glob("*/checkpoints"))
    return line + (f"; continuing the run in {workdir}" if started else f"; writing to {workdir}")


def _mean(scores) -> float:
    values = list(scores.values()) if isinstance(scores, dict) else [scores]
    values = [v for v in values if v is not None and v == v]  # NaN: no validation side
    return sum(values) / len(values) if values else float("nan")


def _chosen(value, label: str) -> str:
    if value is None:
        return ""
    return f" ({label} {value:g})" if isinstance(value, float) else f" ({label} {value})"


def _figures(scores, chosen, metric: str, label: str) -> str:
    """Validation figures of one round: ``scores`` per model (a dict) or one score, with the
    step (or the baseline's C) each model was selected at."""
    if not isinstance(scores, dict):
        return f"{metric} {scores:.3f}" + _chosen(chosen, label)
    chosen = chosen if isinstance(chosen, dict) else {}
    if len(scores) == 1:
        ((key, value),) = scores.items()
        return f"{metric} {value:.3f}" + _chosen(chosen.get(key), label)
    mean = f"mean {metric} {_mean(scores):.3f}"
    if len(scores) > 6:
        return f"{mean} over {len(scores)} models"
    parts = [f"{k} {score:.3f}" + _chosen(chosen.get(k), label) for k, score in scores.items()]
    return f"{mean}: " + ", ".join(parts)


def round_lines(results: dict, selected: tuple[str, str]) -> list[str]:
    """The validation figures of each round's selected models; one line for over 10 rounds.

    Args:
      results: a finished run's results.
      selected: (what a model is selected at, its key in a round's results), e.g. ("step",
        "selected_step") (:func:`mejax.experiment.selection_label`).
    """
    lines, means = [], []
    label, chosen_key = selected
    for summary in results.get("rounds", []):
        keys = [k for k in summary if k.startswith("validation_")]
        if not keys:
            continue
        metric = keys[0].removeprefix("validation_").upper()
        scores = summary[keys[0]]
        figures = _figures(scores, summary.get(chosen_key), metric, label)
        lines.append(f"{summary['name']}: validation {figures}")
        means.append(_mean(scores))
    if len(lines) > 10:
        return [
            f"{len(lines)} rounds: validation {metric} mean {sum(means) / len(means):.3f} "
            f"(lowest {min(means):.3f}, highest {max(means):.3f})"
        ]
    return lines


def known_errors() -> tuple[type[BaseException], ...]:
    """The errors a user can act on from their message alone: printed as one line (their
    traceback with ``--verbosity=1``)."""
    from mejax import checkpointing, config_checks, input_pipeline, run_files

    return (
        config_checks.ConfigError,
        checkpointing.WorkdirInUse,
        run_files.AnotherConfig,
        input_pipeline.NotBuilt,
        FloatingPointError,
    )


def run_plan(config, json_path: str | None) -> int:
    """Prints the plan of ``config``'s run (:mod:`mejax.plan`), writes it as JSON to
    ``json_path`` if given; returns the exit status: 1 when a problem makes the run impossible."""
    from mejax import plan

    result = plan.plan(config)
    print("\n".join(result.lines()), flush=True)
    if json_path:
        plan.write_json(result, json_path)
        print(f"plan written to {json_path}")
    return 1 if result.impossible else 0


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    verbosity = flags.FLAGS["verbosity"]
    try:
        configure_console(verbosity.value if verbosity.present else None)
    except console.MissingExtra as error:
        sys.exit(f"FATAL {error}")
    if _platform:
        config_checks.require_platform(_CONFIG.value, _platform[0])
    import jax

    if _MULTIHOST.value:
        jax.distributed.initialize()
    if _PLAN.value or _PLAN_JSON.value:
        sys.exit(run_plan(_CONFIG.value, _PLAN_JSON.value))
    if _WORKDIR.value is None:
        raise app.UsageError("--workdir is required (except with --plan)")
    from mejax import experiment, tasks

    try:
        config_checks.check(_CONFIG.value, _WORKDIR.value)
    except config_checks.ConfigError as error:
        sys.exit(f"FATAL {error}")

    lead = jax.process_index() == 0
    if lead:
        print(describe(_CONFIG.value, _WORKDIR.value), flush=True)
    try:
        results = experiment.run(_CONFIG.value, _WORKDIR.value)
    except known_errors() as error:
        if verbosity.present and verbosity.value >= 1:
            raise  # the traceback, at a higher verbosity
        sys.exit(f"FATAL {error}")
    if lead:
        print("\n".join(round_lines(results, experiment.selection_label(_CONFIG.value))))
    headline = tasks.kind(_CONFIG.value.task).headline(results)
    print(f"{headline}; see {_WORKDIR.value}/results.md")


def cli() -> None:
    """The ``mejax-train`` command: ``python -m mejax.main``."""
    app.run(main, flags_parser=parse_flags)


def plan_cli() -> None:
    """The ``mejax-plan`` command: ``python -m mejax.main --plan``."""
    sys.argv.insert(1, "--plan")
    cli()


if __name__ == "__main__":
    cli()
