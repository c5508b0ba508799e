"""Run files and training logs: atomic writes, a JSONL metrics file, TensorBoard summaries and
the training-curve plot.

Every file of a run directory (``config.json``, ``ROUND/predictions.npz``, ``results.json``,
``results.md``, ``curves.png``) is written to a temporary file beside it and renamed over it
(:func:`write_atomic`), so a run killed while writing leaves the previous file or none, never a
truncated one. ``metrics.jsonl`` is appended line by line: a line cut short by a kill is dropped
when the file is read (:func:`read_metrics`) or appended to again, and a resumed round drops the
lines it logged past its restored step (:meth:`MetricWriter.drop_after`), so no step is logged
twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np

# =============================================================================================
# Atomic writes
# =============================================================================================


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, write: Callable, binary: bool = False) -> None:
    """Calls ``write(file)`` on a temporary file beside ``path``, then renames it to ``path``,
    with the permissions the umask gives a new file (``tempfile`` creates it 0600: colleagues
    could not read a shared run's ``results.md``)."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb" if binary else "w") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def remove_temporaries(workdir: str | Path) -> list[Path]:
    """Removes the temporary files of :func:`write_atomic` that a killed run left in
    ``workdir`` and its round folders (call it holding the workdir's lock); returns them."""
    found = [p for p in Path(workdir).glob("**/.*.tmp") if p.is_file()]
    for path in found:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return found


def write_text(path: str | Path, text: str) -> None:
    """``path.write_text(text)``, atomically."""
    write_atomic(path, lambda file: file.write(text))


def savez(path: str | Path, **arrays) -> None:
    """``np.savez(path, **arrays)``, atomically."""
    write_atomic(path, lambda file: np.savez(file, **arrays), binary=True)


# =============================================================================================
# Metrics
# =============================================================================================


def read_metrics(metrics_file: str | Path) -> list[dict]:
    """The records of ``metrics.jsonl``; a last line cut short (a killed run) is left out."""
    lines = Path(metrics_file).read_text().splitlines()
    records = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number < len(lines):
                raise ValueError(
                    f"{metrics_file}:{number} is not a JSON record: {line!r}"
                ) from None
    return records


def _complete_lines(path: Path) -> None:
    """Cuts ``path`` after its last newline (drops a line a kill cut short)."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        write_atomic(path, lambda file: file.write(data[: data.rfind(b"\n") + 1]), binary=True)


class MetricWriter:
    """Appends metric records to ``DIR/metrics.jsonl`` and TensorBoard (``DIR/tensorboard``).

    Only process 0 writes.
    """

    def __init__(self, workdir: Path):
        self._active = jax.process_index() == 0
        if not self._active:
            return
        import tensorflow as tf  # TensorBoard's summary writer; also keeps TF off the GPU.

        tf.config.set_visible_devices([], "GPU")
        self._tf = tf
        self._path = Path(workdir) / "metrics.jsonl"
        _complete_lines(self._path)
        self._jsonl = open(self._path, "a")  # noqa: SIM115 (closed in close)
        self._summary = tf.summary.create_file_writer(str(Path(workdir) / "tensorboard"))

    def write(self, round_name: str, step: int, scalars: dict[str, float]) -> None:
        if not self._active:
            return
        record = {"round": round_name, "step": step, **{k: float(v) for k, v in scalars.items()}}
        self._jsonl.write(json.dumps(record) + "\n")
        self._jsonl.flush()
        with self._summary.as_default(step=step):
            for key, value in scalars.items():
                self._tf.summary.scalar(f"{round_name}/{key}", float(value))

    def drop_after(self, round_name: str, step: int) -> None:
        """Removes the records of ``round_name`` past ``step`` (a round resumed at ``step``
        logs them again). TensorBoard's event files are left as they are."""
        if not self._active or not self._path.stat().st_size:
            return
        records = read_metrics(self._path)
        kept = [r for r in records if r.get("round") != round_name or r.get("step", 0) <= step]
        if len(kept) < len(records):
            self._jsonl.close()
            write_text(self._path, "".join(json.dumps(r) + "\n" for r in kept))
            self._jsonl = open(self._path, "a")  # noqa: SIM115 (closed in close)

    def close(self) -> None:
        if self._active:
            self._jsonl.close()
            self._summary.close()


def _selected_steps(chosen) -> list[int]:
    """The distinct steps of a round's ``selected_step``: one step, or one per model (a dict or
    a list); a model that kept no step (None) adds none."""
    if isinstance(chosen, dict):
        chosen = list(chosen.values())
    elif not isinstance(chosen, list | tuple):
        chosen = [chosen]
    return sorted({int(v) for v in chosen if isinstance(v, int | float) and v == v})


def plot_curves(
    metrics_file: Path,
    out: Path,
    score_name: str = "score",
    selected: dict[str, object] | None = None,
) -> None:
    """Plots training loss and the validation score (``val/score``, the task's model-selection
    score: average F1 over AUs, UF1, ...) per round from ``metrics.jsonl`` into a PNG. A run whose
    rounds were all shorter than ``train.log_every_steps`` logged nothing: its figure says so.

    Args:
      selected: round name -> its ``selected_step`` in ``results.json`` (a step, or one per
        model): each selected step is marked on that round's validation curve (a star where it
        was evaluated, a dotted line in the round's colour on both panels).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_metrics(metrics_file)
    rounds = sorted({r["round"] for r in records})
    selected = selected or {}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    marked = False
    for name in rounds:
        train = [r for r in records if r["round"] == name and "loss" in r]
        val = [r for r in records if r["round"] == name and "val/score" in r]
        axes[0].plot([r["step"] for r in train], [r["loss"] for r in train], label=name)
        (line,) = axes[1].plot(
            [r["step"] for r in val], [r["val/score"] for r in val], "o-", label=name
        )
        scores = {r["step"]: r["val/score"] for r in val}
        for step in _selected_steps(selected.get(name, [])):
            for axis in axes:
                axis.axvline(step, color=line.get_color(), linestyle=":", linewidth=1)
            if step in scores:
                axes[1].plot(step, scores[step], "*", color=line.get_color(), markersize=14,
                             markeredgecolor="black", zorder=3)  # fmt: skip
            marked = True
    title = f"validation {score_name}" + ("\n(star, dotted line: selected step)" if marked else "")
    axes[0].set(title="training loss (mean over models)", xlabel="step", yscale="log")
    axes[1].set(title=title, xlabel="step", ylim=(0, 1))
    for axis in axes:
        if rounds:
            axis.legend()
        else:
            axis.text(
                0.5,
                0.5,
                f"nothing logged in {metrics_file.name}",
                ha="center",
                transform=axis.transAxes,
            )
        axis.grid(alpha=0.3)
    fig.tight_layout()
    write_atomic(out, lambda file: fig.savefig(file, dpi=100, format="png"), binary=True)
    plt.close(fig)


def write_results(workdir: Path, results: dict, task) -> None:
    """Writes a finished experiment's reports into ``workdir``, each atomically: ``results.json``,
    the task's ``results.md`` (and figures) and, for a run that logged metrics, ``curves.png``
    (each round's selected step marked).

    The numbers are the task's (:meth:`mejax.tasks.Task.summarize`): each test clip predicted
    by the model(s) of the round that held it out, selected on that round's validation side (or
    at the last step, ``train.selection=last``), never on the test side. ``results`` gains
    ``"environment"``: the Python, library versions and devices of this process
    (:func:`mejax.environment.describe`)."""
    from mejax import environment

    workdir = Path(workdir)
    results["environment"] = environment.describe()
    write_text(workdir / "results.json", json.dumps(results, indent=2))
    task.write_reports(workdir, results)
    if (workdir / "metrics.jsonl").exists():
        selected = {r["name"]: r["selected_step"] for r in results.get("rounds", [])
                    if "name" in r and "selected_step" in r}  # fmt: skip
        plot_curves(workdir / "metrics.jsonl", workdir / "curves.png", task.score_name, selected)
