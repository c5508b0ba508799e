"""The plan of a run: what every round of its protocol will see, checked before any compute.

``python -m mejax.main --config=configs/sca.py:samm --config.dataset.manual_dir=DIR --plan``
reads the labels of the run's databases -- the annotation sheets of the manual directory through
the builder's own reader (:meth:`mejax.datasets.builder.ManualBuilder._clips`; nothing is
decoded, the frame folders are only checked to exist), or the metadata of a built database when
no manual directory is given -- applies the paper's AU set and sample filter
(:func:`mejax.paper_sets.apply`) and the task's label set, builds the protocol's rounds, and
reports per round: the subjects and clips of each side, the class counts (or per-AU positives)
of each side, the steps per epoch, the clips an epoch leaves out and the steps in all. Then every
problem found, each one sentence; :attr:`Plan.impossible` when one of them makes the run
impossible (a training side smaller than a batch that is not filled, a class with no training
clip, an unbuilt database with no manual directory, missing pre-trained weights, ...).

The steps are counted by :class:`mejax.input_pipeline.TrainBatches` itself, on a stand-in for
the clips (no memory), so the plan counts what the run will step.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib

import ml_collections
import numpy as np

from mejax import clipset, config_checks, input_pipeline, paper_sets, protocols, tasks
from mejax.datasets import aus as au_vocab
from mejax.weights import pretrained

SIDES = ("train", "validation", "test")
# A round whose epochs leave out more than this share of its training clips is reported.
DROPPED_SHARE = 0.25
# The number of flows per clip of an augmented flow variant (MER-auGCN's ``aug70``).
AUGMENTED_FLOWS = {"aug70": 70}


@dataclasses.dataclass
class Plan:
    """What a run will do, round by round, and what stands in its way.

    Attributes:
      setting: the config's name and dataset, one line.
      rounds: one dict per round (see :func:`plan`).
      problems: one sentence each.
      impossible: the problems among ``problems`` that make the run impossible.
    """

    setting: str
    rounds: list[dict]
    problems: list[str]
    impossible: list[str]

    def as_dict(self) -> dict:
        return {
            "setting": self.setting,
            "rounds": self.rounds,
            "problems": self.problems,
            "impossible": bool(self.impossible),
        }

    def lines(self) -> list[str]:
        """The plan as console lines."""
        out = [self.setting]
        for round_ in self.rounds:
            unit = round_.get("unit", "clips")
            sides = " | ".join(
                f"{side} {len(round_[side]['subjects'])} subjects, {round_[side]['clips']} {unit}"
                for side in SIDES
            )
            out.append(f"{round_['name']}: {sides}")
            counts = ", ".join(
                f"{n} " + "/".join(str(round_[side]["counts"][n]) for side in SIDES)
                for n in round_["train"]["counts"]
            )
            if counts:
                out.append(f"  {round_['counted']} (train/validation/test): {counts}")
            for kind, windows in round_.get("windows", {}).items():
                out.append(
                    f"  {kind}: k = {windows['k']}, {windows['train']} training windows, "
                    f"{windows['test']} test windows"
                )
            steps = round_.get("steps_per_epoch")
            if steps is not None:
                out.append(
                    f"  {steps} step{'s' if steps != 1 else ''} per epoch at batch"
                    f" {round_['batch_size']}"
                    f" ({round_['clips_dropped_per_epoch']} clips left out per epoch),"
                    f" {round_['total_steps']} steps in all"
                )
        if self.problems:
            out.append(f"{len(self.problems)} problem(s):")
            out += [
                f"  {'IMPOSSIBLE' if p in self.impossible else 'warning'}: {p}"
                for p in self.problems
            ]
        else:
            out.append("no problem found")
        return out


class _Problems:
    def __init__(self):
        self.all, self.impossible = [], []

    def add(self, text: str, impossible: bool = False) -> None:
        if text not in self.all:
            self.all.append(text)
        if impossible and text not in self.impossible:
            self.impossible.append(text)


# =============================================================================================
# Labels without frames
# =============================================================================================


def _rows_from_sheets(builder, root: pathlib.Path, prefix: bool) -> list[dict]:
    """One ClipSet row per clip the builder would write, from its annotation files."""
    from mejax.datasets import builder as builder_lib

    clips, _ = builder._clips(root)
    builder_lib.check_clips(builder.name, root, clips)
    rows = []
    for clip in clips:
        sample = clip.sample
        objective = sample.objective_class
        rows.append(
            {
                "input": np.zeros(0, np.uint8),
                "name": sample.clip,
                "subject": input_pipeline.prefixed_subject(clip.split, clip.database)
                if prefix
                else clip.split,
                "database": clip.database,
                "aus": au_vocab.multi_hot(sample.aus),
                "emotion": clip.label if clip.label is not None else sample.emotion,
                "objective_class": (
                    au_vocab.OBJECTIVE_CLASSES.index(objective)
                    if objective
                    else au_vocab.NO_OBJECTIVE_CLASS
                ),
                "phases": [-1, -1, -1],  # frame positions are not read
            }
        )
    return rows


def _rows_from_build(builder, prefix: bool) -> list[dict]:
    """One ClipSet row per example of a built database, its frames left undecoded."""
    import tensorflow_datasets as tfds

    skip = {
        name: tfds.decode.SkipDecoding()
        for name in ("frames", "flow", "apex_frame")
        if name in builder.info.features
    }
    names = input_pipeline.subjects(builder)
    dataset = builder.as_dataset(split="+".join(names), decoders=skip, shuffle_files=False)
    dataset = dataset.map(lambda ex: {k: v for k, v in ex.items() if k not in skip})
    return [
        input_pipeline.clip_row(example, np.zeros(0, np.uint8), prefix)
        for example in tfds.as_numpy(dataset)
    ]


def _label_clips(dataset, input_config, prefix: bool, problems: _Problems):
    """The label-only ClipSet of one database (None when its labels cannot be read)."""
    builder, module = input_pipeline.unprepared_builder(dataset, input_config)
    manual_dir = dataset.get("manual_dir") or ""
    generated = module in input_pipeline.GENERATED
    full_name = f"{builder.name}/{builder.builder_config.name}"
    if not builder.is_prepared() and not generated:  # synth_me is generated below
        if not manual_dir:
            command = input_pipeline.build_command(full_name, module)
            problems.add(
                f"{full_name} is not built and dataset.manual_dir is empty: build it from your "
                f"copy with\n    {command}\n  or give --config.dataset.manual_dir=DIR.",
                impossible=True,
            )
            return None
        problems.add(f"{full_name} is not built: the run builds it first from {manual_dir}.")
    if manual_dir and not generated:
        root = pathlib.Path(manual_dir).expanduser()
        if not root.is_dir():
            problems.add(f"dataset.manual_dir {root} is not a directory.", impossible=True)
            return None
        try:
            rows = _rows_from_sheets(builder, root, prefix)
        except (FileNotFoundError, ValueError) as error:  # a missing path, a malformed row
            problems.add(f"{full_name} cannot be read from {root}: {error}", impossible=True)
            return None
    elif builder.is_prepared():
        rows = _rows_from_build(builder, prefix)
    else:  # a generated database not built yet (synth_me): built now, as the run would
        builder.download_and_prepare()
        rows = _rows_from_build(builder, prefix)
    if not rows:
        problems.add(f"{builder.name}: no clips.", impossible=True)
        return None
    return clipset.from_rows(rows)


def label_clips(config, problems: _Problems):
    """The run's clips (``dataset`` and ``dataset.extra``) as labels only, or None."""
    blocks = input_pipeline.dataset_blocks(config.dataset)
    parts = [_label_clips(b, config.input, len(blocks) > 1, problems) for b in blocks]
    if any(part is None for part in parts):
        return None
    return parts[0] if len(parts) == 1 else clipset.ClipSet.concatenate(parts)


