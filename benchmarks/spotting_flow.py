"""Flow methods for the spotting features (``mejax.spotting.flow_features``) on small frames.

Each method of :data:`mejax.spotting.flow_features.FLOW_METHODS` runs on the same ``--pairs``
synthetic pairs of ``--size``^2 pixels with known smooth sub-pixel flow (0.2-2 px;
:func:`mejax.preprocess.flow_data.synthetic_pair`), through
:func:`mejax.spotting.flow_features.compute_flow` (the call the features make, in blocks as a
video chunk would give them). Speed: best of ``--repeats`` calls after a warm-up call (JAX
compiles there), as milliseconds per pair and as a ratio to the reference measured in the same
run, OpenCV's TV-L1 (``tvl1_opencv``, SOFTNet's flow); above 1 = faster than the reference.
Accuracy: mean end-point error against the known flow, 4 border pixels left out. The last
column projects a synthetic spotting run: 16 videos x 600 frames x 2 types (about 19,000 pairs).

  python benchmarks/spotting_flow.py [--size 64] [--pairs 64] [--repeats 3]

Last line (the headline):
``spotting_flow: farneback X ms/pair (ratio R to tvl1_opencv), dis ..., tvl1 ...``.

Measured on 2 CPU cores shared with other jobs, defaults (64 pairs of 64^2, best of 3; the
ratio is the reference's time over the method's):

==============  ========  ================  ========  ==========================
method          ms/pair   vs tvl1_opencv    EPE px    16 x 600 x 2 pairs (s)
==============  ========  ================  ========  ==========================
farneback       0.50      117               0.122     9.5
dis             0.18      316               0.145     3.5
tvl1 (JAX)      5.9       9.9               0.106     113
tvl1_opencv     58        1                 0.106     1117
==============  ========  ================  ========  ==========================

Farneback is the features' default: within 0.02 px of TV-L1 on these pairs at a twelfth of the
JAX TV-L1's time; the JAX TV-L1 (SOFTNet's flow, the same flows as OpenCV's to 0.001 px EPE
here) fits a synthetic run in about two minutes of flow alone; OpenCV's TV-L1 does not.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mejax.preprocess import flow as flow_lib
from mejax.preprocess import flow_data
from mejax.spotting import flow_features

REFERENCE = "tvl1_opencv"
SYNTHETIC_RUN_PAIRS = 16 * 600 * 2


def _parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=64, help="frame side (pixels)")
    parser.add_argument("--pairs", type=int, default=64, help="pairs per call")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per method")
    return parser.parse_args()


def main():
    args = _parse_args()
    pairs = [flow_data.synthetic_pair(args.size, seed=seed) for seed in range(args.pairs)]
    first = np.stack([pair[0] for pair in pairs])
    second = np.stack([pair[1] for pair in pairs])
    truth = np.stack([pair[2] for pair in pairs])
    rows = {}
    for method in flow_features.FLOW_METHODS:
        flows = flow_features.compute_flow(first, second, method)  # warm-up (JAX compiles)
        best = np.inf
        for _ in range(args.repeats):
            begin = time.perf_counter()
            flows = flow_features.compute_flow(first, second, method)
            best = min(best, time.perf_counter() - begin)
        rows[method] = (best / args.pairs, flow_lib.endpoint_error(flows, truth, border=4))
    reference = rows[REFERENCE][0]
    print(f"{'method':<14} {'ms/pair':>9} {'ratio':>8} {'EPE px':>8} {'run s':>8}")
    for method, (seconds, epe) in rows.items():
        print(
            f"{method:<14} {1e3 * seconds:9.3f} {reference / seconds:8.2f} {epe:8.4f} "
            f"{seconds * SYNTHETIC_RUN_PAIRS:8.1f}"
        )
    print(
        "spotting_flow: "
        + ", ".join(
            f"{method} {1e3 * seconds:.2f} ms/pair (ratio {reference / seconds:.1f} to {REFERENCE})"
            for method, (seconds, _) in rows.items()
        )
    )


if __name__ == "__main__":
    main()
