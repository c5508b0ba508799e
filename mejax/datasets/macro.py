"""Shared parts of the macro-expression builders (CK+, Oulu-CASIA, JAFFE, MUG): clips of
chosen frame files and the ``peak`` configs of Micro-Attention's pretraining.

Clips of chosen files. :func:`mejax.datasets.builder.read_clip` reads every frame of a clip's
folder. The macro builders also make clips of chosen files -- the frames a ``peak`` config
keeps, JAFFE's still images (TIFF files, one folder for all subjects) -- as
:class:`FilesClip`, which :class:`MacroBuilder` reads file by file into the same schema
(:func:`mejax.datasets.features.clip_features`; grey images become RGB, the channel repeated).

``peak``. Stage 1 of Micro-Attention's transfer learning (Wang, Peng, Bi, Chen,
Neurocomputing 2020) pretrains a ResNet on 10,431 single macro-expression frames at or near
the expression's peak: CK+ and Oulu-CASIA the last 3 frames of each sequence, JAFFE every
image, MUG "6-10 frames around the apex". A builder's ``peak`` config holds exactly these
frames, each one example: a one-frame clip (onset = apex = offset = 0) named
``<sequence clip>_f<frame number>`` (``S005_001_f09``), with its sequence's labels and
split. Every emotion is kept; the paper's five classes (happiness, surprise, anger, disgust,
sadness) are a run's label set, not a build choice. The cached variants ``peak_apex_224``,
``peak_apex_240`` (Micro-Attention's 240^2 input, cropped to 224^2) and ``peak_apex_64``
(:data:`PEAK_VARIANTS`) store that frame resized, so ``input.variant=apex`` reads them
(``ckplus/peak`` -> ``ckplus/peak_apex_224``).
"""

from __future__ import annotations

import dataclasses
import pathlib
import re
from collections.abc import Sequence

import cv2
import numpy as np

from mejax.datasets import builder, readers
from mejax.preprocess import cached

PEAK_VARIANTS = ("apex_224", "apex_240", "apex_64")
LAST_FRAMES = 3  # CK+ and Oulu-CASIA: the paper's "last 3 frames"


@dataclasses.dataclass(eq=False)
class MacroConfig(builder.ManualConfig):
    """Config of a macro-expression builder.

    Attributes:
      peak: the examples are the single frames Micro-Attention pretrains on (module
        docstring), not whole sequences.
      variant: as :class:`~mejax.datasets.builder.ManualConfig`.
    """

    peak: bool = False


def peak_configs(description: str) -> list[MacroConfig]:
    """The ``peak`` config (``description``: which frames it keeps) and its cached variants
    ``peak_apex_224``, ``peak_apex_240``, ``peak_apex_64``."""
    peak = MacroConfig(name="peak", description=description, peak=True)
    return [peak, *builder.variant_configs([peak], PEAK_VARIANTS)]


@dataclasses.dataclass(frozen=True)
class FilesClip(builder.Clip):
    """A clip of chosen files of ``folder``, in this order (frame numbers from their names,
    :func:`~mejax.datasets.builder.frame_number`), instead of every frame of the folder."""

    files: tuple[pathlib.Path, ...] = ()


def checked_frames(
    folder: pathlib.Path, pattern: re.Pattern, expected: str
) -> list[tuple[int, pathlib.Path]]:
    """(frame number, path) of a sequence folder's frames, by frame number.

    Raises:
      readers.AnnotationError: an image file whose name does not match ``pattern`` (naming the
        file and ``expected``), or a folder without frames.
    """
    for path in sorted(folder.iterdir()):
        if (
            path.suffix.lower() in builder.IMAGE_SUFFIXES
            and not path.name.startswith(".")
            and not pattern.fullmatch(path.name)
        ):
            raise readers.AnnotationError(f"{path}: malformed frame file name; expected {expected}")
    frames = builder.frame_files(folder)
    if not frames:
        raise readers.AnnotationError(f"{folder}: no frames; expected {expected}")
    return frames


def last_frames(count: int, n: int = LAST_FRAMES) -> range:
    """Positions of the last ``n`` of ``count`` frames (all of them if fewer)."""
    return range(max(0, count - n), count)


def peak_clips(
    clip: builder.Clip, frames: Sequence[tuple[int, pathlib.Path]], positions: Sequence[int]
) -> list[FilesClip]:
    """One single-frame clip per position of ``frames`` (the sequence's frames, as
    :func:`~mejax.datasets.builder.frame_files` lists them), named ``<clip>_f<number>``."""
    if not frames:
        raise ValueError(f"{clip.folder}: no frames ({'/'.join(builder.IMAGE_SUFFIXES)} files)")
    clips = []
    for position in positions:
        number, path = frames[position]
        name = f"{clip.sample.clip}_f{number:02d}"
        sample = dataclasses.replace(
            clip.sample, clip=name, onset=number, apex=number, offset=number
        )
        fields = {f.name: getattr(clip, f.name) for f in dataclasses.fields(builder.Clip)}
        clips.append(FilesClip(**{**fields, "sample": sample}, files=(path,)))
    return clips


def read(clip: builder.Clip) -> dict:
    """The decoded example of any clip: its files, or every frame of its folder."""
    if isinstance(clip, FilesClip):
        return builder.read_clip(clip, [(builder.frame_number(p), p) for p in clip.files])
    return builder.read_clip(clip)


class MacroBuilder(builder.ManualBuilder):
    """:class:`~mejax.datasets.builder.ManualBuilder` that also reads :class:`FilesClip` s."""

    def _generate_examples(self, clips: list[builder.Clip]):
        if not any(isinstance(clip, FilesClip) for clip in clips):
            yield from super()._generate_examples(clips)
            return
        variant = self._variant
        raw = ((clip.key, read(clip)) for clip in clips)
        if variant is None:
            for key, example in raw:
                # OpenCV writes BGR, so the PNG holds the true RGB colours.
                example["frames"] = [
                    cv2.imencode(".png", np.ascontiguousarray(f[..., ::-1]))[1].tobytes()
                    for f in example["frames"]
                ]
                yield key, example
            return
        apex = {clip.key: clip.sample.apex for clip in clips}
        examples = ((key, builder.middle_apex(example)) for key, example in raw)
        for key, example in cached.transform(
            examples,
            variant,
            batch_size=builder.FLOW_BATCH_SIZE,
            work_size=builder.FLOW_WORK_SIZE if variant.kind == "flow" else None,
            desc=f"{self.name}/{self.builder_config.name}",
        ):
            if apex[key] is None:
                example["apex"] = builder.NOT_ANNOTATED
            yield key, example
