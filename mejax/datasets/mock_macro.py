"""Mock copies of the macro-expression databases: INVENTED rows at the published sizes,
the real layout, synthetic faces.

``python -m mejax.datasets.mock_macro DATABASE --out DIR`` writes, under ``DIR`` (the builder's
manual directory), a mock of one of the posed macro-expression databases the paper settings
read as sources -- CK+ (``ckplus``), Oulu-CASIA (``oulu_casia``), JAFFE (``jaffe``) and MUG
(``mug``) -- in the folder layout, file names, frame numbering and file formats their builders
read (:mod:`mejax.datasets.ckplus`, ``oulu_casia``, ``jaffe``, ``mug``)::

  python -m mejax.datasets.mock_macro ckplus --out /tmp/ckplus_mock
  python -m mejax.datasets.mock_macro mug --out /tmp/mug_mock --frame-size 96x128 --seed 1

Options: ``--frame-size HxW`` (default ``48x64``, as :mod:`mejax.datasets.mock`); ``--seed N``
(the invented rows, the faces and their motion). A summary (clips, subjects, per-emotion
counts, frames, time) ends the run.

What is INVENTED. No label file of these databases is public, unlike the micro-expression
coding sheets :mod:`mejax.datasets.mock` copies. Every row here -- which subject has which
sequences, which sequence has which emotion and AUs, how long it is, JAFFE's image numbers,
MUG's takes and sessions -- is invented, drawn from ``--seed``; only the totals follow the
publications:

* ``ckplus`` (Lucey et al., CVPR Workshops 2010): 593 sequences of 123 subjects, 327 with an
  emotion file -- anger 45, contempt 18, disgust 59, fear 25, happy 69, sadness 28, surprise 83
  (codes 1-7) -- and a FACS file for all 593. ``cohn-kanade-images/S005/001/
  S005_001_00000001.png`` (grey PNG, frames ``1..N``, N 8-12 where the database has 10-60),
  ``Emotion/S005/001/S005_001_<N>_emotion.txt`` and ``FACS/S005/001/S005_001_<N>_facs.txt``
  named after the last (peak) frame, in the database's ``   5.0000000e+00`` format. Subject
  numbers are 123 of S005-S506, sequence numbers ascending with gaps. The FACS file lists the
  emotion's prototypical AUs (an unlabelled sequence: those of a random emotion).
  ``ckplus/peak`` then has 3 x 327 = 981 examples; every sequence has at least the 3 frames
  it takes and the 2 the flow variants need.
* ``oulu_casia`` (Zhao et al., Image and Vision Computing 2011), the visible-light
  normal-illumination part the builder reads: 80 subjects (``P001``-``P080``) x 6 expressions
  = 480 sequences, ``OriginalImg/VL/Strong/P001/Anger/000.jpeg`` (colour, frames ``000``..,
  8-12 of them). ``oulu_casia/peak``: 1440 examples.
* ``jaffe`` (Lyons et al., FG 1998): 213 grey TIFF images of the 10 subjects (KA KL KM KR MK
  NA NM TM UY YM), ``jaffedbase/KA.AN1.39.tiff``, with the per-expression counts usually
  reported for the database -- AN 30, DI 29, FE 32, HA 31, NE 30, SA 31, SU 30 -- about 3
  images per subject and expression (which subject has 2 or 4 is invented), image numbers
  ascending through the folder.
* ``mug`` (Aifanti et al., WIAMIS 2010), the posed part: 86 subjects (``001``-``086``), 1462
  takes over the 7 classes (:data:`MUG_EMOTION_COUNTS`). The total is APPROXIMATE: a count of
  the posed takes quoted for the database, not checked against the paper, and the split over
  the classes is invented. Every subject has at least one take of every class; 4 subjects
  were "recorded in two sessions" (``subjects3/002/session0/happiness/take000``), the others
  ``subjects3/001/happiness/take000/img_0000.jpg`` (colour JPEG, 10-12 frames, so that
  ``mug/peak`` takes 8 of every take: 11,696 examples).

``MOCK.md`` in the output root says the same (it is not an annotation file: the builders'
``annotation_sha256`` reads only ``.txt``, ``.csv``, ``.xls(x)`` files directly in the root).

Frames. The faces and the frame writer are :mod:`mejax.datasets.mock`'s
(:class:`~mejax.datasets.mock.Renderer`, :func:`~mejax.datasets.mock.write_frames`): one
synth_me identity per subject (an offset per database, :data:`IDENTITY_OFFSET`, clear of the
micro-expression mocks' identities), the face square at the shorter side of the frame, edges
replicated to the width, with the mock's small expression motion (2.5-4 % of the face width
per AU, its drift, blinks and sensor noise): the rendered AUs of the emotion's prototype ramp
up with a raised cosine to the frames the builders take as the peak. CK+ and Oulu-CASIA are
neutral for their first third and reach the apex on the last frame (neutral to peak, as they
ship); a MUG take starts neutral, peaks on its middle frame -- the apex the builder assumes,
``(n - 1) // 2`` -- and falls back towards neutral by its last frame; a JAFFE image is its
expression's apex. Neutral (JAFFE ``NE``, MUG ``neutral``) does not move: its frames are those
the renderer draws before an onset. These are synthetic faces only: nothing of the databases'
recordings or labels is used.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import pathlib
import shutil
import sys
import time

import numpy as np

from mejax.datasets import mock

DATABASES = ("ckplus", "oulu_casia", "jaffe", "mug")
DEFAULT_FRAME_SIZE = mock.DEFAULT_FRAME_SIZE

# Frame rates of the recordings (JAFFE's are still images: any positive rate renders them).
# mock.Renderer reads a clip's rate from mock.FPS by its database name; the rate only times the
# mains flicker, which the renderer turns off, so adding these entries changes nothing else.
FPS = {"ckplus": 30.0, "oulu_casia": 25.0, "jaffe": 30.0, "mug": 19.0}
for _name, _fps in FPS.items():
    mock.FPS.setdefault(_name, _fps)
# synth_me identity = offset + the subject's number (mock.py uses 0-3999 for its databases).
IDENTITY_OFFSET = {"ckplus": 4000, "oulu_casia": 5000, "jaffe": 6000, "mug": 7000}

# The emotions' prototypical AUs (after Ekman and Friesen's EMFACS); the renderer draws those in
# mejax.datasets.synth_me.render.RENDERED_AUS, the CK+ FACS files list them all.
PROTOTYPES = {
    "anger": (4, 5, 7, 23, 24),
    "contempt": (14,),
    "disgust": (9, 15, 16, 17),
    "fear": (1, 2, 4, 5, 7, 20, 26),
    "happiness": (6, 12, 25),
    "sadness": (1, 4, 15, 17),
    "surprise": (1, 2, 5, 26, 27),
    "neutral": (),
}

# CK+ (Lucey et al. 2010): emotion code -> (name, labelled sequences).
CKPLUS_EMOTIONS = {
    1: ("anger", 45),
    2: ("contempt", 18),
    3: ("disgust", 59),
    4: ("fear", 25),
    5: ("happy", 69),
    6: ("sadness", 28),
    7: ("surprise", 83),
}
CKPLUS_SEQUENCES, CKPLUS_SUBJECTS = 593, 123
CKPLUS_SUBJECT_RANGE = (5, 506)  # S005 ... S506
CKPLUS_FRAMES = (8, 12)

OULU_EXPRESSIONS = ("Anger", "Disgust", "Fear", "Happiness", "Sadness", "Surprise")
OULU_SUBJECTS = 80
OULU_FRAMES = (8, 12)

JAFFE_SUBJECTS = ("KA", "KL", "KM", "KR", "MK", "NA", "NM", "TM", "UY", "YM")
JAFFE_EMOTION_COUNTS = {"AN": 30, "DI": 29, "FE": 32, "HA": 31, "NE": 30, "SA": 31, "SU": 30}
JAFFE_CODES = {"AN": "anger", "DI": "disgust", "FE": "fear", "HA": "happiness",
               "NE": "neutral", "SA": "sadness", "SU": "surprise"}  # fmt: skip

# MUG's posed part: 1462 takes (approximate total, invented split), 86 subjects.
MUG_EMOTION_COUNTS = {
    "anger": 212,
    "disgust": 213,
    "fear": 204,
    "happiness": 222,
    "neutral": 187,
    "sadness": 205,
    "surprise": 219,
}
MUG_SUBJECTS = 86
MUG_SESSION_SUBJECTS = 4  # recorded in two sessions (session0/, session1/)
MUG_FRAMES = (10, 12)  # at least mug.PEAK_FRAMES = 8

PUBLISHED = {
    "ckplus": "Lucey, Cohn, Kanade, Saragih, Ambadar, Matthews, CVPR Workshops 2010: 593 "
    "sequences of 123 subjects, 327 with an emotion label (anger 45, contempt 18, disgust 59, "
    "fear 25, happy 69, sadness 28, surprise 83)",
    "oulu_casia": "Zhao, Huang, Taini, Li, Pietikainen, Image and Vision Computing 2011: 80 "
    "subjects x 6 expressions, 480 visible-light normal-illumination sequences",
    "jaffe": "Lyons, Akamatsu, Kamachi, Gyoba, FG 1998: 213 images of 10 subjects, 7 "
    "expressions (AN 30, DI 29, FE 32, HA 31, NE 30, SA 31, SU 30 as usually reported)",
    "mug": "Aifanti, Papachristou, Delopoulos, WIAMIS 2010: 86 subjects, posed part; 1462 "
    "takes is an APPROXIMATE total (a count quoted for the database, not checked against the "
    "paper) and its split over the 7 classes is invented",
}
INVENTED_NOTE = (
    "The rows are INVENTED: no label file of {name} is public. The mock has the published "
    "counts -- {published} -- but which subject has which sequence, emotion, AUs, length and file "
    "numbers is drawn from the seed."
)
TOP_FOLDERS = {
    "ckplus": ("cohn-kanade-images", "Emotion", "FACS"),
    "oulu_casia": ("OriginalImg",),
    "jaffe": ("jaffedbase",),
    "mug": ("subjects3",),
}


@dataclasses.dataclass(frozen=True)
class MacroClip(mock.MockClip):
    """A sequence (or still image) of a macro mock: :class:`mejax.datasets.mock.MockClip` with
    the subject's identity number and the emotion.

    Attributes:
      person: the subject's number within its database (its synth_me identity, offset by
        :data:`IDENTITY_OFFSET`).
      emotion: the emotion's name (neutral: no motion).
    """

    person: int = 0
    emotion: str = ""

    @property
    def identity(self) -> int:
        return IDENTITY_OFFSET[self.database] + self.person


@dataclasses.dataclass
class MacroPlan:
    """A macro mock: its clips, the label files (path -> text) and the per-emotion counts."""

    database: str
    root: pathlib.Path
    clips: list[MacroClip] = dataclasses.field(default_factory=list)
    texts: dict[pathlib.Path, str] = dataclasses.field(default_factory=dict)
    emotions: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    notes: list[str] = dataclasses.field(default_factory=list)


def _rng(seed: int, database: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, IDENTITY_OFFSET[database]]))


def _spread(rng: np.random.Generator, total: int, bins: int, least: int = 1) -> np.ndarray:
    """``total`` split over ``bins``, at least ``least`` each, the rest uniformly at random."""
    return least + rng.multinomial(total - least * bins, np.full(bins, 1 / bins))


def _clip(database, subject, name, numbers, onset, apex, emotion, index, person, output):
    """A :class:`MacroClip` whose AUs are the emotion's prototype."""
    numbers = tuple(numbers)
    return MacroClip(database, subject, name, numbers, onset, apex, numbers[-1],
                     frozenset(PROTOTYPES[emotion]), index, (output,), person=person,
                     emotion=emotion)  # fmt: skip


