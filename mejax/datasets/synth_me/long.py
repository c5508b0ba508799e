"""``synth_me_long``: long synthetic videos for micro- and macro-expression spotting.

The embedded default database of spotting, in the schema of the real long-video databases
(:func:`mejax.datasets.long_video.video_features`: CAS(ME)², SAMM-LV, CAS(ME)³ part A). Each
example is one long video (tens of seconds at 30 or 200 fps) of one synthetic subject in
which micro-expressions (at most 0.5 s) and macro-expressions (0.5-4 s) happen at random,
non-overlapping times, among distractors that a spotter has to ignore: blinks, slow head
drift, occasional small head turns, slow lighting drift and sensor noise.

Everything is drawn from :mod:`mejax.datasets.synth_me.render`: the faces (subject ``sub01``
is the face of ``synth_me``'s ``sub01`` at the same seed), the AU displacement fields and
appearance changes, the blinks, and the AU codes and emotions of the events
(:func:`render.sample_labels` on a stream of its own). Frames are rendered and PNG-encoded in
small chunks, never held decoded all at once. See the README next to this file.

A video is a pure function of ``(seed, subject, video, fps, seconds, image_size)``:
:func:`sample_video_spec` draws everything random about it (events, labels, amplitudes,
pose, head motion, lighting, blinks, noise seed) as per-frame parameters, and
:class:`VideoRenderer` renders any window of it; a frame does not depend on the window it is
rendered in.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
from collections.abc import Iterator, Mapping

import cv2
import numpy as np
import tensorflow_datasets as tfds

from mejax.datasets import local_build, long_video
from mejax.datasets.synth_me import render
from mejax.datasets.synth_me.synth_me import subject_name

DATABASE = "synth_me_long"

# Event durations, offset - onset + 1 frames, in seconds: micro-expressions last at most
# 0.5 s (the CAS(ME)^2 / SAMM-LV / CAS(ME)^3 criterion, SPECS-SPOT), macro-expressions more
# than 0.5 s (even counted offset - onset) and at most 4 s, log-uniform (mean about 1.8 s;
# CAS(ME)^2's macro intervals average 1.2 s, SAMM-LV's 1.75 s).
MICRO_SECONDS = (0.2, 0.5)
MACRO_SECONDS = (0.6, 4.0)
MICRO_PROBABILITY = 0.5  # the type of each event
# Peak skin displacement of one AU, fraction of the image width: micro 1.5-2.5 % (1-1.6 px at
# 64 x 64, the 1-2 px of synth_me's micro clips at 112), macro 4.5-8 % (3-5 px at 64 x 64),
# integrated in 8 steps like synth_me's macro configs so that the skin never folds.
MICRO_AMPLITUDE = (0.015, 0.025)
MACRO_AMPLITUDE = (0.045, 0.08)
MICRO_WARP_STEPS, MACRO_WARP_STEPS = 1, 8
# Timeline, in seconds: neutral lead-in before the first onset, rest between two events
# (offset to the next onset), neutral tail after the last offset.
LEAD_IN_SECONDS = (1.0, 2.0)
GAP_SECONDS = (1.0, 3.0)
TAIL_SECONDS = 0.5
# Blinks (upper lids down and up; not annotated): 0.1-0.3 s, 70-100 % closure, intervals of
# 0.8 s plus an exponential of mean 3.2 s (about 15 a minute), independent of the events.
BLINK_SECONDS = (0.1, 0.3)
BLINK_INTERVAL_SECONDS = (0.8, 3.2)  # (minimum, mean of the exponential part)
# Head turns: a move to a new head pose over 0.3-0.8 s about every 20 s (exponential
# intervals): shift up to 1.5 % of the width, roll up to 2 degrees, horizontal
# foreshortening (a small yaw) down to 0.97.
TURN_SECONDS = (0.3, 0.8)
TURN_INTERVAL_SECONDS = 20.0
TURN_SHIFT, TURN_ROLL_DEGREES, TURN_MIN_XSCALE = 0.015, 2.0, 0.97
# Slow drift: sums of three sinusoids of periods 6-40 s, peak 0.5-1.5 % of the width and
# 0.3 degrees; lighting: gain drift of 2-6 %, a gradient of 0-5 % (+-2 %) whose direction
# turns by up to 30 degrees over a minute.
DRIFT_PERIOD_SECONDS = (6.0, 40.0)

# Random streams: 200-215, clear of synth_me's micro (0-5) and macro (100-105) streams. The
# labels use render's label stream shifted by 200 (201); the others start at 210.
_LABEL_KIND = dataclasses.replace(render.MICRO, name="long", stream_offset=200)
_TIMING, _POSE, _HEAD, _BLINKS, _SENSOR = range(210, 215)
# Labels of event e of video v at f fps: render.sample_labels(..., clip=key) with
# key = (round(1000 f) * 1000 + v) * 1000 + e.
_EVENT_KEY = 1000

_MAX_SUBJECTS = 99
_MAX_VIDEOS = 99
_MAX_EVENTS = _EVENT_KEY
_MAX_SEED = 2**32 - 1
_FPS_RANGE = (10.0, 1000.0)
_SECONDS_RANGE = (2.0, 600.0)
_CHUNK = 32  # frames rendered and encoded per task


@dataclasses.dataclass(eq=False)
class SynthMeLongConfig(tfds.core.BuilderConfig):
    """Size of a long-video database.

    Attributes:
      num_subjects: subjects (one split each, ``sub01``...), 2-99.
      videos_per_subject: long videos per subject, 1-99.
      seconds: length of every video in seconds, 2-600.
      fps: frame rate, 10-1000 (the databases: 30 or 200).
      image_size: frame width and height in pixels, 32-512.
      seed: seed of everything random, 0 to 2**32 - 1.
    """

    num_subjects: int = 6
    videos_per_subject: int = 2
    seconds: float = 20.0
    fps: float = 30.0
    image_size: int = 64
    seed: int = 0

    def __post_init__(self):
        integers = {
            "num_subjects": (2, _MAX_SUBJECTS),
            "videos_per_subject": (1, _MAX_VIDEOS),
            "image_size": (render.MIN_IMAGE_SIZE, render.MAX_IMAGE_SIZE),
            "seed": (0, _MAX_SEED),
        }
        numbers = {"seconds": _SECONDS_RANGE, "fps": _FPS_RANGE}
        for field, (low, high) in {**integers, **numbers}.items():
            value = getattr(self, field)
            kinds = int if field in integers else (int, float)
            if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
                kind = "an integer" if field in integers else "a number"
                raise ValueError(
                    f"SynthMeLongConfig {self.name!r}: {field}={value!r} must be {kind} in "
                    f"[{low}, {high}]"
                )

    @property
    def num_frames(self) -> int:
        """Frames of every video."""
        return int(round(self.seconds * self.fps))


def video_name(subject: int, video: int) -> str:
    """Video name (also the example key) of 0-based indices, e.g. ``"sub01_v02"``."""
    return f"{subject_name(subject)}_v{video + 1:02d}"


# --------------------------------------------------------------------------------------
# The video's parameters.
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class EventSpec:
    """One expression of a video.

    Attributes:
      onset: position of the last frame at rest before the movement (0-based).
      apex: position where the intensity first reaches 1.
      offset: position where the intensity is back to 0; both ends belong to the event.
      type: ``"micro"`` or ``"macro"``.
      labels: AU code, AUs, objective class and emotion (:func:`render.sample_labels`).
      amplitudes: token -> peak skin displacement as a fraction of the image width.
      intensity: (offset - onset + 1,) intensity from the onset to the offset: raised-cosine
        rise to the apex, a hold at 1 (macro only), raised-cosine fall.
    """

    onset: int
    apex: int
    offset: int
    type: str
    labels: render.Labels
    amplitudes: Mapping[str, float]
    intensity: np.ndarray

    @property
    def length(self) -> int:
        return self.offset - self.onset + 1

    @property
    def warp_steps(self) -> int:
        return MICRO_WARP_STEPS if self.type == "micro" else MACRO_WARP_STEPS

    def event(self) -> long_video.Event:
        """The annotation, in 1-based frame numbers."""
        return long_video.Event(
            onset=self.onset + 1,
            apex=self.apex + 1,
            offset=self.offset + 1,
            type=self.type,
            emotion=self.labels.emotion,
            au_code=self.labels.au_code,
        )


@dataclasses.dataclass(frozen=True, eq=False)
class VideoSpec:
    """Everything random about one long video, as per-frame parameters.

    Attributes:
      seed, subject, video: what it is a function of (0-based indices).
      fps: frame rate.
      num_frames: T.
      image_size: frame width and height.
      events: the expressions, by onset, separated by at least one rest second.
      pose: (3, 3) canonical-to-image similarity of the whole video.
      head: (T, 4) head motion about the face centre: dx, dy (pixels), roll (radians),
        horizontal scale (foreshortening of a small yaw): slow drift plus turns.
      turns: (K, 2) start and end positions of the head turns.
      blink: (T,) lid closure in [0, 1].
      gain: (T,) global illumination gain.
      gradient: (T, 2) strength (fraction) and direction (radians) of the light gradient.
      noise_sigma: sensor noise standard deviation in gray levels.
      noise_seed: seed of the sensor noise (frame t draws from ``[noise_seed, t]``).
    """

    seed: int
    subject: int
    video: int
    fps: float
    num_frames: int
    image_size: int
    events: tuple[EventSpec, ...]
    pose: np.ndarray
    head: np.ndarray
    turns: np.ndarray
    blink: np.ndarray
    gain: np.ndarray
    gradient: np.ndarray
    noise_sigma: float
    noise_seed: int

    def in_event(self) -> np.ndarray:
        """(T,) bool: the frames from some event's onset to its offset."""
        inside = np.zeros(self.num_frames, bool)
        for event in self.events:
            inside[event.onset : event.offset + 1] = True
        return inside


