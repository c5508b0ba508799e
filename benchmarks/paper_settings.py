"""Every paper setting, end to end through all of its rounds, on mock copies of the databases.

    python benchmarks/paper_settings.py                                # every setting
    python benchmarks/paper_settings.py --settings 'sca:|neural_mer'   # a subset (a regex)
    python benchmarks/paper_settings.py --frame-size 480x640           # real-size frames
    python benchmarks/paper_settings.py --tiny                         # tiny models: the data
                                                                       # path, in minutes
    python benchmarks/paper_settings.py --settings '^spotting:casme_sq' --tiny   # long videos

Builds, once, a mock copy of every database the settings read (``mejax.datasets.mock``,
``mock_macro`` and, for the spotting settings' long videos, ``mock_long``: the real coding
sheets, synthetic faces; small frames by default), then runs each paper setting
(:func:`mejax.paper_settings.settings`) in a process of its own, as ``python -m mejax.main``
would, except that every round stops after ``--steps-per-round`` training steps
(``train.max_steps``) and then validates and tests as a finished round does; a setting that
needs pre-trained weights starts from scratch (``init_from=none``: nothing is downloaded); a
spotting setting trains SOFTNet for ``--spotting-epochs`` epochs per round and type (SOFTNet's
own 10 would take hours on a laptop CPU). A failing setting is recorded and the next one runs.
Every cached variant a setting reads (TIM, flow, apex, EVM, the 70x augmentation, face crops)
is built from the mock by the run itself.

The table (printed, and written to ``--out``, Markdown, with a JSON beside it): setting,
rounds, clips (a spotting setting's: its long videos), build time (the databases and variants
the setting reads, not yet built by an earlier setting), run time (the hand-crafted and
spotting settings, which take no training steps), compile time (the first training step less
the median of the others), time per training step (the median), peak resident memory of the
setting's process, status, and the projected time of the full run on this machine: the time
per step times the steps of the setting's whole schedule (``--plan``'s count; validation and
test time not included). With
``--tiny`` every model is its tiny variant (and raw frames are read at 32^2): every round of
every setting still runs on the real shape -- clips, subjects, protocol, cached variants -- in
a fraction of the time, but its times are not the paper models'. The last line is the
headline: how many settings finished every round. Each finished setting's row is kept in
``WORK/results_{tiny,paper}.jsonl``; a later call skips those settings (``--again`` reruns them).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mejax import paper_settings  # noqa: E402, experiment

COLUMNS = ("setting", "rounds", "clips", "build_s", "run_s", "compile_s", "step_s",
           "peak_ram_gib", "status", "projected_full_run_h")  # fmt: skip


def prepare(config, mocks: Path, data_dir: Path, steps: int, tiny: bool = False,
            spotting_epochs: int = 1):  # fmt: skip
    """The setting's config as the benchmark runs it (see the module docstring)."""
    from mejax import models
    from mejax.weights import pretrained

    config = paper_settings.on_copies(config, mocks, data_dir)
    if "spotter" in config:
        config.spotter.softnet.epochs = spotting_epochs
        config.spotter.cache_dir = str(data_dir.parent / "spotting_cache")
        if tiny:  # the flow is computed at 64^2 anyway: the 64^2 crops lose nothing of it
            config.dataset.name = config.dataset.name.replace("faces_128", "faces_64")
            config.spotter.flow.size = 16  # the cached features: SAMM-LV's are 5 GB a k at 42^2
        if tiny and "model" in config.get("recogniser", {}):
            config.recogniser.model.name += "_tiny"
        return config
    if config.get("init_from", "") in (pretrained.REQUIRED, pretrained.KINETICS400):
        config.init_from = pretrained.NONE
    if "train" in config:
        config.train.max_steps = steps
        config.train.log_every_steps = 1
    if tiny and "model" in config and f"{config.model.name}_tiny" in models.MODELS:
        config.model.name = f"{config.model.name}_tiny"
        for field in models.MODELS[config.model.name].keywords:  # what the variant fixes
            if field in config.model:
                del config.model[field]
    if tiny and "baseline" in config:
        config.input.image_size = 64  # the descriptors' frames
    if tiny and "model" in config and config.input.get("variant", "frames") == "frames":
        config.input.image_size = 32  # raw frames are resized when read; variants keep theirs
        if config.input.get("crop_size", 0):
            config.input.crop_size = 28
    return config