def _ckplus_value(value: float) -> str:
    return f"   {value:.7e}"


def plan_ckplus(root: pathlib.Path, seed: int) -> MacroPlan:
    """CK+: 593 sequences of 123 subjects, 327 labelled (see the module docstring)."""
    plan = MacroPlan("ckplus", root)
    rng = _rng(seed, "ckplus")
    low, high = CKPLUS_SUBJECT_RANGE
    subjects = np.sort(rng.choice(np.arange(low, high + 1), CKPLUS_SUBJECTS, replace=False))
    per_subject = _spread(rng, CKPLUS_SEQUENCES, CKPLUS_SUBJECTS)
    codes = [code for code, (_, count) in CKPLUS_EMOTIONS.items() for _ in range(count)]
    codes += [None] * (CKPLUS_SEQUENCES - len(codes))
    rng.shuffle(codes)
    names = {code: name for code, (name, _) in CKPLUS_EMOTIONS.items()}
    i = 0
    for number, count in zip(subjects, per_subject, strict=True):
        subject = f"S{number:03d}"
        sequences = np.sort(rng.choice(np.arange(1, count + 4), count, replace=False))
        for index, sequence in enumerate(sequences):
            code = codes[i]
            i += 1
            # An unlabelled sequence is posed too: the face shows a random emotion.
            shown = code if code is not None else int(rng.integers(1, 8))
            emotion = "happiness" if names[shown] == "happy" else names[shown]
            length = int(rng.integers(CKPLUS_FRAMES[0], CKPLUS_FRAMES[1] + 1))
            stem = f"{subject}_{sequence:03d}"
            folder = root / "cohn-kanade-images" / subject / f"{sequence:03d}"
            output = mock.Output(folder, f"{stem}_{{n:08d}}.png", grey=True)
            plan.clips.append(_clip("ckplus", subject, stem, range(1, length + 1),
                                    1 + length // 3, length, emotion, index, int(number),
                                    output))  # fmt: skip
            last = f"{stem}_{length:08d}"
            aus = PROTOTYPES[emotion]
            intensities = rng.integers(0, 6, len(aus))
            facs = root / "FACS" / subject / f"{sequence:03d}" / f"{last}_facs.txt"
            plan.texts[facs] = "".join(
                f"{_ckplus_value(au)}{_ckplus_value(level)}\n"
                for au, level in zip(aus, intensities, strict=True)
            )
            if code is not None:
                path = root / "Emotion" / subject / f"{sequence:03d}" / f"{last}_emotion.txt"
                plan.texts[path] = f"{_ckplus_value(code)}\n"
                plan.emotions[names[code]] += 1
            else:
                plan.emotions["(no emotion file)"] += 1
    return plan