def _fps_key(fps: float) -> int:
    """The frame rate in mHz: keys the streams, so two rates draw different videos."""
    return int(round(fps * 1000))


def _rng(seed: int, stream: int, subject: int, video: int, fps: float) -> np.random.Generator:
    keys = [seed, stream, subject, video, _fps_key(fps)]
    return np.random.default_rng(np.random.SeedSequence(keys))


def _event_intensity(rise: int, hold: int, fall: int) -> np.ndarray:
    """Raised-cosine rise over ``rise`` frames, ``hold`` frames at 1, fall over ``fall``."""
    up = 0.5 * (1 - np.cos(np.pi * np.arange(rise + 1) / rise))
    down = 0.5 * (1 + np.cos(np.pi * np.arange(1, fall + 1) / fall))
    return np.concatenate([up, np.ones(hold), down]).astype(np.float32)


def _draw_event(rng: np.random.Generator, fps: float) -> tuple[str, int, int, int]:
    """(type, frames onset -> apex, frames at the apex, frames apex -> offset)."""
    micro = rng.uniform() < MICRO_PROBABILITY
    if micro:
        span = rng.uniform(*MICRO_SECONDS)
        low, high = 3, int(math.floor(0.5 * fps))  # length <= 0.5 s
    else:
        span = math.exp(rng.uniform(*np.log(MACRO_SECONDS)))
        low, high = int(math.floor(0.5 * fps)) + 2, int(math.floor(4.0 * fps))
    length = int(np.clip(round(span * fps), low, high))
    steps = length - 1  # offset - onset
    if micro:
        rise = int(np.clip(round(rng.uniform(0.3, 0.5) * steps), 1, steps - 1))
        hold = 0
    else:
        rise = int(np.clip(round(rng.uniform(0.2, 0.4) * steps), 1, steps - 2))
        hold = int(np.clip(round(rng.uniform(0.0, 0.3) * steps), 0, steps - rise - 1))
    return ("micro" if micro else "macro"), rise, hold, steps - rise - hold


