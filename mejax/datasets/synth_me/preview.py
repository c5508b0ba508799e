"""Preview images of the synthetic micro-expression database.

Writes, for one builder config:

* ``subjects.png``: a montage of the neutral faces (first frame, no distractors) of the
  first subjects, to judge the identity variation;
* ``au_XX.png`` for each rendered AU (plus the unilateral ``L12`` and ``R14``): the onset
  and apex frames of a clip showing only that AU, and the apex-minus-onset difference
  amplified around mid-gray (x12; x3 for the macro configs), to see where the deformation
  sits;
* ``au_differences.png``: all the difference images side by side.

Usage::

  python -m mejax.datasets.synth_me.preview --out DIR [--config small]
"""

from __future__ import annotations

import argparse
import pathlib

import cv2
import numpy as np

from mejax.datasets.synth_me import render
from mejax.datasets.synth_me.synth_me import SynthMe, subject_name

DIFFERENCE_GAIN = 12.0
MACRO_DIFFERENCE_GAIN = 3.0  # macro-expressions move the skin several times as far
EXTRA_CODES = ("L12", "R14")


def _label(image: np.ndarray, text: str) -> np.ndarray:
    """Adds a caption bar under an RGB uint8 image."""
    bar = np.full((18, image.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([image, bar], 0)


def _upscale(image: np.ndarray, width: int) -> np.ndarray:
    factor = max(1, width // image.shape[1])
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_NEAREST)


def _grid(tiles: list[np.ndarray], columns: int) -> np.ndarray:
    rows = []
    for start in range(0, len(tiles), columns):
        row = tiles[start : start + columns]
        row += [np.full_like(tiles[0], 255)] * (columns - len(row))
        rows.append(np.concatenate(row, 1))
    return np.concatenate(rows, 0)


def difference_image(clip: render.Clip, gain: float = DIFFERENCE_GAIN) -> np.ndarray:
    """Apex minus onset, gray, amplified around 128.

    Args:
      clip: a rendered clip.
      gain: amplification of the luminance difference.

    Returns:
      (size, size, 3) uint8 image: brighter where the apex is brighter.
    """
    frames = clip.frames.astype(np.float32).mean(-1)
    diff = frames[clip.spec.apex] - frames[clip.spec.onset]
    gray = np.clip(128 + gain * diff, 0, 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, -1)


def write_previews(out: pathlib.Path, config_name: str = "small", num_subjects: int = 8):
    """Writes the preview PNGs of one config.

    Args:
      out: output directory (created).
      config_name: name of a :class:`SynthMe` builder config.
      num_subjects: number of subjects in the montage.

    Returns:
      The paths written.
    """
    config = SynthMe.builder_configs[config_name]
    size, seed, kind = config.image_size, config.seed, config.expression
    out.mkdir(parents=True, exist_ok=True)
    written = []
    display = 3 * 112

    tiles = []
    for subject in range(min(num_subjects, config.num_subjects)):
        clip = render.generate_clip(seed, subject, 0, size, distractors=False, kind=kind)
        tiles.append(_label(_upscale(clip.frames[0], display), subject_name(subject, kind)))
    path = out / "subjects.png"
    cv2.imwrite(str(path), _grid(tiles, 4)[..., ::-1])
    written.append(path)

    gain = DIFFERENCE_GAIN if kind == "micro" else MACRO_DIFFERENCE_GAIN
    face = render.render_face(render.sample_identity(seed, 0, kind=kind), size)
    differences = []
    for code in [str(au) for au in render.RENDERED_AUS] + list(EXTRA_CODES):
        clip = render.generate_clip(
            seed, 0, 0, size, au_code=code, distractors=False, face=face, kind=kind
        )
        au, side = render.parse_code(code)[0]
        name = f"AU{au}{f' ({side})' if side else ''} {render.AU_NAMES[au]}"
        diff = _upscale(difference_image(clip, gain), display)
        panels = [
            _label(_upscale(clip.frames[clip.spec.onset], display), "onset"),
            _label(_upscale(clip.frames[clip.spec.apex], display), "apex"),
            _label(diff, f"apex - onset x{gain:g}"),
        ]
        path = out / f"au_{code}.png"
        cv2.imwrite(str(path), _label(np.concatenate(panels, 1), name)[..., ::-1])
        written.append(path)
        differences.append(_label(diff, name))
    path = out / "au_differences.png"
    cv2.imwrite(str(path), _grid(differences, 5)[..., ::-1])
    written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point.

    Args:
      argv: arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=pathlib.Path, help="output directory")
    parser.add_argument("--config", default="small", choices=sorted(SynthMe.builder_configs))
    args = parser.parse_args(argv)
    for path in write_previews(args.out, args.config):
        print(path)


if __name__ == "__main__":
    main()
