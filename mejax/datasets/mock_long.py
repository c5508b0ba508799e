"""Mock copies of the long-video databases: the real label sheet, the real layout, synthetic faces.

``python -m mejax.datasets.mock_long DATABASE --out DIR`` writes, under ``DIR`` (the builder's
manual directory), a copy of CAS(ME)² (``casme_sq``), SAMM Long Videos (``samm_lv``) or CAS(ME)³
part A (``casme3``) as it ships -- folder layout, file names, frame numbering and sheet -- with
the database's own label sheet copied in and synthetic long videos in place of the recordings,
so that a spotting setting runs through all its rounds at the real shape (videos, subjects,
expressions at their frame numbers, frame rates) before the real data is at hand::

  python -m mejax.datasets.mock_long casme_sq --out /tmp/casme_sq_mock
  python -m mejax.datasets.mock_long samm_lv --out /tmp/samm_lv_mock --no-frames   # for --plan

Options as :mod:`mejax.datasets.mock`: ``--annotations PATH`` (default ``$MEJAX_ANNOTATIONS``,
else ``shared/annotations`` beside the checkout), ``--frame-size HxW`` (default ``48x64``; the
face is the shorter side's square), ``--seed N`` and ``--no-frames`` (every frame file written
empty: the names and numbering the builders and ``--plan`` list, in seconds; no builder can
build from it). A summary (videos, subjects, expressions, frames, time) ends the run.

The annotations folder (the user's own copies)::

  CASME_sq/CAS(ME)^2code_final.xlsx (or CASME_sq_gt.xlsx, the name public code gives it)
  SAMM-LV/SAMM_LongVideos_V2_Release.xlsx (or _V1_, SAMMLV_gt.xlsx, the V2 CSV export)
  SAMM/SAMM_Micro_FACS_Codes_v2.xlsx (optional: the micro-movements' emotions)
  CASME3/partA/CAS(ME)3_part_A_v2.xls, cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx (optional)
  CASME3/exception/error_info_damaged_image_partA.txt, image_with_bad_quality_partA.txt (opt.)
  MEGC-spotting/MEGC2020_baseline_HeyingGithub/CAS_ME_2_Sets/ME2_all.txt (optional)

Layout written per database, the sheet copied under its own name:

* ``casme_sq``: ``rawpic/s15/15_0101disgust1/img1.jpg`` ... (colour, 30 fps). The folder's
  description after the video code is the ``naming rule2`` name of the code (the release's own
  descriptions, e.g. ``disgustingteeth``, are not in the sheet; the builder reads the code
  only). With ``ME2_all.txt`` (the MEGC2020 organisers' list of the 98 long videos) the 3
  videos without an annotated expression are added, their length INVENTED (the median of the
  others) and said so.
* ``samm_lv``: ``SAMM_longvideos/006_1/006_1_0001.jpg`` (grey, 200 fps, 4 digits, 5 past 9999),
  and SAMM's clip sheet where found (the builder takes the micro-movements' emotions from it).
* ``casme3``: ``RGB/spNO.1/a/color/1.jpg`` (colour, 30 fps); the exception lists copied to
  ``exception/`` and the frames the damaged list names written unreadable, as they ship (the
  builder skips them by the list) -- its videos hold no annotated expression, so they are added
  with an INVENTED length (to their last damaged frame and the tail) and said so; the
  recognition sheet copied where found. The release also
  misses frames (most videos their first 7-8): the mock writes every frame, the gaps are
  exercised by the builder's dummy data.

Length. No sheet gives a video's length: a mock video runs from frame 1 to its last annotated
frame plus :data:`TAIL_SECONDS` (the real videos run on past it, so a mock is shorter than the
database: SAMM-LV about 0.45 of its million frames, CAS(ME)² about 0.6).

Frames. The long videos of :mod:`mejax.datasets.synth_me.long`: one synth_me identity per
database subject (an offset per database, :data:`IDENTITY_OFFSET`, clear of the clip mocks'),
its pose, slow head drift and turns, lighting drift, sensor noise and random blinks -- for
CAS(ME)³ the blinks of its ``eye blink`` sheet instead -- and, in place of the random
expressions, the sheet's: each moves the rendered AUs of its code (a code with none of them, or
none given, gets a sampled combination) with a raised cosine from its onset to its apex (the
middle frame where the apex is not annotated) and back to its offset, at synth_me_long's micro
or macro amplitude. Overlapping expressions (SAMM-LV 037_4_1) show the later one. The face is
the frame's shorter side square, its edges replicated to the width (SAMM-LV's in grey).

What is copied. Nothing of the databases but the sheets the user points to, byte for byte,
into the user's own output folder; no row is changed (the errata apply when reading, as the
builders apply them). ``MOCK.md`` says what the folder is.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import pathlib
import shutil
import statistics
import sys
import time

import cv2
import numpy as np

from mejax.datasets import aus, mock, readers, spotting_sheets
from mejax.datasets.long_video import NOT_ANNOTATED, Event
from mejax.datasets.synth_me import long, render

DATABASES = ("casme_sq", "samm_lv", "casme3")
FPS = {"casme_sq": 30.0, "samm_lv": 200.0, "casme3": 30.0}
IDENTITY_OFFSET = {"casme_sq": 4000, "samm_lv": 5000, "casme3": 6000}
TAIL_SECONDS = 1.0
CHUNK = 64  # frames rendered and written per task

# Sheets: (folder of the annotations folder, names tried in order); the builders' names.
CASME_SQ_SHEETS = ("CASME_sq", ("CAS(ME)^2code_final.xlsx", "CASME_sq_gt.xlsx"))
SAMM_LV_SHEETS = ("SAMM-LV", ("SAMM_LongVideos_V2_Release.xlsx", "SAMM_LongVideos_V1_Release.xlsx",
                              "SAMMLV_gt.xlsx", "SAMM_LongVideos_V2_Release.csv"))  # fmt: skip
CASME3_SHEET = "CASME3/partA/CAS(ME)3_part_A_v2.xls"
CASME3_ME_SHEET = "CASME3/partA/cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
CASME3_EXCEPTIONS = "CASME3/exception"
MEGC2020_VIDEOS = "MEGC-spotting/MEGC2020_baseline_HeyingGithub/CAS_ME_2_Sets/ME2_all.txt"
DAMAGED_BYTES = b"not a JPEG: listed as damaged in the release's exception list"


@dataclasses.dataclass(frozen=True)
class MockVideo:
    """One long video of a mock.

    Attributes:
      database: ``casme_sq``, ``samm_lv`` or ``casme3``.
      subject: the database's subject (the builder's split name, e.g. ``s15``, ``006``).
      video: the database's video name (``15_0101``, ``006_1``, ``spNO.1_a``).
      folder: its frame folder.
      pattern: file name with ``{n}`` for the frame number.
      num_frames: frames 1 to ``num_frames`` are written.
      events: the sheet's expressions (frame numbers as the sheet gives them, errata applied).
      identity: the synth_me identity of its subject.
      index: its index among its subject's videos (seeds its distractors).
      grey: frames written single-channel (SAMM-LV).
      damaged: frame numbers written unreadable (CAS(ME)³'s damaged list).
      blinks: (onset, offset) frame numbers of the sheet's blinks (CAS(ME)³), else None: random.
    """

    database: str
    subject: str
    video: str
    folder: pathlib.Path
    pattern: str
    num_frames: int
    events: tuple[Event, ...]
    identity: int
    index: int
    grey: bool = False
    damaged: frozenset[int] = frozenset()
    blinks: tuple[tuple[int, int], ...] | None = None


@dataclasses.dataclass
class Plan:
    """A mock: its videos, the sheets to copy (source -> target) and notes for the summary."""

    database: str
    root: pathlib.Path
    videos: list[MockVideo] = dataclasses.field(default_factory=list)
    copies: list[tuple[pathlib.Path, pathlib.Path]] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)


def _first_sheet(annotations: pathlib.Path, folder: str, names: tuple[str, ...]) -> pathlib.Path:
    for name in names:
        if (annotations / folder / name).is_file():
            return annotations / folder / name
    raise mock.AnnotationsNotFoundError(
        "no sheet found; looked for " + ", ".join(str(annotations / folder / n) for n in names)
    )


def _length(events, fps: float) -> int:
    """Frames of a video: its last annotated frame plus the tail."""
    last = max(max(e.onset, e.apex, e.offset) for e in events)
    return last + int(round(TAIL_SECONDS * fps))


def _add(plan_: Plan, subject: str, video: str, place, length: int, events=()) -> None:
    """Adds a video to the mock; ``place(video, subject)`` gives its (folder, pattern). Its
    identity is its subject's number, its index its place among its subject's videos."""
    database = plan_.database
    folder, pattern = place(video, subject)
    identity = IDENTITY_OFFSET[database] + int("".join(c for c in subject if c.isdigit()))
    index = sum(v.subject == subject for v in plan_.videos)
    plan_.videos.append(
        MockVideo(database, subject, video, folder, pattern, length, tuple(events), identity,
                  index, grey=database == "samm_lv")
    )  # fmt: skip


def _videos(plan_: Plan, sheet: spotting_sheets.VideoSheet, place) -> None:
    """Adds a MockVideo per video of ``sheet`` (see :func:`_add`)."""
    for video, items in sheet.by_video().items():
        events = [item.event for item in items]
        _add(plan_, items[0].subject, video, place, _length(events, FPS[plan_.database]), events)


def plan_casme_sq(root: pathlib.Path, annotations: pathlib.Path) -> Plan:
    """CAS(ME)²: the sheet and ``rawpic/sNN/NN_CCCC<name>/imgN.jpg`` (see the module docstring)."""
    plan_ = Plan("casme_sq", root)
    path = _first_sheet(annotations, *CASME_SQ_SHEETS)
    plan_.copies.append((path, root / path.name))
    sheet = spotting_sheets.casme_sq(path)
    names = {code: name for name, code in spotting_sheets.casme_sq_codes(path).items()}

    def place(video, subject):
        return root / "rawpic" / subject / f"{video}{names[video[-4:]]}", "img{n}.jpg"

    _videos(plan_, sheet, place)
    listed = annotations / MEGC2020_VIDEOS
    if listed.is_file():
        known = {v.video for v in plan_.videos}
        length = int(statistics.median(v.num_frames for v in plan_.videos))
        added = []
        for number, line in enumerate(listed.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            fields = line.split()
            if len(fields) != 2 or not fields[0][1:].isdigit() or fields[1] not in names:
                raise readers.AnnotationError(
                    f"{listed.name}, line {number}: expected 'sNN CCCC' with a code of 'naming "
                    f"rule2' ({', '.join(sorted(names))}), got {line.strip()!r}"
                )
            subject, code = fields
            video = f"{int(subject[1:])}_{code}"
            if video in known:
                continue
            _add(plan_, subject, video, place, length)
            added.append(video)
        if added:
            plan_.notes.append(
                f"{len(added)} video(s) of {listed.name} without an annotated expression added, "
                f"their length INVENTED ({length} frames, the others' median): {', '.join(added)}"
            )
    return plan_


def plan_samm_lv(root: pathlib.Path, annotations: pathlib.Path) -> Plan:
    """SAMM-LV: the sheet and ``SAMM_longvideos/006_1/006_1_0001.jpg`` (grey)."""
    plan_ = Plan("samm_lv", root)
    path = _first_sheet(annotations, *SAMM_LV_SHEETS)
    plan_.copies.append((path, root / path.name))
    sheet = spotting_sheets.samm_lv(path)
    coding = annotations / mock.SAMM_CODING[1]
    if coding.is_file():  # the emotions of the micro-movements (SAMM's clip sheet)
        plan_.copies.append((coding, root / coding.name))
    frames = root / "SAMM_longvideos"
    _videos(plan_, sheet, lambda video, _: (frames / video, video + "_{n:04d}.jpg"))
    return plan_


def plan_casme3(root: pathlib.Path, annotations: pathlib.Path) -> Plan:
    """CAS(ME)³ part A: the sheets, ``exception/`` and ``RGB/spNO.1/a/color/1.jpg``."""
    plan_ = Plan("casme3", root)
    path = annotations / CASME3_SHEET
    if not path.is_file():
        raise mock.AnnotationsNotFoundError(f"annotation file not found: {path}")
    plan_.copies.append((path, root / path.name))
    if (annotations / CASME3_ME_SHEET).is_file():
        me_sheet = annotations / CASME3_ME_SHEET
        plan_.copies.append((me_sheet, root / me_sheet.name))
    damaged = {}
    for name in (spotting_sheets.CASME3_DAMAGED, spotting_sheets.CASME3_BAD_QUALITY):
        listed = annotations / CASME3_EXCEPTIONS / name
        if listed.is_file():
            plan_.copies.append((listed, root / "exception" / name))
            if name == spotting_sheets.CASME3_DAMAGED:
                damaged = spotting_sheets.casme3_frame_list(listed)
    sheet = spotting_sheets.casme3(path)
    blinks = spotting_sheets.casme3_blinks(path)

    def place(video, _):
        subject, letter = video.rsplit("_", 1)
        return root / "RGB" / subject / letter / "color", "{n}.jpg"

    _videos(plan_, sheet, place)
    known = {v.video for v in plan_.videos}
    added = sorted(set(damaged) - known)  # videos without an expression, named by the list
    for video in added:
        length = max(damaged[video]) + int(round(TAIL_SECONDS * FPS["casme3"]))
        _add(plan_, "spNO" + video.split("_")[0][5:], video, place, length)
    if added:
        plan_.notes.append(
            f"{len(added)} video(s) of {spotting_sheets.CASME3_DAMAGED} without an annotated "
            f"expression added, their length INVENTED (the last damaged frame plus "
            f"{TAIL_SECONDS:g} s): {', '.join(added)}"
        )
    for i, video in enumerate(plan_.videos):
        plan_.videos[i] = dataclasses.replace(
            video,
            damaged=frozenset(n for n in damaged.get(video.video, ()) if n <= video.num_frames),
            blinks=tuple(tuple(span) for span in blinks.get(video.video, ())),
        )
    return plan_


PLANNERS = {"casme_sq": plan_casme_sq, "samm_lv": plan_samm_lv, "casme3": plan_casme3}


def plan(database: str, root: pathlib.Path, annotations=None) -> Plan:
    """The mock of ``database`` under ``root``."""
    if database not in DATABASES:
        raise ValueError(f"unknown database {database!r}; expected one of {DATABASES}")
    return PLANNERS[database](root, mock.find_annotations(annotations))


# --------------------------------------------------------------------------------------
# Frames.
# --------------------------------------------------------------------------------------


def _rendered_code(event: Event, rng: np.random.Generator, seed: int, video: MockVideo) -> str:
    """The rendered AUs of an expression's code (both sides), or a sampled combination."""
    try:
        numbers = aus.parse_code(event.au_code).aus if event.au_code else frozenset()
    except aus.AUCodeError:
        numbers = frozenset()
    rendered = [str(au) for au in sorted(numbers) if au in render.RENDERED_AUS]
    if rendered:
        return "+".join(rendered)
    key = int(rng.integers(2**31))
    return render.sample_labels(seed, video.identity, key, kind=long._LABEL_KIND).au_code


def event_spec(event: Event, video: MockVideo, rng: np.random.Generator, seed: int):
    """A sheet expression as synth_me_long's :class:`~mejax.datasets.synth_me.long.EventSpec`."""
    last = video.num_frames - 1
    onset = min(max(event.onset - 1, 0), last)
    offset = min(max(event.offset - 1, onset), last)
    apex = (onset + offset) // 2 if event.apex == NOT_ANNOTATED else event.apex - 1
    apex = min(max(apex, onset), offset)
    code = _rendered_code(event, rng, seed, video)
    labels = dataclasses.replace(render.labels_for_code(code), emotion=event.emotion)
    span = long.MICRO_AMPLITUDE if event.type == "micro" else long.MACRO_AMPLITUDE
    amplitudes = {token: float(rng.uniform(*span)) for token in code.split("+")}
    intensity = render.intensity_profile(offset - onset + 1, 0, apex - onset, offset - onset)
    return long.EventSpec(onset, apex, offset, event.type, labels, amplitudes, intensity)


def _blink_closure(spans, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) lid closure of the sheet's blinks: closing over 40 % of each, then reopening."""
    closure = np.zeros(n, np.float32)
    for onset, offset in spans:
        first, last = onset - 1, min(offset - 1, n - 1)
        if first > last:
            continue
        duration = max(last - first, 2)
        closing = max(1, int(round(0.4 * duration)))
        shape = long.blink_shape(np.arange(last - first + 1), duration, closing)
        depth = rng.uniform(0.7, 1.0)
        closure[first : last + 1] = np.maximum(closure[first : last + 1], depth * shape)
    return closure


def renderer(video: MockVideo, side: int, seed: int) -> long.VideoRenderer:
    """The renderer of a mock video: synth_me_long's distractors, the sheet's expressions."""
    spec = long.sample_video_spec(seed, video.identity, video.index, fps=FPS[video.database],
                                  num_frames=video.num_frames, image_size=side)  # fmt: skip
    rng = np.random.default_rng([seed, video.identity, video.index, 77])
    events = tuple(event_spec(e, video, rng, seed) for e in video.events)
    spec = dataclasses.replace(spec, events=events)
    if video.blinks is not None:
        spec = dataclasses.replace(spec, blink=_blink_closure(video.blinks, video.num_frames, rng))
    return long.VideoRenderer(spec, long.subject_face(seed, video.identity, side))


def write_video(video: MockVideo, frame_size: tuple[int, int], seed: int, pool) -> int:
    """Writes the frames of one video (the folder emptied first); returns the bytes written."""
    if video.folder.exists():
        shutil.rmtree(video.folder)
    video.folder.mkdir(parents=True)
    draw = renderer(video, min(frame_size), seed)
    params = [cv2.IMWRITE_JPEG_QUALITY, mock.JPEG_QUALITY]

    def chunk(start: int) -> int:
        written = 0
        stop = min(start + CHUNK, video.num_frames)
        whole = mock.whole_frames(draw.window(start, stop), frame_size)
        for position, frame in enumerate(whole, start=start):
            n = position + 1
            path = video.folder / video.pattern.format(n=n)
            if n in video.damaged:
                path.write_bytes(DAMAGED_BYTES)
            else:
                code = cv2.COLOR_RGB2GRAY if video.grey else cv2.COLOR_RGB2BGR
                if not cv2.imwrite(str(path), cv2.cvtColor(frame, code), params):
                    raise OSError(f"could not write {path}")
            written += path.stat().st_size
        return written

    return sum(pool.map(chunk, range(0, video.num_frames, CHUNK)))


def write_names(video: MockVideo) -> None:
    """The frame files of a video, empty (``--no-frames``)."""
    video.folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, video.num_frames + 1):
        (video.folder / video.pattern.format(n=n)).touch()


