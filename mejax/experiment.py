"""One experiment, from config to ``results.md``, whatever fits its rounds.

Every run takes the same path::

    config ─▶ fitter.load() ─▶ clips ─▶ paper_sets.apply ─▶ task.take_part ─▶ protocol rounds
                                                                                   │
    results.md ◀─ reporting.write_results ◀─ task.summarize ◀─ records ◀─ fitter.fit(round)

The **fitter** is chosen by the config: a deep model trained by gradient descent
(:class:`mejax.train.DeepFitter`), hand-crafted descriptors with linear SVMs
(:class:`mejax.baselines.fitter.SVMFitter`, a config with a ``baseline`` block), or a spotter
of expression intervals in long videos (:class:`mejax.spotting.fitter.SpotterFitter`, a
config with a ``spotter`` block; its samples are whole videos). Given the rounds not yet
finished, it yields each one's test record; the runner keeps the rest alike for all: the
workdir's config and lock, each round's config hash and record (a round whose record is there
is not run again; :mod:`mejax.run_files`), the task's summary and the reports. The
**task** (:mod:`mejax.tasks`) says what the clips' targets are, how a model is scored and how
the rounds are summarised; neither the runner nor a fitter knows an AU or a class.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jax
import ml_collections
from absl import logging

from mejax import checkpointing, config_checks, paper_sets, protocols, reporting, run_files, tasks


def fitter_class(config: ml_collections.ConfigDict) -> type:
    """The class of ``config``'s per-round fitter."""
    if "baseline" in config:
        from mejax.baselines.fitter import SVMFitter

        return SVMFitter
    if "spotter" in config:
        from mejax.spotting.fitter import SpotterFitter

        return SpotterFitter
    from mejax.train import DeepFitter

    return DeepFitter


def fitter(config: ml_collections.ConfigDict):
    """The per-round fitter of ``config`` (its own settings checked)."""
    return fitter_class(config)(config)


def selection_label(config: ml_collections.ConfigDict) -> tuple[str, str]:
    """(what a round's models are selected at, its ``results.json`` key), as the fitter says:
    a deep run's step, a baseline's C, a spotter's setting."""
    cls = fitter_class(config)
    return cls.selected_label, cls.selected_key


def run(config: ml_collections.ConfigDict, workdir: str | Path) -> dict:
    """Runs the experiment of ``config`` in ``workdir`` (resuming what is there).

    The config is checked first (:func:`mejax.config_checks.check`), and the workdir is locked
    while the run lasts (:func:`mejax.checkpointing.workdir_lock`: a second run is refused). A
    workdir the run created is removed again when it is refused before it starts.

    Returns:
      The results written to ``workdir/results.json``.
    """
    config_checks.check(config, workdir)
    workdir = Path(workdir)
    created = not workdir.exists()
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        with checkpointing.workdir_lock(workdir):
            return _run_in(config, workdir)
    except BaseException:
        if created and not (workdir / "config.json").exists():  # refused before it started
            shutil.rmtree(workdir, ignore_errors=True)
        raise


def _run_in(config: ml_collections.ConfigDict, workdir: Path) -> dict:
    """:func:`run` in a checked, locked ``workdir``."""
    for path in reporting.remove_temporaries(workdir):
        logging.info("removed %s, a temporary file of a killed run", path)
    run_files.check_workdir(config, workdir, record=False)
    fit = fitter(config)
    clips = paper_sets.apply(fit.load(), config.task)
    task = tasks.build(config.task, clips)
    data, targets = task.take_part(clips)
    selection = config.get("train", {}).get("selection", "validation")
    rounds = protocols.build(config.protocol, data, config.seed, selection)
    fit.prepare(task, data, targets, workdir)
    run_files.record_config(config, workdir)  # everything is loaded and built: the run starts
    records, pending = {}, []
    for index, round_ in enumerate(rounds):
        record = run_files.read_record(workdir / round_.name / run_files.RECORD_FILE)
        if record is None:
            run_files.mark_round(workdir / round_.name, config)
            pending.append((index, round_))
        else:
            logging.info("%s already finished", round_.name)
            records[index] = record
    try:
        for index, record in fit.fit(pending):
            run_files.save_record(workdir / rounds[index].name, record)
            records[index] = record
    finally:
        fit.close()
    records = [records[index] for index in range(len(rounds))]
    results = task.summarize(records, rounds, config)
    fit.add_results(results, records)
    if jax.process_index() == 0:
        reporting.write_results(workdir, results, task)
    return results


class NotARun(ValueError):
    """A directory that holds no run of mejax."""


def open_run(workdir: str | Path):
    """(config, task) of the run in ``workdir``, as it ran: the task rebuilt from the recorded
    config with the classes its results name (a recognition task finds its classes in the
    clips). What :mod:`mejax.predict` and :mod:`mejax.cam` apply a finished run with.

    Raises:
      NotARun: ``workdir`` has no ``config.json``.
    """
    workdir = Path(workdir)
    if not (workdir / "config.json").is_file():
        raise NotARun(f"{workdir}: not a mejax run (no config.json)")
    config = ml_collections.ConfigDict(json.loads((workdir / "config.json").read_text()))
    task_config = ml_collections.ConfigDict(config.task.to_dict())
    results_file = workdir / "results.json"
    if results_file.is_file() and "classes" in (results := json.loads(results_file.read_text())):
        task_config.classes = list(results["classes"])
    return config, tasks.build(task_config)
