"""A leave-one-subject-out protocol trained fold after fold against all its folds in one program.

``python -m mejax.main`` trains the rounds (folds) of a protocol one after another by default;
``--config.train.folds_per_step=N`` trains N of them together: their states stacked and
``vmap``ped in one compiled step, each fold drawing batches from its own training subjects on
its own schedule (``mejax.train.DeepFitter.fit``). This script runs the same protocol both ways,
in the same process, and prints the wall time and folds per hour of each (compilation,
validation and the test predictions included: the time a researcher waits), and how far the
two runs' test scores are apart (float rounding; ``tests/test_train.py`` shows the two are the
same computation in float64).

Default: the part-based ResNet-18 of the Neural ME Recognizer (``configs/neural_mer.py:synth``:
1/2 width, 64^2 HSV flow, batch 16 with macro-expression source clips mixed in, the domain
discriminator) on the embedded ``synth_me/small``, under LOSO instead of its 4-fold protocol,
``--folds`` of its subjects' folds, ``--epochs`` epochs each. The database and its flow variants
are built (once, under ``--data-dir``) before anything is timed.

  python benchmarks/protocol.py [--config configs/neural_mer.py:synth] [--folds 4]
                                [--epochs 2] [--data-dir ~/tensorflow_datasets]

Last line (the headline): ``protocol: fold-parallel/serial speed ratio R (serial A folds/h,
fold-parallel B folds/h; N folds)`` (above 1: training the folds together is faster).

Measured with the defaults on 2 CPU cores, JAX 0.10.2: with the model programs compiled without
YNNPACK (``mejax.models.compiler``), no other job: serial 58.5 s (246 folds/h), fold-parallel
55.8 s (258 folds/h), ratio 1.05. Before that change, on cores shared with other jobs: serial
77.3 s (186 folds/h), fold-parallel 103.4 s (139 folds/h), ratio 0.75; with ``--folds 2
--epochs 1`` 38.7 s against 42.7 s, ratio 0.91. On a CPU the fold-stacked convolutions become
grouped convolutions, which XLA's own CPU kernels run about as fast as the folds one after
another; the fold-parallel program is meant for accelerators, where the stacked folds fill the
device. The two runs' test scores came out up to 0.79 apart (0.87 in the run after the
change): this config trains with Adam, whose normalised steps turn float32 rounding
differences (1e-6 in the first step's loss) into other models within an epoch; with SGD
(``--config.optimizer.name=sgd``, 2 folds, 1 epoch) they were 2e-3 apart, and in float64 the
two ways are the same computation (``tests/test_train.py``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from absl import logging

from mejax import config_args, experiment, input_pipeline

REPO = Path(__file__).resolve().parents[1]


def _parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--config", default="configs/neural_mer.py:synth", help="config file[:argument]"
    )
    parser.add_argument("--folds", type=int, default=4, help="LOSO folds run (the first N)")
    parser.add_argument("--epochs", type=int, default=2, help="training epochs per fold")
    parser.add_argument("--data-dir", default="", help="TFDS data_dir (default: TFDS's own)")
    return parser.parse_args()


def protocol_config(args, folds_per_step: int):
    path, _, argument = args.config.partition(":")
    config = config_args.load_file(REPO / path, argument or None).unlock()
    config.protocol.name = "loso"
    config.protocol.rounds = tuple(range(args.folds))
    config.train.num_epochs = args.epochs
    config.train.folds_per_step = folds_per_step
    for block in (config.dataset, config.get("aux_dataset", {})):
        if args.data_dir and "data_dir" in block:
            block.data_dir = args.data_dir
    return config.lock()


def timed_run(config, workdir: Path) -> tuple[float, dict]:
    start = time.perf_counter()
    experiment.run(config, workdir)
    seconds = time.perf_counter() - start
    scores = {}
    for record in sorted(workdir.glob("*/predictions.npz")):
        with np.load(record) as npz:
            scores[record.parent.name] = npz["scores"]
    return seconds, scores


def main():
    args = _parse_args()
    logging.set_verbosity(logging.WARNING)
    serial_config = protocol_config(args, 1)
    input_pipeline.load(serial_config)  # builds the database and its variants, untimed
    if serial_config.get("aux_dataset", {}).get("name", ""):
        input_pipeline.load_aux(serial_config)
    print(f"{args.config}: LOSO, {args.folds} folds, {args.epochs} epochs each")
    with tempfile.TemporaryDirectory() as scratch:
        serial_s, serial = timed_run(serial_config, Path(scratch) / "serial")
        parallel_s, parallel = timed_run(protocol_config(args, args.folds), Path(scratch) / "par")
    if serial.keys() != parallel.keys() or len(serial) != args.folds:
        raise RuntimeError(f"rounds differ: serial {sorted(serial)}, parallel {sorted(parallel)}")
    apart = max(float(np.abs(serial[k] - parallel[k]).max()) for k in serial)
    per_hour = {name: args.folds * 3600 / s for name, s in (("serial", serial_s),
                                                             ("parallel", parallel_s))}  # fmt: skip
    print(f"serial        {serial_s:8.1f} s  {per_hour['serial']:8.1f} folds/h")
    print(f"fold-parallel {parallel_s:8.1f} s  {per_hour['parallel']:8.1f} folds/h "
          f"(folds_per_step={args.folds})")  # fmt: skip
    print(f"test scores of the two runs at most {apart:.2g} apart")
    print(
        f"protocol: fold-parallel/serial speed ratio {serial_s / parallel_s:.2f} (serial "
        f"{per_hour['serial']:.1f} folds/h, fold-parallel {per_hour['parallel']:.1f} folds/h; "
        f"{args.folds} folds)"
    )


if __name__ == "__main__":
    main()
