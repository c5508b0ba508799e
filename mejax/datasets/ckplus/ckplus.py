"""TFDS builder of CK+, the extended Cohn-Kanade database (Lucey, Cohn, Kanade, Saragih,
Ambadar, Matthews, "The Extended Cohn-Kanade Dataset (CK+)", CVPR Workshops 2010).

Posed macro-expressions (593 sequences of 123 subjects, neutral to peak), used by mejax as
the macro-expression source for pretraining and domain adaptation. Each sequence folder
``cohn-kanade-images/S005/001`` holds the frames; ``Emotion/S005/001/*_emotion.txt`` holds
the emotion code of the 327 validated sequences (0 neutral, 1 anger, 2 contempt, 3 disgust,
4 fear, 5 happy, 6 sadness, 7 surprise; Sec. 3.3 of the paper) and ``FACS/.../*_facs.txt``
the AUs of the peak frame (AU, intensity per line). A sequence without an emotion file is
kept out (listed in the build report). ``onset`` is the first (neutral) frame, ``apex`` and
``offset`` the last (peak) frame. AUs outside the face vocabulary (head and eye positions
50-69) stay out of the multi-hot and in ``au_code``.

Configs: ``frames`` (default), the labelled sequences; its cached variants
(:data:`MACRO_VARIANTS`); ``peak``, the last 3 frames of every labelled sequence, each a
one-frame example ``S005_001_f09`` (Micro-Attention's pretraining frames:
:mod:`mejax.datasets.macro`; the paper's 852 are those of the 284 sequences of its five
classes), with ``peak_apex_224``, ``peak_apex_240`` and ``peak_apex_64``.
"""

from __future__ import annotations

import dataclasses
import pathlib

import tensorflow_datasets as tfds

from mejax.datasets import aus, builder, macro, readers

FPS = 30.0
EMOTIONS = ("neutral", "anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise")
IMAGES, EMOTION, FACS = "cohn-kanade-images", "Emotion", "FACS"

MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
Request CK+ (https://www.jeffcohn.net/resources/) and place, in the manual directory, as
distributed:

  {IMAGES}/S005/001/S005_001_00000001.png ...
  {EMOTION}/S005/001/S005_001_00000011_emotion.txt ...
  {FACS}/S005/001/S005_001_00000011_facs.txt ...      (optional)
"""


def _numbers(path: pathlib.Path) -> list[float]:
    try:
        return [float(v) for v in path.read_text().split()]
    except ValueError:
        raise readers.AnnotationError(
            f"{path}: expected numbers, got {path.read_text()!r}"
        ) from None


def read_sequence(root: pathlib.Path, folder: pathlib.Path):
    """The sample of one sequence, or the reason it is kept out."""
    subject, sequence = folder.parent.name, folder.name
    emotion_files = sorted((root / EMOTION / subject / sequence).glob("*_emotion.txt"))
    if not emotion_files:
        return None, "no emotion label (not one of CK+'s 327 validated sequences)"
    values = _numbers(emotion_files[0])
    if len(values) != 1 or values[0] not in range(len(EMOTIONS)):
        raise readers.AnnotationError(f"{emotion_files[0]}: expected one code 0-7, got {values}")
    codes = []
    for facs in sorted((root / FACS / subject / sequence).glob("*_facs.txt")):
        facs_values = _numbers(facs)
        codes += [int(facs_values[i]) for i in range(0, len(facs_values), 2)]
    in_vocab = frozenset(au for au in codes if au in aus.AU_INDEX)
    sample = readers.Sample(
        "ckplus", subject, f"{subject}_{sequence}", None, None, None,
        "+".join(str(au) for au in codes), in_vocab, EMOTIONS[int(values[0])], None,
        str(emotion_files[0].relative_to(root)),
    )  # fmt: skip
    return sample, None


FRAMES_CONFIG = builder.ManualConfig(name="frames", description="The sequences' frames.")
# The macro-expression source of the MEGC2019 recogniser (Liu et al.): its apex frame, and the
# flow to the peak or, expression reduction, to the middle frame (mejax.preprocess.cached).
MACRO_VARIANTS = (
    "apex_224",
    "flow_tvl1_112",
    "flow_farneback_112",
    "flow_farneback_112_reduced",
)


PEAK_CONFIGS = macro.peak_configs(
    "The last 3 frames of every labelled sequence, each a one-frame example (Micro-Attention's "
    "pretraining frames)."
)


class Ckplus(macro.MacroBuilder):
    """CK+ posed expression sequences (neutral to peak) with emotion and AU labels."""

    VERSION = tfds.core.Version("1.2.0")
    RELEASE_NOTES = {
        "1.2.0": "Builder config peak: the last 3 frames of every labelled sequence, one "
        "example each, and its cached variants peak_apex_224, peak_apex_240, peak_apex_64; "
        "the other configs are unchanged.",
        "1.1.0": "Builder configs: the frames (default) and the cached variants "
        f"{', '.join(MACRO_VARIANTS)}; the clips and labels are unchanged.",
        "1.0.0": "Initial release: the emotion-labelled sequences, with AUs.",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    BUILDER_CONFIGS = [
        FRAMES_CONFIG,
        *builder.variant_configs([FRAMES_CONFIG], MACRO_VARIANTS, prefix=False),
        *PEAK_CONFIGS,
    ]
    DEFAULT_CONFIG_NAME = "frames"

    def _clips(self, root: pathlib.Path):
        builder.check_paths("ckplus", root, [root / IMAGES, root / EMOTION])
        peak = getattr(self.builder_config, "peak", False)
        clips, excluded, sequences = [], [], 0
        for folder in sorted(p for p in (root / IMAGES).glob("*/*") if p.is_dir()):
            sample, reason = read_sequence(root, folder)
            if sample is None:
                excluded.append({"clip": f"{folder.parent.name}/{folder.name}", "reason": reason})
                continue
            frames = builder.frame_files(folder)
            last = frames[-1][0] if frames else None
            sample = dataclasses.replace(sample, apex=last, offset=last)
            clip = builder.Clip(sample, folder, sample.subject, "ckplus", FPS)
            sequences += 1
            if peak:
                clips += macro.peak_clips(clip, frames, macro.last_frames(len(frames)))
            else:
                clips.append(clip)
        report = {"database": "ckplus", "num_samples": len(clips), "excluded": excluded}
        if peak:
            report |= {"num_sequences": sequences, "peak_frames": "the last 3 of each sequence"}
        return clips, report