def aux_label_clips(config, problems: _Problems):
    """The clips of ``config.aux_dataset`` as labels only (None without one)."""
    aux = config.get("aux_dataset")
    if aux is None or not aux.get("name"):
        return None
    return _label_clips(aux, input_pipeline.aux_input(config), False, problems)


# =============================================================================================
# The plan
# =============================================================================================


def _side(round_, side: str, data, targets, task) -> tuple[dict, np.ndarray]:
    index = round_.indices(side, data) if _has_side(round_, side) else np.zeros(0, np.int64)
    side_targets = targets[index]
    return (
        {
            "clips": int(len(index)),
            "subjects": sorted({data.subjects[i] for i in index}),
            "counts": task.target_counts(side_targets),
        },
        side_targets,
    )


def _has_side(round_, side: str) -> bool:
    return bool(getattr(round_, side))


def _stand_in(config, count: int):
    """Inputs of ``count`` clips without memory, shaped so that TrainBatches' checks pass."""
    size = max(config.input.get("crop_size", 0) or 0, 1)
    return np.broadcast_to(np.zeros((1, size, size, 1), np.uint8), (count, size, size, 1))


def _steps(config, round_dict: dict, train_targets, task, aux, problems: _Problems) -> None:
    """Adds the steps of a round's schedule to ``round_dict`` (problems to ``problems``)."""
    name = round_dict["name"]
    augment = config.input.get("flow_augment", "")
    per_clip = AUGMENTED_FLOWS.get(augment, 1)
    count = round_dict["train"]["clips"] * per_clip
    targets = np.repeat(train_targets, per_clip, axis=0)
    train = config.train
    balance = train.get("balance_classes", False)
    aux_pair = None
    if aux is not None:
        aux_pair = (_stand_in(config, len(aux[1])), aux[1])
    try:
        batches = input_pipeline.TrainBatches(
            _stand_in(config, count),
            targets,
            train.batch_size,
            seed=0,
            flip=False,
            crop=config.input.get("crop_size", 0),
            balance_classes=task.class_column(targets) if balance else None,
            aux=aux_pair,
            aux_ratio=config.get("aux_dataset", {}).get("ratio", 0.0),
            crop_mode=config.input.get("crop_mode", "random"),
            last_batch=train.get("last_batch", "drop"),
            balance_epoch=train.get("balance_epoch", "clips"),
        )
    except ValueError as error:
        problems.add(f"{name}: {error}.", impossible=True)
        return
    steps = batches.steps_per_epoch
    per_epoch = steps * batches.num_main
    dropped = 0 if balance else max(0, count - per_epoch)
    round_dict.update(
        batch_size=int(train.batch_size),
        steps_per_epoch=int(steps),
        clips_dropped_per_epoch=int(dropped),
        total_steps=int(steps * train.num_epochs),
    )
    if count and dropped / count > DROPPED_SHARE:
        problems.add(
            f"{name}: each epoch takes {steps} step(s) of {batches.num_main} clips and leaves "
            f"out {dropped} of the {count} training clips ({dropped / count:.0%}); "
            "train.last_batch='fill' keeps them."
        )
    if count and count < batches.num_main:
        problems.add(
            f"{name}: the training side has {count} clips, fewer than one batch of "
            f"{batches.num_main}: each step holds every clip once and {batches.num_main - count} "
            "drawn again (train.last_batch='fill')."
        )


