"""Preview images of synth_me's long videos (``synth_me_long``).

Writes, for the first videos of one builder config (rendered, not read from a build):

* ``timeline_<video>.png``: the motion over time, the mean absolute difference between each
  frame and the frame 0.1 s before it (luminance, blurred by 1 px), with the events shaded
  (micro red, macro blue), the blinks marked in green under the axis and the head turns in
  gray, so that what a spotter has to find and what it has to ignore sit side by side;
* ``events_<video>.png``: for each event its onset and apex frames and the apex - onset
  difference amplified around mid-gray (x12 for micro-expressions, x4 for macro).

Usage::

  python -m mejax.datasets.synth_me.long_preview --out DIR [--config small] [--videos 2]
"""

from __future__ import annotations

import argparse
import pathlib

import cv2
import numpy as np

from mejax.datasets.synth_me import long
from mejax.datasets.synth_me.preview import _grid, _label, _upscale

GAINS = {"micro": 12.0, "macro": 4.0}
COLOURS = {"micro": (230, 120, 120), "macro": (120, 150, 235)}  # RGB shading of the events
_HEIGHT, _PIXELS_PER_SECOND = 160, 60


def motion(frames: np.ndarray, lag: int) -> np.ndarray:
    """(T,) mean absolute luminance difference to the frame ``lag`` earlier (0 for the first)."""
    gray = np.stack([cv2.GaussianBlur(f.astype(np.float32).mean(-1), (0, 0), 1.0) for f in frames])
    out = np.zeros(len(frames), np.float32)
    out[lag:] = np.abs(gray[lag:] - gray[:-lag]).mean((1, 2))
    return out


def timeline(spec: long.VideoSpec, signal: np.ndarray) -> np.ndarray:
    """The motion plot of one video: (H, W, 3) uint8 RGB."""
    n = spec.num_frames
    width = max(200, int(n / spec.fps * _PIXELS_PER_SECOND))
    image = np.full((_HEIGHT + 24, width, 3), 255, np.uint8)
    x = lambda t: int(round(t * (width - 1) / max(n - 1, 1)))  # noqa: E731
    for event in spec.events:
        image[:_HEIGHT, x(event.onset) : x(event.offset) + 1] = COLOURS[event.type]
    for start, stop in spec.turns:
        image[_HEIGHT + 14 : _HEIGHT + 20, x(start) : x(stop) + 1] = (120, 120, 120)
    blinking = np.flatnonzero(spec.blink > 0)
    for t in blinking:
        image[_HEIGHT + 4 : _HEIGHT + 10, x(t)] = (40, 170, 40)
    top = max(float(signal.max()), 1e-6)
    points = np.stack(
        [[x(t) for t in range(n)], _HEIGHT - 1 - (signal / top * (_HEIGHT - 8)).astype(int)], 1
    )
    cv2.polylines(image, [points.astype(np.int32)], False, (0, 0, 0), 1, cv2.LINE_AA)
    for second in range(int((n - 1) / spec.fps) + 1):
        image[_HEIGHT : _HEIGHT + 3, x(second * spec.fps)] = 0
    return image


def event_panels(spec: long.VideoSpec, renderer: long.VideoRenderer) -> np.ndarray:
    """Onset, apex and amplified difference of every event, one row each."""
    rows = []
    display = 3 * 64
    for event in spec.events:
        onset, apex = renderer.frame(event.onset), renderer.frame(event.apex)
        diff = apex.astype(np.float32).mean(-1) - onset.astype(np.float32).mean(-1)
        gain = GAINS[event.type]
        gray = np.clip(128 + gain * diff, 0, 255).astype(np.uint8)
        caption = (
            f"{event.type} {event.onset + 1}-{event.offset + 1} {event.labels.au_code} "
            f"{event.labels.emotion}"
        )
        tiles = [
            _label(_upscale(onset, display), "onset"),
            _label(_upscale(apex, display), "apex"),
            _label(_upscale(np.repeat(gray[..., None], 3, -1), display), f"apex - onset x{gain:g}"),
        ]
        rows.append(_label(np.concatenate(tiles, 1), caption))
    return _grid(rows, 1) if rows else np.full((20, 20, 3), 255, np.uint8)


def write_previews(out: pathlib.Path, config_name: str = "small", videos: int = 2):
    """Writes the preview PNGs of the first ``videos`` videos of one config.

    Returns:
      The paths written.
    """
    config = long.SynthMeLong.builder_configs[config_name]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for index in range(min(videos, config.num_subjects * config.videos_per_subject)):
        subject, video = divmod(index, config.videos_per_subject)
        spec, renderer = long.generate_video(config, subject, video)
        frames = renderer.window(0, spec.num_frames)  # a preview-sized video fits in memory
        signal = motion(frames, max(1, int(round(0.1 * spec.fps))))
        name = long.video_name(subject, video)
        for stem, image in (
            ("timeline", timeline(spec, signal)),
            ("events", event_panels(spec, renderer)),
        ):
            path = out / f"{stem}_{name}.png"
            cv2.imwrite(str(path), image[..., ::-1])
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point.

    Args:
      argv: arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=pathlib.Path, help="output directory")
    parser.add_argument(
        "--config", default="small", choices=sorted(long.SynthMeLong.builder_configs)
    )
    parser.add_argument("--videos", default=2, type=int, help="videos to preview")
    args = parser.parse_args(argv)
    for path in write_previews(args.out, args.config, args.videos):
        print(path)


if __name__ == "__main__":
    main()