def _sinusoids(rng: np.random.Generator, seconds: np.ndarray, dims: int) -> np.ndarray:
    """(T, dims) sums of three slow sinusoids, peak |value| 1 over a long stretch."""
    out = np.zeros((len(seconds), dims))
    for d in range(dims):
        periods = rng.uniform(*DRIFT_PERIOD_SECONDS, 3)
        phases = rng.uniform(0, 2 * np.pi, 3)
        weights = rng.uniform(0.3, 1.0, 3)
        weights /= weights.sum()
        out[:, d] = sum(
            w * np.sin(2 * np.pi * seconds / p + f)
            for w, p, f in zip(weights, periods, phases, strict=True)
        )
    return out


def blink_shape(s: np.ndarray, duration: int, closing: int) -> np.ndarray:
    """Lid closure of one blink at offsets ``s`` (frames) from its start, render's shape: the
    lids close over ``closing`` frames (about 40 % of the blink) and reopen by ``duration``;
    0 outside the blink."""
    down = 0.5 * (1 - np.cos(np.pi * np.clip(s / closing, 0, 1)))
    up = 0.5 * (1 + np.cos(np.pi * np.clip((s - closing) / (duration - closing), 0, 1)))
    return np.where(s < closing, down, up) * (s >= 0) * (s <= duration)


