"""Training logs: a JSONL metrics file, TensorBoard summaries and the training-curve plot."""

from __future__ import annotations

import json
from pathlib import Path

import jax


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
        self._jsonl = open(Path(workdir) / "metrics.jsonl", "a")  # noqa: SIM115 (closed in close)
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

    def close(self) -> None:
        if self._active:
            self._jsonl.close()
            self._summary.close()


def plot_curves(metrics_file: Path, out: Path, score_name: str = "score") -> None:
    """Plots training loss and the validation score (``val/score``, the task's model-selection
    score: average F1 over AUs, UF1, ...) per round from ``metrics.jsonl`` into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [json.loads(line) for line in Path(metrics_file).read_text().splitlines()]
    rounds = sorted({r["round"] for r in records})
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name in rounds:
        train = [r for r in records if r["round"] == name and "loss" in r]
        val = [r for r in records if r["round"] == name and "val/score" in r]
        axes[0].plot([r["step"] for r in train], [r["loss"] for r in train], label=name)
        axes[1].plot([r["step"] for r in val], [r["val/score"] for r in val], "o-", label=name)
    axes[0].set(title="training loss (mean over models)", xlabel="step", yscale="log")
    axes[1].set(title=f"validation {score_name}", xlabel="step", ylim=(0, 1))
    for axis in axes:
        axis.legend()
        axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
