"""Throughput of the hand-crafted descriptors (``mejax.baselines``) on CASME II-sized clips.

Each descriptor of ``mejax.baselines.descriptors`` runs, with the parameters of its config in
``configs/`` (the paper setting: 5 x 5 blocks), on a clip of ``--frames`` x ``--size``^2 RGB
pixels (default 10 x 224^2: STAP's input, TIM-interpolated CASME II). The pixels are synthetic:
a smooth random texture drifting by a pixel per frame plus noise, so that optical flow and
gradients see structure. Reported is the best of ``--repeats`` timed passes over ``--clips``
clips after one warm-up clip, as clips per second on one process (NumPy's and OpenCV's own
threading as configured).

  python benchmarks/baselines.py [--frames 10] [--size 224] [--clips 4] [--repeats 3]

Last line (the headline): ``baselines: lbp_top X clips/s, lbp_sip Y clips/s, ...``.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import cv2
import numpy as np

from mejax.baselines import descriptors

REPO = Path(__file__).resolve().parents[1]
CONFIGS = ("lbp_top", "lbp_sip", "lpq_top", "hog3d", "hog3d_polikovsky", "hoof")


def _parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=10, help="frames per clip")
    parser.add_argument("--size", type=int, default=224, help="frame height and width")
    parser.add_argument("--clips", type=int, default=4, help="clips per timed pass")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per descriptor")
    return parser.parse_args()


def _config(stem: str):
    spec = importlib.util.spec_from_file_location(f"config_{stem}", REPO / "configs" / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config("casme2")


def synthetic_clips(count: int, frames: int, size: int, seed: int = 0) -> np.ndarray:
    """(count, frames, size, size, 3) uint8: drifting smooth texture plus noise."""
    rng = np.random.default_rng(seed)
    clips = []
    for _ in range(count):
        big = rng.integers(0, 256, (size + frames, size + frames, 3)).astype(np.uint8)
        big = cv2.GaussianBlur(big, (9, 9), 3)
        clip = np.stack([big[t : t + size, t : t + size] for t in range(frames)]).astype(np.int16)
        clip += rng.integers(-4, 5, clip.shape, dtype=np.int16)
        clips.append(np.clip(clip, 0, 255).astype(np.uint8))
    return np.stack(clips)


def main():
    args = _parse_args()
    clips = synthetic_clips(args.clips, args.frames, args.size)
    rates = {}
    for stem in CONFIGS:
        config = _config(stem)
        describe = descriptors.make(config.baseline.descriptor, config.baseline.blocks)
        length = len(describe(clips[0]))  # warm-up
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            for clip in clips:
                describe(clip)
            best = min(best, time.perf_counter() - start)
        rates[stem] = args.clips / best
        print(f"{stem:18s} {rates[stem]:8.2f} clips/s  ({length} values per clip)")
    shape = f"{args.frames}x{args.size}x{args.size}"
    summary = ", ".join(f"{stem} {rate:.1f} clips/s" for stem, rate in rates.items())
    print(f"baselines: {summary} ({shape} clips)")


if __name__ == "__main__":
    main()