def run_one(name: str, mocks: Path, data_dir: Path, workdir: Path, steps: int,
            tiny: bool = False, spotting_epochs: int = 1) -> dict:  # fmt: skip
    """Runs one setting in this process; returns its measurements (see the module
    docstring)."""
    from mejax import experiment, input_pipeline, plan

    setting = {s.name: s for s in paper_settings.settings()}[name]
    shutil.rmtree(workdir, ignore_errors=True)  # a fresh run each time
    config = prepare(setting.load(), mocks, data_dir, steps, tiny, spotting_epochs)
    result = {"setting": name}
    planned = plan.plan(config)
    result["rounds"] = len(planned.rounds)
    result["clips"] = sum(
        r["train"]["clips"] + r["validation"]["clips"] + r["test"]["clips"] for r in planned.rounds
    ) // max(len(planned.rounds), 1)
    result["full_steps"] = plan.total_steps(planned)
    tick = time.perf_counter()
    for block in input_pipeline.dataset_blocks(config.dataset):
        input_pipeline.database_builder(block, config.get("input"))
    if config.get("aux_dataset", {}).get("name"):
        input_pipeline.database_builder(config.aux_dataset, input_pipeline.aux_input(config))
    result["build_s"] = time.perf_counter() - tick
    if "baseline" in config or "spotter" in config:
        tick = time.perf_counter()
        experiment.run(config, workdir)
        result["run_s"] = time.perf_counter() - tick
    else:
        experiment.run(config, workdir)
        times = [
            json.loads(line).get("step_time")
            for line in (workdir / "metrics.jsonl").read_text().splitlines()
        ]
        times = [t for t in times if t is not None]
        rest = times[1:] or times
        step = statistics.median(rest) if rest else float("nan")
        result["step_s"] = step
        result["compile_s"] = times[0] - step if times else float("nan")
    # ru_maxrss: KiB on Linux; this process alone (each setting runs in a process of its own).
    result["peak_ram_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return result


def _error_line(output: str) -> str:
    """The exception line of a failed setting's output (its last line if none)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]*(Error|Exception|Exit)\b", line)]
    return (errors or lines or ["no output"])[-1][:200]


def _row(result: dict) -> dict:
    row = {key: result.get(key, "") for key in COLUMNS}
    step = result.get("step_s")
    if isinstance(step, float) and result.get("full_steps"):
        row["projected_full_run_h"] = step * result["full_steps"] / 3600
    return row


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cell(row[c]) for c in COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def build_mocks(databases: set[str], mocks: Path, frame_size: str, seed: int) -> dict:
    """Writes the mock of every database not yet in ``mocks``; returns the write times."""
    from mejax.datasets import mock, mock_long, mock_macro

    size = mock.parse_frame_size(frame_size)
    times = {}
    for database in sorted(databases):
        target = mocks / database
        if (target / ".complete").exists():
            continue
        tick = time.perf_counter()
        writer = next(m for m in (mock, mock_long, mock_macro) if database in m.DATABASES)
        writer.write(database, target, frame_size=size, seed=seed)
        (target / ".complete").write_text("")
        times[database] = time.perf_counter() - tick
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--settings", default="", help="regex on the setting names")
    parser.add_argument("--steps-per-round", type=int, default=3)
    parser.add_argument("--frame-size", default="48x64", help="HxW of the mock frames")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default="runs/paper_settings", help="mocks, builds, runs")
    parser.add_argument("--out", default="", help="the table as Markdown (JSON beside it)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per setting")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="the models' tiny variants (raw frames at 32^2): the data path of every round at the "
        "real shape in minutes; the times are then not the paper models'",
    )
    parser.add_argument("--again", action="store_true", help="run finished settings again")
    parser.add_argument(
        "--spotting-epochs", type=int, default=1, help="SOFTNet's epochs per round and type"
    )
    parser.add_argument("--one", default="", help=argparse.SUPPRESS)  # the child's setting
    args = parser.parse_args(argv)
    work = Path(args.work).absolute()
    mocks, data_dir, runs = work / "mocks", work / "tfds", work / "runs"
    if args.one:
        workdir = runs / ("tiny" if args.tiny else "paper") / args.one.replace(":", "_")
        result = run_one(args.one, mocks, data_dir, workdir, args.steps_per_round, args.tiny,
                         args.spotting_epochs)  # fmt: skip
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    chosen = [s for s in paper_settings.settings() if re.search(args.settings, s.name)]
    if not chosen:
        sys.exit(f"no setting matches {args.settings!r}")
    databases = {d for setting in chosen for d in paper_settings.databases(setting.load())}
    print(f"{len(chosen)} settings; mocks of {', '.join(sorted(databases))} in {mocks}")
    for database, seconds in build_mocks(databases, mocks, args.frame_size, args.seed).items():
        print(f"mock {database}: written in {seconds:.0f} s")
    # Each setting's row is appended as it finishes; a later call skips the settings that
    # finished (--again runs them anew).
    record = work / f"results_{'tiny' if args.tiny else 'paper'}.jsonl"
    done = {}
    if record.exists() and not args.again:
        for line in record.read_text().splitlines():
            row = json.loads(line)
            if row["status"] == "ok":
                done[row["setting"]] = row
    rows = []
    for index, setting in enumerate(chosen, 1):
        if setting.name in done:
            rows.append(done[setting.name])
            continue
        print(f"[{index}/{len(chosen)}] {setting.name}", flush=True)
        command = [sys.executable, __file__, "--one", setting.name, "--work", str(work),
                   "--steps-per-round", str(args.steps_per_round)]  # fmt: skip
        command += ["--tiny"] if args.tiny else []
        command += ["--spotting-epochs", str(args.spotting_epochs)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, cwd=REPO)  # fmt: skip
        try:
            output, _ = process.communicate(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        status = process.returncode
        found = [line for line in output.splitlines() if line.startswith("RESULT ")]
        result = json.loads(found[-1][len("RESULT ") :]) if found else {"setting": setting.name}
        log = work / "logs" / f"{setting.name.replace(':', '_')}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(output)
        if found:
            result["status"] = "ok"
        else:
            result["status"] = f"FAILED ({status}): {_error_line(output)} (see {log})"
        rows.append(_row(result))
        with record.open("a") as file:
            file.write(json.dumps(rows[-1]) + "\n")
        print(f"  {rows[-1]['status']}", flush=True)
    text = table(rows)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
        Path(args.out).with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    finished = sum(row["status"] == "ok" for row in rows)
    models = "tiny models" if args.tiny else "the paper models"
    print(f"{finished} of {len(rows)} paper settings finished every round ({models}, "
          f"{args.steps_per_round} steps per round, {args.frame_size} mock frames)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