def plan_oulu_casia(root: pathlib.Path, seed: int) -> MacroPlan:
    """Oulu-CASIA VL/Strong: 80 subjects x 6 expressions (see the module docstring)."""
    plan = MacroPlan("oulu_casia", root)
    rng = _rng(seed, "oulu_casia")
    strong = root / "OriginalImg" / "VL" / "Strong"
    for person in range(1, OULU_SUBJECTS + 1):
        subject = f"P{person:03d}"
        for index, expression in enumerate(OULU_EXPRESSIONS):
            length = int(rng.integers(OULU_FRAMES[0], OULU_FRAMES[1] + 1))
            output = mock.Output(strong / subject / expression, "{n:03d}.jpeg")
            emotion = expression.lower()
            plan.clips.append(_clip("oulu_casia", subject, f"{subject}_{expression}",
                                    range(length), length // 3, length - 1, emotion, index,
                                    person, output))  # fmt: skip
            plan.emotions[emotion] += 1
    return plan


def plan_jaffe(root: pathlib.Path, seed: int) -> MacroPlan:
    """JAFFE: 213 grey images of 10 subjects in ``jaffedbase/`` (see the module docstring)."""
    plan = MacroPlan("jaffe", root)
    rng = _rng(seed, "jaffe")
    subjects = len(JAFFE_SUBJECTS)
    # Images per (subject, expression): about 3 (29 = nine 3s and a 2, 32 = eight 3s and two 4s).
    cells = {}
    for code, total in JAFFE_EMOTION_COUNTS.items():
        base, rest = divmod(total, subjects)
        counts = np.full(subjects, base)
        counts[rng.choice(subjects, rest, replace=False)] += 1
        cells[code] = counts
    folder = root / "jaffedbase"
    number = 0
    for person, subject in enumerate(JAFFE_SUBJECTS, start=1):
        order = list(JAFFE_EMOTION_COUNTS)
        rng.shuffle(order)
        index = 0
        for code in order:
            for take in range(1, int(cells[code][person - 1]) + 1):
                number += int(rng.integers(1, 3))  # ascending, with a few gaps
                name = f"{subject}.{code}{take}.{number}"
                output = mock.Output(folder, f"{subject}.{code}{take}.{{n}}.tiff", grey=True)
                emotion = JAFFE_CODES[code]
                plan.clips.append(_clip("jaffe", subject, name, (number,), number, number,
                                        emotion, index, person, output))  # fmt: skip
                plan.emotions[emotion] += 1
                index += 1
    return plan