def _round_problems(round_dict: dict, task, train_targets, selection: str, tested: bool,
                    problems: _Problems) -> None:  # fmt: skip
    name = round_dict["name"]
    if not round_dict["train"]["clips"]:
        problems.add(f"{name}: the training side has no clip.", impossible=True)
    if not round_dict["test"]["clips"] and tested:
        problems.add(f"{name}: the test side has no clip.", impossible=True)
    if selection == "validation" and not round_dict["validation"]["clips"]:
        problems.add(
            f"{name}: the validation side has no clip; the model of the last step is taken."
        )
    if round_dict["train"]["clips"]:
        try:
            task.check_training(train_targets, name)
        except ValueError as error:
            problems.add(str(error) + ".", impossible=True)
    absent = [n for n, c in round_dict["train"]["counts"].items() if c == 0]
    if round_dict["train"]["clips"] and absent:
        problems.add(f"{name}: no training clip of {', '.join(absent)} (nothing to learn from).")


def _absent(round_dict: dict, side: str) -> list[str]:
    if not round_dict[side]["clips"]:
        return []
    return [n for n, c in round_dict[side]["counts"].items() if c == 0]


# Up to this many rounds, each round's figures are reported (2-fold, 4-fold, HDE): a class or AU
# a round cannot validate or test is named per round. Over more rounds (LOSO) the test figures
# are pooled, and one subject rarely holds every class.
PER_ROUND_FIGURES = 4


