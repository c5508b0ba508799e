"""JAX TV-L1 (``mejax.preprocess.flow.tvl1``) versus OpenCV's DualTVL1OpticalFlow.

Both run the same parameters (OpenCV's defaults unless overridden) on the same uint8 frames:

- ``--pairs`` synthetic micro-expression-like pairs of ``--size``^2 pixels with known
  sub-pixel flow (0.2-2 px; :func:`mejax.preprocess.flow_data.synthetic_pair`): end-point
  error (EPE) of each method against the truth and between the two (mutual EPE);
- the Middlebury motorcycle stereo pair shipped with scikit-image, resized by
  ``--real-scale``: EPE against its ground-truth disparity (where known) and mutual EPE.

The default setting is the headline: a database's worth of onset->apex pairs (256, about
CASME II's 255 clips) at the size the dataset builders compute flow at (112^2; MER-auGCN
then area-averages it to 28^2); it takes about three minutes on two cores.

Speed: JAX runs the pairs in one :func:`~mejax.preprocess.flow.tvl1` call (on a CPU: one
jit-compiled program per pair on one worker thread per core; ``--vectorized``: the whole
batch as one vmapped program, the default on a GPU), compiled by a warm-up call, then the best
of ``--repeats`` calls; OpenCV runs the pairs one after another with its own threads. Pairs per
second = pairs / seconds; the ratio is JAX pairs/s / OpenCV pairs/s (above 1: JAX is faster).
The script runs unchanged on a GPU (JAX picks the default backend; OpenCV stays on the CPU).

  python benchmarks/flow.py [--size 112] [--pairs 256] [--repeats 2] [--real-scale 0.25]
                            [--vectorized] [--threads N] [--opencv-threads N]

Last line (the headline):
``flow: jax/opencv speed ratio X, EPE jax Y px, EPE opencv Z px`` (EPE on the synthetic pairs).
Needs the test extra (opencv-contrib-python-headless, scikit-image).

Measured on a 2-core AMD EPYC VM shared with another job (OpenCV's own speed moved between
6 and 21 pairs/s from run to run with that job's load), JAX and OpenCV timed in the same
process; pairs per second JAX / OpenCV, ratio, EPE against the synthetic truth JAX / OpenCV,
mutual EPE (px):

- before, ``--repeats 1`` (256 x 112^2): 1.3 / 6.4, ratio 0.21, EPE 0.0687 / 0.0687, mutual
  0.0114;
- before, ``--size 64 --pairs 32 --repeats 3``: 4.2 / 20.9, ratio 0.20, EPE 0.1189 / 0.1181,
  mutual 0.0215;
- after, defaults (256 x 112^2): 46.5 / 8.9, ratio 5.21, EPE 0.0687 / 0.0687, mutual 0.0114;
- after, one core each, ``--pairs 64 --threads 1 --opencv-threads 1``: 29.8 / 6.3, ratio
  4.75, EPE 0.0711 / 0.0710, mutual 0.0108 (the per-core figure, least sensitive to the load);
- after, defaults with ``--vectorized``: ratio 1.58 (OpenCV 6.5, so JAX ~10.3), EPE 0.0687 /
  0.0687, mutual 0.0115 (same remap variant).

"Before" is the vmapped batch with the median as a sort; ``--vectorized`` is today's GPU
default run on the CPU. The flows are bit for bit those of before (checked on synthetic pairs
against the previous release's module): the median network gives the median's values and a
pair alone runs the same arithmetic as in the vmapped batch.

Where the time went and what changed: the median over 25 stacked windows was an XLA sort,
~1.8 us per pixel on this CPU (95% of the run); it is now a pruned Batcher selection network
(113 elementwise min / max, the same values), ~5 ns per pixel. The vmapped batch ran every
pair's masked while_loop until the slowest pair of the batch stopped (x1.3-1.6 the work) and
streamed a batch-sized working set from memory at every iteration (11-13 ns per pixel and
iteration at 128 x 112^2, against ~6 ns for one pair in cache); on a CPU, pairs now run one per
call on one thread per core. Per pair at 112^2 the rest is about 70% inner iterations (16 small
fused kernels each, ~6 ns per pixel), 15% medians, 12% remaps. Tried and not kept: gathering
each image of the bicubic remap from its own flat array (XLA:CPU gathers (K,)-vectors from a
(H * W, K) stack slowly; ~25% of the per-pair time) -- its sums fuse differently and the
rounding-sensitive stopping rule moved single flow vectors by up to 11 px, so cached flows and
the results trained on them would change; without a measurable gain: u and p as stacked
(2, H, W) / (2, 2, H, W) arrays (fewer, larger kernels), the two medians as one call,
``sqrt(x^2 + y^2)`` for OpenCV's ``hypot`` (it also moves the flows by rounding), one gather of
4x4 patches for the remap, XLA:CPU's 512-bit vector preference.
"""

from __future__ import annotations

import argparse
import time

import cv2
import jax
import numpy as np

from mejax.preprocess import flow, flow_data


def _parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=112, help="synthetic frame side (pixels)")
    parser.add_argument("--pairs", type=int, default=256, help="synthetic pairs (one batch)")
    parser.add_argument("--repeats", type=int, default=2, help="timed calls (best is kept)")
    parser.add_argument("--real-scale", type=float, default=0.25, help="motorcycle pair scale")
    parser.add_argument("--warps", type=int, default=5, help="TV-L1 warps per scale")
    parser.add_argument("--scales", type=int, default=5, help="TV-L1 pyramid levels")
    parser.add_argument(
        "--vectorized", action="store_true", help="JAX: the batch as one vmapped program"
    )
    parser.add_argument("--threads", type=int, default=None, help="JAX worker threads (CPU)")
    parser.add_argument(
        "--opencv-threads", type=int, default=None, help="cv2.setNumThreads (default: OpenCV's)"
    )
    return parser.parse_args()


def _time_jax(i0, i1, params, repeats, **options):
    result = np.asarray(flow.tvl1(i0, i1, params, **options))  # compiles
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        flow.tvl1(i0, i1, params, **options).block_until_ready()
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
    if args.opencv_threads is not None:
        cv2.setNumThreads(args.opencv_threads)
    options = {"threads": args.threads}
    if args.vectorized:
        options["vectorize"] = True
    print(
        f"backend {backend}; {args.pairs} pairs of {args.size}x{args.size}; {params}; JAX "
        f"{options}; OpenCV threads {cv2.getNumThreads()}"
    )

    ours, t_ours = _time_jax(i0, i1, params, args.repeats, **options)
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
    real_ours = np.asarray(flow.tvl1(left, right, params, **options))
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
