"""Throughput of the hand-crafted descriptors (``mejax.baselines``) on CASME II-sized clips.

Each descriptor of ``mejax.baselines.descriptors`` runs, with the parameters of its config in
``configs/`` (the paper setting: 5 x 5 blocks), on a clip of ``--frames`` x ``--size``^2 RGB
pixels (default 10 x 224^2: STAP's input, TIM-interpolated CASME II). The pixels are synthetic:
a smooth random texture drifting by a pixel per frame plus noise, so that optical flow and
gradients see structure. Reported is the best of ``--repeats`` timed passes over ``--clips``
clips after one warm-up clip, as clips per second on one process (NumPy's and OpenCV's own
threading as configured).

Reference, measured in the same run: LBP-TOP as public micro-expression code usually computes
it, scikit-image's ``local_binary_pattern`` (P = 8, R = 3, ``nri_uniform``) called slice by
slice on the XY, XT and YT planes of the gray clip. Only the code maps are timed for it (no
block histograms), so its speed is an upper bound and the ratio errs in the reference's favour.

  python benchmarks/baselines.py [--frames 10] [--size 224] [--clips 4] [--repeats 3]

Last line (the headline): ``baselines: lbp_top X clips/s (R x scikit-image plane by plane),
lbp_sip Y clips/s, ...``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from mejax import config_args
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
    return config_args.load_file(REPO / "configs" / f"{stem}.py", "casme2")


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


def skimage_lbp_top_codes(clip: np.ndarray) -> list[np.ndarray]:
    """The reference: scikit-image LBP codes of every XY, XT and YT slice of a gray clip."""
    from skimage.feature import local_binary_pattern

    gray = np.stack([cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in clip])

    def lbp(plane):
        return local_binary_pattern(plane, 8, 3, method="nri_uniform")

    return [
        np.stack([lbp(gray[t]) for t in range(gray.shape[0])]),
        np.stack([lbp(gray[:, y]) for y in range(gray.shape[1])]),
        np.stack([lbp(gray[:, :, x]) for x in range(gray.shape[2])]),
    ]


def clips_per_second(describe, clips: np.ndarray, repeats: int) -> float:
    """Best of ``repeats`` timed passes over ``clips``, after one warm-up clip."""
    describe(clips[0])
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for clip in clips:
            describe(clip)
        best = min(best, time.perf_counter() - start)
    return len(clips) / best


def main():
    args = _parse_args()
    clips = synthetic_clips(args.clips, args.frames, args.size)
    rates = {}
    for stem in CONFIGS:
        config = _config(stem)
        describe = descriptors.make(config.baseline.descriptor, config.baseline.blocks)
        rates[stem] = clips_per_second(describe, clips, args.repeats)
        length = len(describe(clips[0]))
        print(f"{stem:18s} {rates[stem]:8.2f} clips/s  ({length} values per clip)")
    reference = clips_per_second(skimage_lbp_top_codes, clips, args.repeats)
    ratio = rates["lbp_top"] / reference
    print(f"{'scikit-image LBP':18s} {reference:8.2f} clips/s  (code maps of the three planes)")
    shape = f"{args.frames}x{args.size}x{args.size}"
    notes = {"lbp_top": f" ({ratio:.1f}x scikit-image plane by plane)"}
    summary = ", ".join(
        f"{stem} {rate:.1f} clips/s{notes.get(stem, '')}" for stem, rate in rates.items()
    )
    print(f"baselines: {summary} ({shape} clips)")


if __name__ == "__main__":
    main()
