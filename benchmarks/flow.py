"""JAX TV-L1 (``mejax.preprocess.flow.tvl1``) versus OpenCV's DualTVL1OpticalFlow.

Both run the same parameters (OpenCV's defaults unless overridden) on the same uint8 frames:

- ``--pairs`` synthetic micro-expression-like pairs of ``--size``^2 pixels with known
  sub-pixel flow (0.2-2 px; :func:`mejax.preprocess.flow_data.synthetic_pair`): end-point
  error (EPE) of each method against the truth and between the two (mutual EPE);
- the Middlebury motorcycle stereo pair shipped with scikit-image, resized by
  ``--real-scale``: EPE against its ground-truth disparity (where known) and mutual EPE.

Speed: JAX runs the pairs as one batched, jit-compiled call (compiled by a warm-up call,
then the best of ``--repeats`` calls); OpenCV runs them one after another with its own
threads. Frames per second = pairs / seconds; the ratio is JAX fps / OpenCV fps (above 1:
JAX is faster). The script runs unchanged on a GPU (JAX picks the default backend; OpenCV
stays on the CPU).

  python benchmarks/flow.py [--size 64] [--pairs 32] [--repeats 3] [--real-scale 0.25]

Last line (the headline):
``flow: jax/opencv speed ratio X, EPE jax Y px, EPE opencv Z px`` (EPE on the synthetic pairs).
Needs the test extra (opencv-contrib-python-headless, scikit-image).
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

from mejax.preprocess import flow, flow_data


def _parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=64, help="synthetic frame side (pixels)")
    parser.add_argument("--pairs", type=int, default=32, help="synthetic pairs (one batch)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls (best is kept)")
    parser.add_argument("--real-scale", type=float, default=0.25, help="motorcycle pair scale")
    parser.add_argument("--warps", type=int, default=5, help="TV-L1 warps per scale")
    parser.add_argument("--scales", type=int, default=5, help="TV-L1 pyramid levels")
    return parser.parse_args()


def _time_jax(i0, i1, params, repeats):
    result = np.asarray(flow.tvl1(i0, i1, params))  # compiles
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        flow.tvl1(i0, i1, params).block_until_ready()
        best = min(best, time.perf_counter() - start)
    return result, best


def _time_opencv(i0, i1, params, repeats):
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = np.stack([flow.tvl1_opencv(a, b, params) for a, b in zip(i0, i1, strict=True)])
        best = min(best, time.perf_counter() - start)
    return result, best


def _masked_epe(estimate, truth):
    known = np.isfinite(truth[..., 0])
    return float(np.hypot(*(estimate - truth)[known].T).mean())


def main():
    args = _parse_args()
    params = flow.TVL1Params(num_warps=args.warps, num_scales=args.scales)
    backend = jax.default_backend()
    pairs = [flow_data.synthetic_pair(args.size, seed) for seed in range(args.pairs)]
    i0, i1, truth = (np.stack(parts) for parts in zip(*pairs, strict=True))
    print(f"backend {backend}; {args.pairs} pairs of {args.size}x{args.size}; {params}")

    ours, t_ours = _time_jax(i0, i1, params, args.repeats)
    opencv, t_opencv = _time_opencv(i0, i1, params, args.repeats)
    fps_ours, fps_opencv = args.pairs / t_ours, args.pairs / t_opencv
    epe_ours = flow.endpoint_error(ours, truth)
    epe_opencv = flow.endpoint_error(opencv, truth)
    mutual = flow.endpoint_error(ours, opencv)
    print(f"synthetic  jax    {fps_ours:8.1f} pairs/s  EPE {epe_ours:.4f} px")
    print(f"synthetic  opencv {fps_opencv:8.1f} pairs/s  EPE {epe_opencv:.4f} px")
    print(
        f"synthetic  mutual EPE {mutual:.4f} px (interior, 4 px border cut: "
        f"{flow.endpoint_error(ours, opencv, border=4):.4f} px); EPE ratio jax/opencv "
        f"{epe_ours / epe_opencv:.3f}"
    )

    left, right, disparity = flow_data.motorcycle_pair(args.real_scale)
    real_ours = np.asarray(flow.tvl1(left, right, params))
    real_opencv = flow.tvl1_opencv(left, right, params)
    print(
        f"motorcycle {left.shape[1]}x{left.shape[0]}: EPE vs disparity jax "
        f"{_masked_epe(real_ours, disparity):.4f} px, opencv "
        f"{_masked_epe(real_opencv, disparity):.4f} px; mutual EPE "
        f"{flow.endpoint_error(real_ours, real_opencv):.4f} px"
    )
    print(
        f"flow: jax/opencv speed ratio {fps_ours / fps_opencv:.2f}, EPE jax {epe_ours:.4f} px, "
        f"EPE opencv {epe_opencv:.4f} px"
    )


if __name__ == "__main__":
    main()
