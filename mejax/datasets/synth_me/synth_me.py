"""TFDS builder of ``synth_me``, the embedded synthetic micro-expression database.

The frames are rendered on the machine that builds the dataset (nothing is downloaded) by
:mod:`mejax.datasets.synth_me.render`; see the README next to this file for the model.
The schema is :func:`mejax.datasets.features.clip_features`, the one every database of
mejax produces, with one split per subject (``"sub01"``, ``"sub02"``, ...) so that
protocols select subjects with split strings such as ``"sub01+sub02"``.

The ``macro`` configs (``expression="macro"``) render posed macro-expressions in place of
micro-expressions, a stand-in for CK+ (Lucey et al., "The Extended Cohn-Kanade Dataset
(CK+)", CVPR Workshops 2010) as the source domain of domain adaptation and staged transfer:
30 fps neutral-to-peak sequences (``apex == offset``, the last frame), several times the
micro amplitudes, the same AU combinations and labels, and subjects of their own (drawn from
other random streams, named ``"mac01"``, ``"mac02"``, ...; ``database`` is
``"synth_me_macro"``).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools

import cv2
import tensorflow_datasets as tfds

from mejax.datasets import aus, features, local_build
from mejax.datasets.synth_me import render

_MAX_SUBJECTS = 99  # split names are two-digit
_MAX_CLIPS = 99
_MAX_SEED = 2**32 - 1
# Expression kind -> (subject-name prefix, ``database`` feature).
_KINDS = {"micro": ("sub", "synth_me"), "macro": ("mac", "synth_me_macro")}


@dataclasses.dataclass(eq=False)
class SynthMeConfig(tfds.core.BuilderConfig):
    """Size of a synthetic database.

    Attributes:
      num_subjects: number of subjects (one split each), 2-99.
      clips_per_subject: micro-expression clips per subject, 1-99.
      image_size: frame width and height in pixels, 32-512.
      seed: seed of everything random, 0 to 2**32 - 1.
      expression: ``"micro"`` (200 fps micro-expressions, subjects ``sub01``...) or
        ``"macro"`` (30 fps posed neutral-to-peak macro-expressions as in CK+, subjects
        ``mac01``...; see :data:`mejax.datasets.synth_me.render.MACRO`).
    """

    num_subjects: int = 20
    clips_per_subject: int = 12
    image_size: int = 112
    seed: int = 0
    expression: str = "micro"

    def __post_init__(self):
        if self.expression not in _KINDS:
            raise ValueError(
                f"SynthMeConfig {self.name!r}: expression={self.expression!r} must be one of "
                f"{tuple(_KINDS)}"
            )
        limits = {
            "num_subjects": (2, _MAX_SUBJECTS),
            "clips_per_subject": (1, _MAX_CLIPS),
            "image_size": (render.MIN_IMAGE_SIZE, render.MAX_IMAGE_SIZE),
            "seed": (0, _MAX_SEED),
        }
        for field, (low, high) in limits.items():
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(
                    f"SynthMeConfig {self.name!r}: {field}={value!r} must be an integer in "
                    f"[{low}, {high}]"
                )


def subject_name(index: int, expression: str = "micro") -> str:
    """Split / subject name of a 0-based subject index, e.g. ``"sub01"`` (macro: ``"mac01"``)."""
    return f"{_KINDS[expression][0]}{index + 1:02d}"


def clip_name(subject: int, clip: int, expression: str = "micro") -> str:
    """Clip name (also the example key) of 0-based indices, e.g. ``"sub01_ep03"``."""
    return f"{subject_name(subject, expression)}_ep{clip + 1:02d}"


def database_name(expression: str = "micro") -> str:
    """The ``database`` feature of an expression kind: ``"synth_me"`` or ``"synth_me_macro"``."""
    return _KINDS[expression][1]


class SynthMe(local_build.LocalBuild, tfds.core.GeneratorBasedBuilder):
    """Synthetic micro-expression clips with AU, objective-class and emotion labels."""

    VERSION = tfds.core.Version("1.3.0")
    RELEASE_NOTES = {
        "1.3.0": (
            "Macro-expression configs macro (10 subjects x 12 clips, 112x112) and macro_tiny "
            "(4 x 4, 48x48), a stand-in for CK+: 30 fps neutral-to-peak sequences of 10-30 "
            "frames (onset 0, apex = offset = the last frame), AU speeds of 4-8 % of the image "
            "width integrated in 8 steps, the same AU combinations and labels, subjects of "
            "their own (mac01, ...), database 'synth_me_macro'. The micro configs' clips are "
            "unchanged (byte for byte)."
        ),
        "1.2.0": (
            "Head drift reduced to the residual drift of a registered clip (peak 0-0.2 px at "
            "112 and 0.05 degrees, from 0.2-1.5 px and 0.4 degrees); labels and timing are "
            "unchanged, the frames change."
        ),
        "1.1.0": (
            "The aus multi-hot spans the full FACS face vocabulary (AUs 1-46, 45 codes) shared "
            "with the real databases; labels and frames are unchanged."
        ),
        "1.0.0": (
            "Initial release: procedural faces with per-subject identity and skin texture; "
            "13 AUs (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 24) as localized displacement "
            "fields with L/R laterality; combinations weighted on the MEGC objective classes; "
            "200 fps timing; drift, blink, flicker and sensor-noise distractors."
        ),
    }
    BUILDER_CONFIGS = [
        SynthMeConfig(
            name="tiny",
            description="6 subjects x 4 clips, 48x48 frames: for tests.",
            num_subjects=6,
            clips_per_subject=4,
            image_size=48,
        ),
        SynthMeConfig(
            name="small",
            description="20 subjects x 12 clips, 112x112 frames: the quickstart database.",
            num_subjects=20,
            clips_per_subject=12,
            image_size=112,
        ),
        SynthMeConfig(
            name="full",
            description="40 subjects x 16 clips, 112x112 frames.",
            num_subjects=40,
            clips_per_subject=16,
            image_size=112,
        ),
        SynthMeConfig(
            name="macro",
            description=(
                "Macro-expressions (CK+ stand-in): 10 subjects (mac01...) x 12 clips, 112x112 "
                "frames, 30 fps, neutral to peak."
            ),
            num_subjects=10,
            clips_per_subject=12,
            image_size=112,
            expression="macro",
        ),
        SynthMeConfig(
            name="macro_tiny",
            description="Macro-expressions: 4 subjects (mac01...) x 4 clips, 48x48: for tests.",
            num_subjects=4,
            clips_per_subject=4,
            image_size=48,
            expression="macro",
        ),
    ]
    DEFAULT_CONFIG_NAME = "small"

    def _info(self) -> tfds.core.DatasetInfo:
        size = self.builder_config.image_size
        return self.dataset_info_from_configs(features=features.clip_features((size, size)))

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        del dl_manager  # Everything is generated.
        config = self.builder_config
        return {
            subject_name(s, config.expression): self._generate_examples(s)
            for s in range(config.num_subjects)
        }

    def _generate_examples(self, subject: int):
        config = self.builder_config
        identity = render.sample_identity(config.seed, subject, kind=config.expression)
        face = render.render_face(identity, config.image_size)
        # Rendering and PNG encoding run mostly in OpenCV and NumPy, which release the GIL,
        # so two threads nearly halve the build time; clips are independent, so the
        # result does not depend on the scheduling.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            yield from pool.map(
                functools.partial(self._example, subject, face), range(config.clips_per_subject)
            )

    def _example(self, subject: int, face: render.Face, index: int):
        config = self.builder_config
        kind = render.expression(config.expression)
        clip = render.generate_clip(
            config.seed, subject, index, config.image_size, face=face, kind=kind
        )
        labels = clip.spec.labels
        # OpenCV encodes PNG several times faster than TFDS's TF-graph encoder; it expects
        # BGR and writes the file as RGB.
        frames = [cv2.imencode(".png", frame[..., ::-1])[1].tobytes() for frame in clip.frames]
        key = clip_name(subject, index, config.expression)
        return key, {
            "frames": frames,
            "onset": clip.spec.onset,
            "apex": clip.spec.apex,
            "offset": clip.spec.offset,
            "subject": subject_name(subject, config.expression),
            "clip": key,
            "aus": aus.multi_hot(labels.aus),
            "au_code": labels.au_code,
            "emotion": labels.emotion,
            "objective_class": aus.OBJECTIVE_CLASSES.index(labels.objective_class),
            "fps": kind.fps,
            "database": database_name(config.expression),
        }