def _side_problems(rounds: list[dict], selection: str, problems: _Problems) -> None:
    """What the validation and test sides of the rounds lack (see :data:`PER_ROUND_FIGURES`)."""
    sides = ("validation", "test") if selection == "validation" else ("test",)
    consequence = {"validation": "model selection cannot see them",
                   "test": "no test figure for them"}  # fmt: skip
    if len(rounds) <= PER_ROUND_FIGURES:
        for round_ in rounds:
            for side in sides:
                if absent := _absent(round_, side):
                    problems.add(f"{round_['name']}: no {side} clip of {', '.join(absent)} "
                                 f"({consequence[side]}).")  # fmt: skip
        return
    lacking = [(r["name"], _absent(r, "validation")) for r in rounds]
    lacking = [(name, absent) for name, absent in lacking if absent]
    if "validation" in sides and lacking:
        first, absent = lacking[0]
        problems.add(
            f"{len(lacking)} of {len(rounds)} rounds validate on a side without a clip of some "
            f"class or AU (e.g. {first}: {', '.join(absent)}); their model selection cannot "
            "see it."
        )
    names = list(rounds[0]["test"]["counts"]) if rounds else []
    never = [n for n in names if not any(r["test"]["counts"].get(n) for r in rounds)]
    if never:
        problems.add(f"no round tests a clip of {', '.join(never)} (no pooled test figure).")


def _setting(config) -> str:
    name = config.get("name", "") or "mejax"
    data = ", ".join(b.name for b in input_pipeline.dataset_blocks(config.dataset))
    aux = config.get("aux_dataset", {}).get("name", "")
    variant = input_pipeline.variant_config_name(config.input)
    return (
        f"{name} on {data}" + (f" (+ {aux})" if aux else "")
        + (f", input {variant}" if variant else "")
        + f", protocol {config.protocol.name}"
    )  # fmt: skip


def plan(config: ml_collections.ConfigDict) -> Plan:
    """The plan of ``config``'s run (see the module docstring).

    Returns:
      A :class:`Plan`; its ``rounds`` are dicts with ``name``, ``train`` / ``validation`` /
      ``test`` (``clips``, ``subjects``, ``counts``: per class, or positives per AU),
      ``counted`` (what ``counts`` counts), and, when the round can be stepped,
      ``batch_size``, ``steps_per_epoch``, ``clips_dropped_per_epoch`` and ``total_steps``.
    """
    problems = _Problems()
    checks = config_checks.count_errors(config) + config_checks.setting_errors(config)
    for error in checks + pretrained.pretraining_errors(config):
        problems.add(error, impossible=True)
    if "spotter" in config:
        return _spotting_plan(config, problems)
    setting = _setting(config)
    clips = label_clips(config, problems)
    if clips is None:
        return Plan(setting, [], problems.all, problems.impossible)
    aux_clips = aux_label_clips(config, problems)
    try:
        clips = paper_sets.apply(clips, config.task)
        task = tasks.build(config.task, clips)
        data, targets = task.take_part(clips)
        selection = config.get("train", {}).get("selection", "validation")
        rounds = protocols.build(config.protocol, data, config.seed, selection)
    except ValueError as error:
        problems.add(str(error), impossible=True)
        return Plan(setting, [], problems.all, problems.impossible)
    aux = None
    if aux_clips is not None:
        aux = task.take_part(aux_clips)
    setting += f": {len(data)} clips of {len(set(data.subjects))} subjects, {len(rounds)} rounds"
    planned = []
    for round_ in rounds:
        entry = {"name": round_.name, "counted": task.counted}
        sides = {}
        for side in SIDES:
            entry[side], sides[side] = _side(round_, side, data, targets, task)
        tested = _has_side(round_, "test")  # the pretraining protocol tests nothing
        _round_problems(entry, task, sides["train"], selection, tested, problems)
        if entry["train"]["clips"] and "train" in config:  # a deep model's schedule
            _steps(config, entry, sides["train"], task, aux, problems)
        planned.append(entry)
    _side_problems(planned, selection, problems)
    return Plan(setting, planned, problems.all, problems.impossible)