# --------------------------------------------------------------------------------------
# The mock.
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Summary:
    """What a mock holds."""

    database: str
    root: pathlib.Path
    videos: int
    subjects: int
    events: dict[str, int]
    frames: int
    bytes: int
    seconds: float
    frame_size: tuple[int, int]
    notes: list[str]
    frames_written: bool

    def lines(self) -> list[str]:
        height, width = self.frame_size
        what = f"{height}x{width}, {self.bytes / 2**20:.1f} MiB" if self.frames_written else "empty"
        lines = [
            f"mock {self.database}: {self.videos} videos of {self.subjects} subjects, "
            f"{self.events['micro']} micro + {self.events['macro']} macro expressions",
            f"  {self.frames} frames ({what}) in {self.seconds:.1f} s",
            f"  written to {self.root}",
        ]
        return lines + [f"  note: {note}" for note in self.notes]


def _readme(plan_: Plan, frame_size, seed: int, frames: bool) -> str:
    sheets = "\n".join(f"- `{t.relative_to(plan_.root)}`: a copy of `{s}`" for s, t in plan_.copies)
    what = "synthetic frames (synth_me long videos)" if frames else "empty frame files"
    return (
        f"# Mock of {plan_.database}\n\nWritten by `python -m mejax.datasets.mock_long "
        f"{plan_.database}` (frame size {frame_size[0]}x{frame_size[1]}, seed {seed}): the "
        f"layout, file names and frame numbers of the database as it ships, {what}. Not the "
        f"database: nothing of its recordings is here.\n\n{sheets}\n"
    )