def plan_mug(root: pathlib.Path, seed: int) -> MacroPlan:
    """MUG, posed part: 1462 takes of 86 subjects in ``subjects3/`` (see the module docstring)."""
    plan = MacroPlan("mug", root)
    rng = _rng(seed, "mug")
    takes = {e: _spread(rng, count, MUG_SUBJECTS) for e, count in MUG_EMOTION_COUNTS.items()}
    sessions = set(rng.choice(np.arange(1, MUG_SUBJECTS + 1), MUG_SESSION_SUBJECTS, replace=False))
    plan.notes.append(
        "recorded in two sessions (session0/, session1/): subjects "
        + ", ".join(f"{s:03d}" for s in sorted(sessions))
    )
    for person in range(1, MUG_SUBJECTS + 1):
        subject = f"{person:03d}"
        index = 0
        for emotion, counts in takes.items():
            for take in range(int(counts[person - 1])):
                if person in sessions:  # takes alternate between the sessions
                    session = f"session{take % 2}"
                    folder = pathlib.Path(subject, session, emotion, f"take{take // 2:03d}")
                else:
                    folder = pathlib.Path(subject, emotion, f"take{take:03d}")
                length = int(rng.integers(MUG_FRAMES[0], MUG_FRAMES[1] + 1))
                output = mock.Output(root / "subjects3" / folder, "img_{n:04d}.jpg")
                name = "_".join(folder.parts)
                plan.clips.append(_clip("mug", subject, name, range(length), 1,
                                        (length - 1) // 2, emotion, index, person,
                                        output))  # fmt: skip
                plan.emotions[emotion] += 1
                index += 1
    return plan