def _blinks(rng: np.random.Generator, n: int, fps: float) -> np.ndarray:
    closure = np.zeros(n, np.float32)
    minimum, mean = BLINK_INTERVAL_SECONDS
    start = -rng.uniform(0, minimum + mean)  # a stationary process: it began before frame 0
    t = np.arange(n)
    while True:
        start += minimum + rng.exponential(mean)
        duration = max(3, int(round(rng.uniform(*BLINK_SECONDS) * fps)))
        depth = rng.uniform(0.7, 1.0)
        first = int(round(start * fps))
        if first >= n:
            return closure
        closing = max(2, int(round(0.4 * duration)))
        shape = blink_shape(t - first, duration, closing)
        closure = np.maximum(closure, (depth * shape).astype(np.float32))


def _head(rng: np.random.Generator, n: int, fps: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(T, 4) dx, dy, roll, xscale and (K, 2) the turns' start and end positions."""
    seconds = np.arange(n) / fps
    head = np.zeros((n, 4))
    head[:, :2] = _sinusoids(rng, seconds, 2) * rng.uniform(0.005, 0.015) * size
    head[:, 2] = _sinusoids(rng, seconds, 1)[:, 0] * math.radians(rng.uniform(0.0, 0.3))
    head[:, 3] = 1.0
    pose = np.array([0.0, 0.0, 0.0, 1.0])
    turns = []
    start = rng.exponential(TURN_INTERVAL_SECONDS) - 0.5 * TURN_INTERVAL_SECONDS
    while True:
        duration = rng.uniform(*TURN_SECONDS)
        target = np.array(
            [
                rng.uniform(-TURN_SHIFT, TURN_SHIFT) * size,
                rng.uniform(-TURN_SHIFT, TURN_SHIFT) * size,
                math.radians(rng.uniform(-TURN_ROLL_DEGREES, TURN_ROLL_DEGREES)),
                rng.uniform(TURN_MIN_XSCALE, 1.0),
            ]
        )
        begin, end = start * fps, (start + duration) * fps
        if begin >= n:
            break
        progress = 0.5 * (1 - np.cos(np.pi * np.clip((np.arange(n) - begin) / (end - begin), 0, 1)))
        head += progress[:, None] * (target - pose)  # the drift leaves the scale at 1
        if end > 0:
            turns.append((max(0, int(math.floor(begin))), min(n - 1, int(math.ceil(end)))))
        pose = target
        start += duration + rng.exponential(TURN_INTERVAL_SECONDS)
    return head, np.array(turns, np.int64).reshape(-1, 2)


def sample_video_spec(
    seed: int, subject: int, video: int, *, fps: float, num_frames: int, image_size: int
) -> VideoSpec:
    """Draws everything random about one long video.

    Args:
      seed: dataset seed.
      subject: 0-based subject index.
      video: 0-based video index within the subject.
      fps: frame rate (the timeline is drawn in seconds, then placed on frames).
      num_frames: T.
      image_size: frame width and height.

    Returns:
      The :class:`VideoSpec`.
    """
    n, s = num_frames, image_size
    rng = _rng(seed, _TIMING, subject, video, fps)
    events = []
    position = int(round(rng.uniform(*LEAD_IN_SECONDS) * fps))
    last = n - 1 - int(round(TAIL_SECONDS * fps))
    while len(events) < _MAX_EVENTS:
        kind, rise, hold, fall = _draw_event(rng, fps)
        amplitude = rng.uniform(
            *(MICRO_AMPLITUDE if kind == "micro" else MACRO_AMPLITUDE), len(render.RENDERED_AUS)
        )
        gap = int(round(rng.uniform(*GAP_SECONDS) * fps))
        onset, offset = position, position + rise + hold + fall
        if offset > last:
            break
        key = (_fps_key(fps) * _EVENT_KEY + video) * _EVENT_KEY + len(events)
        labels = render.sample_labels(seed, subject, key, kind=_LABEL_KIND)
        per_au = dict(zip(render.RENDERED_AUS, amplitude, strict=True))
        tokens = render.parse_code(labels.au_code)
        amplitudes = {
            token: float(per_au[au])
            for token, (au, _) in zip(labels.au_code.split("+"), tokens, strict=True)
        }
        events.append(
            EventSpec(
                onset=onset,
                apex=onset + rise,
                offset=offset,
                type=kind,
                labels=labels,
                amplitudes=amplitudes,
                intensity=_event_intensity(rise, hold, fall),
            )
        )
        position = offset + 1 + gap

    rng = _rng(seed, _POSE, subject, video, fps)
    angle = math.radians(rng.uniform(-1.5, 1.5))
    scale = rng.uniform(0.985, 1.015)
    shift = rng.uniform(-0.01, 0.01, 2) * s
    c = (s - 1) / 2
    rot = scale * np.array(
        [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
    )
    pose = np.eye(3)
    pose[:2, :2] = rot
    pose[:2, 2] = np.array([c, c]) + shift - rot @ np.array([c, c])
    seconds = np.arange(n) / fps
    gain = 1 + _sinusoids(rng, seconds, 1)[:, 0] * rng.uniform(0.02, 0.06)
    gain *= rng.uniform(0.97, 1.03)
    gradient = np.zeros((n, 2))
    gradient[:, 0] = np.clip(
        rng.uniform(0.0, 0.05) + 0.02 * _sinusoids(rng, seconds, 1)[:, 0], 0.0, None
    )
    turn_rate = math.radians(rng.uniform(-30.0, 30.0)) / 60.0  # radians a second
    gradient[:, 1] = rng.uniform(0, 2 * np.pi) + turn_rate * seconds

    head, turns = _head(_rng(seed, _HEAD, subject, video, fps), n, fps, s)
    blink = _blinks(_rng(seed, _BLINKS, subject, video, fps), n, fps)
    rng = _rng(seed, _SENSOR, subject, video, fps)
    return VideoSpec(
        seed=seed,
        subject=subject,
        video=video,
        fps=float(fps),
        num_frames=n,
        image_size=s,
        events=tuple(events),
        pose=pose,
        head=head,
        turns=turns,
        blink=blink,
        gain=gain.astype(np.float32),
        gradient=gradient,
        noise_sigma=float(rng.uniform(1.5, 3.0)),
        noise_seed=int(rng.integers(2**63)),
    )


# --------------------------------------------------------------------------------------
# Rendering.
# --------------------------------------------------------------------------------------


class VideoRenderer:
    """Renders any window of a long video.

    Each frame pulls the subject's canonical face through one ``cv2.remap`` whose map
    composes the video's pose, the head motion and, inside an event, the event's summed AU
    field scaled by its intensity (integrated in 8 steps for a macro-expression); the lids
    are lowered by the blink; the AU appearance maps, the lighting and the sensor noise
    follow, as in :func:`render.render_clip`.
    """

    def __init__(self, spec: VideoSpec, face: render.Face):
        if face.size != spec.image_size:
            raise ValueError(f"face rendered at {face.size}, video wants {spec.image_size}")
        self.spec, self.face = spec, face
        n = spec.num_frames
        self._event = np.full(n, -1, np.int64)
        self._intensity = np.zeros(n, np.float32)
        self._fields, self._appearance = [], []
        for index, event in enumerate(spec.events):
            self._event[event.onset : event.offset + 1] = index
            self._intensity[event.onset : event.offset + 1] = event.intensity
            code = event.labels.au_code
            fields = render.au_displacement_fields(code, face, event.amplitudes)
            self._fields.append(np.sum(list(fields.values()), axis=0))
            appearance = render.au_appearance_maps(code, face)
            self._appearance.append(
                np.sum(list(appearance.values()), axis=0) if appearance else None
            )
        self._x, self._y = render._grid(spec.image_size)
        geometry = face.geometry
        self._center = spec.pose[:2, :2] @ geometry.point(0, 0) + spec.pose[:2, 2]
        c = (spec.image_size - 1) / 2
        self._ramp = ((self._x - c) / spec.image_size, (self._y - c) / spec.image_size)

    def intensity(self) -> np.ndarray:
        """(T,) expression intensity of every frame (0 outside the events)."""
        return self._intensity.copy()

    def _head_matrix(self, t: int) -> np.ndarray:
        dx, dy, roll, xscale = self.spec.head[t]
        linear = np.array(
            [[math.cos(roll), -math.sin(roll)], [math.sin(roll), math.cos(roll)]]
        ) @ np.diag([xscale, 1.0])
        m = np.eye(3)
        m[:2, :2] = linear
        m[:2, 2] = self._center + np.array([dx, dy]) - linear @ self._center
        return m

    def frame(self, t: int) -> np.ndarray:
        """Frame at position ``t``: (size, size, 3) uint8 RGB."""
        spec, face = self.spec, self.face
        m = np.linalg.inv(self._head_matrix(t) @ spec.pose)
        x, y = self._x, self._y
        map_x = (m[0, 0] * x + m[0, 1] * y + m[0, 2]).astype(np.float32)
        map_y = (m[1, 0] * x + m[1, 1] * y + m[1, 2]).astype(np.float32)
        index, level = self._event[t], self._intensity[t]
        base = face.open_eyes
        if spec.blink[t] > 0:
            base = render._blink_frame(face, float(spec.blink[t]), base)
        if level > 0:
            event = spec.events[index]
            map_x, map_y = render._pull(
                self._fields[index], map_x, map_y, np.float32(level), event.warp_steps
            )
            if self._appearance[index] is not None:
                base = base * (1 + level * self._appearance[index])[..., None]
        image = cv2.remap(base, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
        strength, direction = spec.gradient[t]
        ramp = math.cos(direction) * self._ramp[0] + math.sin(direction) * self._ramp[1]
        light = (spec.gain[t] * 255.0) * (1 + strength * ramp)
        image *= light[..., None].astype(np.float32)
        noise = np.random.default_rng([spec.noise_seed, t]).standard_normal(
            image.shape, dtype=np.float32
        )
        image += noise * np.float32(spec.noise_sigma)
        np.clip(image, 0, 255, out=image)
        image += 0.5  # rounds on the truncating cast below
        return image.astype(np.uint8)

    def window(self, start: int, stop: int) -> np.ndarray:
        """Frames at positions ``start`` to ``stop - 1``: (stop - start, size, size, 3) uint8."""
        if not 0 <= start <= stop <= self.spec.num_frames:
            raise IndexError(f"window [{start}, {stop}) outside {self.spec.num_frames} frames")
        size = self.spec.image_size
        out = np.empty((stop - start, size, size, 3), np.uint8)
        for t in range(start, stop):
            out[t - start] = self.frame(t)
        return out

    def encoded(self, start: int, stop: int) -> list[bytes]:
        """Frames ``start`` to ``stop - 1`` encoded as PNG, rendered one at a time."""
        return [long_video.encode(self.frame(t)) for t in range(start, stop)]


def subject_face(seed: int, subject: int, image_size: int) -> render.Face:
    """The canonical face of a subject: synth_me's (micro) subject of the same index."""
    return render.render_face(render.sample_identity(seed, subject), image_size)


def generate_video(
    config: SynthMeLongConfig, subject: int, video: int, face: render.Face | None = None
) -> tuple[VideoSpec, VideoRenderer]:
    """The spec and the renderer of one video of a config."""
    if face is None:
        face = subject_face(config.seed, subject, config.image_size)
    spec = sample_video_spec(
        config.seed,
        subject,
        video,
        fps=config.fps,
        num_frames=config.num_frames,
        image_size=config.image_size,
    )
    return spec, VideoRenderer(spec, face)


# --------------------------------------------------------------------------------------
# The builder.
# --------------------------------------------------------------------------------------


class SynthMeLong(local_build.LocalBuild, tfds.core.GeneratorBasedBuilder):
    """Long synthetic videos with micro- and macro-expression intervals, for spotting."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": (
            "Initial release: synth_me's faces in long videos at 30 or 200 fps with micro- "
            "(<= 0.5 s) and macro-expressions (0.5-4 s) at random, non-overlapping times, "
            "among blinks, slow head drift, head turns, lighting drift and sensor noise."
        ),
    }
    BUILDER_CONFIGS = [
        SynthMeLongConfig(
            name="tiny",
            description="3 subjects x 1 video x 6 s at 30 fps, 32x32: for tests.",
            num_subjects=3,
            videos_per_subject=1,
            seconds=6.0,
            fps=30.0,
            image_size=32,
        ),
        SynthMeLongConfig(
            name="tiny_200fps",
            description="3 subjects x 1 video x 5 s at 200 fps, 32x32: for tests.",
            num_subjects=3,
            videos_per_subject=1,
            seconds=5.0,
            fps=200.0,
            image_size=32,
        ),
        SynthMeLongConfig(
            name="small",
            description=(
                "6 subjects x 2 videos x 20 s at 30 fps (CAS(ME)^2's and CAS(ME)^3's rate), "
                "64x64: the default spotting database."
            ),
            num_subjects=6,
            videos_per_subject=2,
            seconds=20.0,
            fps=30.0,
            image_size=64,
        ),
        SynthMeLongConfig(
            name="small_200fps",
            description="6 subjects x 1 video x 10 s at 200 fps (SAMM-LV's rate), 64x64.",
            num_subjects=6,
            videos_per_subject=1,
            seconds=10.0,
            fps=200.0,
            image_size=64,
        ),
    ]
    DEFAULT_CONFIG_NAME = "small"

    def _info(self) -> tfds.core.DatasetInfo:
        size = self.builder_config.image_size
        return self.dataset_info_from_configs(features=long_video.video_features((size, size)))

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        del dl_manager  # Everything is generated.
        return {
            subject_name(s): self._generate_examples(s)
            for s in range(self.builder_config.num_subjects)
        }

    def _generate_examples(self, subject: int) -> Iterator[tuple[str, dict]]:
        config = self.builder_config
        face = subject_face(config.seed, subject, config.image_size)
        # Rendering and PNG encoding run mostly in OpenCV and NumPy, which release the GIL:
        # two threads render the chunks of a video; a frame does not depend on its chunk.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for video in range(config.videos_per_subject):
                yield self._example(pool, config, subject, video, face)

    @staticmethod
    def _example(pool, config, subject, video, face) -> tuple[str, dict]:
        spec, renderer = generate_video(config, subject, video, face)
        n = spec.num_frames
        starts = range(0, n, _CHUNK)
        frames = []
        for chunk in pool.map(
            lambda start: renderer.encoded(start, min(start + _CHUNK, n)), starts
        ):
            frames.extend(chunk)
        key = video_name(subject, video)
        events = [event.event() for event in spec.events]
        return key, {
            "video": key,
            "subject": subject_name(subject),
            "database": DATABASE,
            "fps": spec.fps,
            "frame_numbers": np.arange(1, n + 1, dtype=np.int32),
            "frames": frames,
            "events": {
                "onset": [e.onset for e in events],
                "apex": [e.apex for e in events],
                "offset": [e.offset for e in events],
                "type": [e.type for e in events],
                "emotion": [e.emotion for e in events],
                "au_code": [e.au_code for e in events],
            },
        }