def write(
    database: str,
    out: str | os.PathLike,
    *,
    annotations: str | os.PathLike | None = None,
    frame_size: tuple[int, int] = mock.DEFAULT_FRAME_SIZE,
    seed: int = 0,
    progress: bool = True,
    frames: bool = True,
) -> Summary:
    """Writes the mock of ``database`` under ``out`` (see the module docstring).

    Args:
      database: one of :data:`DATABASES`.
      out: the output folder (the builder's manual directory); created if missing.
      annotations: the annotations folder (default: :func:`mejax.datasets.mock.find_annotations`).
      frame_size: (height, width) of the frames; the face is the shorter side's square.
      seed: seeds the faces, their distractors and the expressions' amplitudes.
      progress: show a tqdm progress bar over the frames.
      frames: False: the sheets and empty frame files only (``--no-frames``).
    """
    import tqdm

    started = time.perf_counter()
    if min(frame_size) < render.MIN_IMAGE_SIZE:
        raise ValueError(
            f"frame size {frame_size[0]}x{frame_size[1]}: the face needs at least "
            f"{render.MIN_IMAGE_SIZE} px on the shorter side"
        )
    root = pathlib.Path(out)
    mock_plan = plan(database, root, annotations)
    root.mkdir(parents=True, exist_ok=True)
    for source, target in mock_plan.copies:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    total = sum(v.num_frames for v in mock_plan.videos)
    written = 0
    with (
        tqdm.tqdm(total=total, unit="frame", desc=f"mock {database}", disable=not progress) as bar,
        concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool,
    ):
        for video in mock_plan.videos:
            if frames:
                written += write_video(video, frame_size, seed, pool)
            else:
                write_names(video)
            bar.update(video.num_frames)
    (root / "MOCK.md").write_text(_readme(mock_plan, frame_size, seed, frames))
    events = [e.type for v in mock_plan.videos for e in v.events]
    return Summary(
        database=database,
        root=root,
        videos=len(mock_plan.videos),
        subjects=len({v.subject for v in mock_plan.videos}),
        events={"micro": events.count("micro"), "macro": events.count("macro")},
        frames=total,
        bytes=written,
        seconds=time.perf_counter() - started,
        frame_size=tuple(frame_size),
        notes=mock_plan.notes,
        frames_written=frames,
    )


def main(argv: list[str] | None = None) -> int:
    args = mock.parser(
        "mock_long",
        "Writes a mock copy of a long-video database: its real label sheet and layout, synthetic "
        "long videos (see the module docstring).",
        DATABASES,
        sheets="CASME_sq, SAMM-LV, CASME3, SAMM, MEGC-spotting",
        no_frames="empty frame files only: a copy for --plan",
    ).parse_args(argv)
    return mock.run(write, args)


if __name__ == "__main__":
    sys.exit(main())