PLANNERS = {"ckplus": plan_ckplus, "oulu_casia": plan_oulu_casia, "jaffe": plan_jaffe,
            "mug": plan_mug}  # fmt: skip


def plan(database: str, root: pathlib.Path, seed: int = 0) -> MacroPlan:
    """The mock of ``database`` under ``root`` (nothing is written)."""
    if database not in DATABASES:
        raise ValueError(f"unknown database {database!r}; expected one of {DATABASES}")
    return PLANNERS[database](pathlib.Path(root), seed)


def invented_note(database: str) -> str:
    names = {"ckplus": "CK+", "oulu_casia": "Oulu-CASIA", "jaffe": "JAFFE", "mug": "MUG"}
    return INVENTED_NOTE.format(name=names[database], published=PUBLISHED[database])


# --------------------------------------------------------------------------------------
# Frames and the mock.
# --------------------------------------------------------------------------------------


def faces(renderer: mock.Renderer, clip: MacroClip) -> np.ndarray:
    """(T, side, side, 3) uint8 RGB face squares of a clip. A neutral clip's are the frames
    the renderer draws before an onset: it is rendered one frame longer, with the onset on its
    last kept frame and the apex after it, and that frame dropped."""
    if clip.emotion != "neutral":
        return renderer.faces(clip)
    last = clip.numbers[-1]
    longer = dataclasses.replace(
        clip, numbers=(*clip.numbers, last + 1), onset=last, apex=last + 1, offset=last + 1
    )
    return renderer.faces(longer)[:-1]


@dataclasses.dataclass
class MacroSummary(mock.Summary):
    """:class:`mejax.datasets.mock.Summary` with the per-emotion counts."""

    emotions: dict[str, int] = dataclasses.field(default_factory=dict)

    def lines(self) -> list[str]:
        counts = ", ".join(f"{e} {n}" for e, n in self.emotions.items())
        return [
            *super().lines(),
            f"  emotions: {counts}",
            f"  NOTE: {invented_note(self.database)}",
        ]