def _spotting_plan(config, problems: _Problems) -> Plan:
    """The plan of a spotting run: per round its videos and expressions of each side and, per
    type, the k its training videos give (SOFTNet's rule; MDMD's is the database's) and the
    windows it trains on and scores. The videos are read with their frames left on disk; a
    licensed database not yet built is read from its copy's sheet and frame folders (no frame
    decoded, :func:`mejax.spotting.videos.from_folders`)."""
    from mejax import input_pipeline as pipeline
    from mejax.spotting import flow_features, mdmd, videos

    setting = f"{config.get('name', '') or 'mejax'} on {config.dataset.name}, protocol "
    setting += config.protocol.name
    manual_dir = config.dataset.get("manual_dir") or ""
    try:
        builder, module = pipeline.unprepared_builder(config.dataset)
        if manual_dir and not builder.is_prepared() and module not in pipeline.GENERATED:
            # A licensed database's copy, not built: its sheet and frame folders.
            problems.add(f"{config.dataset.name} is not built: the run builds it first from "
                         f"{manual_dir}.")  # fmt: skip
            data = videos.from_folders(config.dataset)
        else:  # built, generated on first use, or NotBuilt with the command that builds it
            data = videos.load(config.dataset)
        task = tasks.build(config.task, data)
        data, targets = task.take_part(data)
        rounds = protocols.build(config.protocol, data, config.seed, "last")
    except (ValueError, FileNotFoundError, pipeline.NotBuilt) as error:
        problems.add(str(error), impossible=True)
        return Plan(setting, [], problems.all, problems.impossible)
    events = sum(len(t) for t in targets)
    setting += f": {len(data)} videos of {len(set(data.subjects))} subjects, {events} "
    setting += f"expressions, {len(rounds)} rounds"
    planned = []
    for round_ in rounds:
        entry = {"name": round_.name, "counted": task.counted, "unit": "videos", "windows": {}}
        for side in SIDES:
            entry[side], _ = _side(round_, side, data, targets, task)
        train = data.take(round_.indices("train", data)).videos
        test = data.take(round_.indices("test", data)).videos
        for kind in task.types:
            if not any(e.type == kind for video in train for e in video.events):
                problems.add(f"{round_.name}: no {kind} expression in training; none is spotted")
                continue
            if config.spotter.method == "mdmd":
                k = mdmd.mdmd_params(kind, test[0].fps, test[0].database).k
            else:
                k = flow_features.softnet_k(train, kind)
            trained = config.spotter.method != "mdmd"
            entry["windows"][kind] = {
                "k": int(k),
                "train": sum(max(len(v) - k, 0) for v in train) if trained else 0,
                "test": sum(max(len(v) - k, 0) for v in test),
            }
        planned.append(entry)
    return Plan(setting, planned, problems.all, problems.impossible)


def write_json(result: Plan, path: str | pathlib.Path) -> None:
    """Writes the plan as JSON to ``path``."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.as_dict(), indent=1) + "\n")


def total_steps(result: Plan) -> int:
    """The training steps of every round of the plan together."""
    return sum(r.get("total_steps", 0) for r in result.rounds)