def _readme(plan_: MacroPlan, frame_size, seed: int) -> str:
    rows = "\n".join(f"| {e} | {n} |" for e, n in sorted(plan_.emotions.items()))
    notes = "".join(f"- {note}\n" for note in plan_.notes)
    return (
        f"# Mock of {plan_.database}\n\nWritten by `python -m mejax.datasets.mock_macro "
        f"{plan_.database}` (frame size {frame_size[0]}x{frame_size[1]}, seed {seed}): the "
        "layout, file names and frame numbering the mejax builder reads, synthetic frames "
        "(mejax.datasets.synth_me faces). Not the database: nothing of its recordings or labels "
        f"is here.\n\n{invented_note(plan_.database)}\n\n"
        f"{len(plan_.clips)} clips of {len({c.subject for c in plan_.clips})} subjects.\n\n"
        f"| emotion | clips |\n|---|---|\n{rows}\n" + (f"\n{notes}" if notes else "")
    )


def write(
    database: str,
    out: str | os.PathLike,
    *,
    frame_size: tuple[int, int] = DEFAULT_FRAME_SIZE,
    seed: int = 0,
    progress: bool = True,
) -> MacroSummary:
    """Writes the mock of ``database`` under ``out`` (see the module docstring).

    The database's top folders under ``out`` (``cohn-kanade-images``, ``Emotion`` and ``FACS``;
    ``OriginalImg``; ``jaffedbase``; ``subjects3``) are replaced.

    Args:
      database: one of :data:`DATABASES`.
      out: the output folder (the builder's manual directory); created if missing.
      frame_size: (height, width) of the frames; the face is the shorter side's square.
      seed: seeds the invented rows, the faces and their motion.
      progress: show a tqdm progress bar over the frames.

    Returns:
      The :class:`MacroSummary`.
    """
    import tqdm

    if database not in DATABASES:
        raise ValueError(f"unknown database {database!r}; expected one of {DATABASES}")
    started = time.perf_counter()
    root = pathlib.Path(out)
    renderer = mock.Renderer(frame_size, seed)  # checks the size before anything is written
    root.mkdir(parents=True, exist_ok=True)
    for top in TOP_FOLDERS[database]:
        shutil.rmtree(root / top, ignore_errors=True)
    mock_ = plan(database, root, seed)
    for path, text in mock_.texts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    # Folders that several clips share (JAFFE's one folder of images) are written once, at the
    # end: mock.write_frames empties a folder before writing it.
    shared = collections.Counter(c.outputs[0].folder for c in mock_.clips)
    pending = collections.defaultdict(list)
    with tqdm.tqdm(
        total=sum(len(c.numbers) for c in mock_.clips),
        unit="frame",
        desc=f"mock {database}",
        disable=not progress,
    ) as bar:
        for clip in mock_.clips:
            (output,) = clip.outputs
            frames = renderer.whole(faces(renderer, clip))
            if shared[output.folder] > 1:
                names = [output.pattern.format(n=n) for n in clip.numbers]
                pending[(output.folder, output.grey)] += zip(names, frames, strict=True)
            else:
                mock.write_frames(output, clip.numbers, frames)
            bar.update(len(clip.numbers))
    for (folder, grey), images in pending.items():
        names, frames = zip(*images, strict=True)
        # The pattern "{n}" with whole file names as the "numbers".
        mock.write_frames(mock.Output(folder, "{n}", grey=grey), names, np.stack(frames))
    (root / "MOCK.md").write_text(_readme(mock_, frame_size, seed))
    files = [p for top in TOP_FOLDERS[database] for p in (root / top).rglob("*") if p.is_file()]
    return MacroSummary(
        database=database,
        root=root,
        clips={database: len(mock_.clips)},
        subjects={database: len({c.subject for c in mock_.clips})},
        frames=sum(len(c.numbers) for c in mock_.clips),
        files=len(files),
        bytes=sum(p.stat().st_size for p in files),
        seconds=time.perf_counter() - started,
        frame_size=tuple(frame_size),
        notes=mock_.notes,
        emotions=dict(sorted(mock_.emotions.items())),
    )


def main(argv: list[str] | None = None) -> int:
    args = mock.parser(
        "mock_macro",
        "Writes a mock copy of a macro-expression database: INVENTED rows at the published size, "
        "its layout, synthetic frames (see the module docstring).",
        DATABASES,
    ).parse_args(argv)
    return mock.run(write, args)


if __name__ == "__main__":
    sys.exit(main())
