"""Procedural renderer of synthetic facial micro-expressions.

The generative model, from the subject down to the pixel:

1. **Identity** (:func:`sample_identity`, one per subject): face ellipse size and aspect,
   the placement and shape of the features (eye spacing, height, size and tilt; brow height,
   arch, thickness and length; nose length and width; mouth width, lip thickness and
   curvature; hairline), skin, hair, lip, iris and background colours, a directional
   light, and the seed of the skin texture.
2. **Canonical face** (:func:`render_face`): the identity is painted once, 4x supersampled
   and area-downsampled, in a canonical frame: skin with a per-subject multi-scale noise
   texture (low-, mid- and fine-frequency), hair, ears, neck, brows, eyes (sclera, iris,
   pupil, catchlight, lash line, lid crease), nose (bridge shading, alae, nostrils, tip),
   lips with the mouth line and philtrum, nasolabial folds, the mentolabial sulcus, then
   directional shading. A second image with the lids closed serves the blinks.
3. **Action units** (:func:`au_displacement_fields`): each AU is a sum of anisotropic
   Gaussian displacement bumps placed at that subject's anatomical landmarks and mirrored
   left/right, rescaled so that its peak skin displacement equals the clip's amplitude for
   that AU (0.9-1.8 % of the image width, i.e. about 1-2 px at 112 x 112). Some AUs also
   darken skin along a wrinkle or furrow (:func:`au_appearance_maps`). A code ``L12``
   applies only the subject's left side, which is the image's right (+x) side.
4. **Clip** (:func:`sample_clip_spec`, :func:`render_clip`): the AU combination is drawn
   from :data:`COMBINATIONS`, a weighted table built on the MEGC objective classes; the
   timing follows a 200 fps micro-expression: 0-4 neutral lead-in frames, onset to apex in
   8-24 frames (40-120 ms), apex to offset in 12-40 frames (60-200 ms), with a raised-cosine
   intensity profile. Each frame pulls the canonical face through one ``cv2.remap`` whose
   map composes the clip's pose, the head drift and the AU field
   ``sum_k intensity(t) * F_k``, so the skin texture moves with the skin.
5. **Distractors**, independent of the labels: slow residual head drift after registration
   (translation and rotation),
   blinks, illumination flicker and Gaussian sensor noise.

Every clip is a pure function of ``(seed, subject index, clip index)``: separate random
streams serve identity, labels, timing, pose and distractors, so generation is
reproducible in any order and the distractors are statistically independent of the labels.

The timing and amplitudes above are those of :data:`MICRO`. :data:`MACRO` renders posed
macro-expressions in the manner of CK+ (Lucey et al., "The Extended Cohn-Kanade Dataset
(CK+)", CVPR Workshops 2010): 30 fps sequences from the neutral face (onset, frame 0) to the
peak (apex = offset = the last frame), 10-30 frames, AU speeds of 4-8 % of the image width
integrated in 8 steps so that the skin never folds (:func:`_pull`), blinks of 3-5 frames,
and random streams of its own, so its subjects are other faces than the micro subjects.
Every function that draws takes the kind (``kind="macro"``); the default is micro.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from mejax.datasets import aus

MIN_IMAGE_SIZE = 32
MAX_IMAGE_SIZE = 512

RENDERED_AUS: tuple[int, ...] = (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 24)
AU_NAMES: dict[int, str] = {
    1: "inner brow raiser",
    2: "outer brow raiser",
    4: "brow lowerer",
    5: "upper lid raiser",
    6: "cheek raiser",
    7: "lid tightener",
    9: "nose wrinkler",
    10: "upper lip raiser",
    12: "lip corner puller",
    14: "dimpler",
    15: "lip corner depressor",
    17: "chin raiser",
    24: "lip pressor",
}

BLINK_PROBABILITY = 0.3

_SUPERSAMPLE = 4
_IDENTITY, _LABELS, _TIMING, _POSE, _DISTRACTORS, _SENSOR = range(6)


@dataclasses.dataclass(frozen=True)
class Expression:
    """Timing, intensity and random streams of one kind of expression.

    Attributes:
      name: ``"micro"`` or ``"macro"``.
      fps: frame rate the frame counts below are drawn for.
      lead_in_frames: (min, max) neutral frames before the onset.
      onset_to_apex_frames: (min, max) frames from the onset to the apex.
      apex_to_offset_frames: (min, max) frames from the apex to the offset; (0, 0) ends the
        clip at the apex (a neutral-to-peak sequence, as in CK+).
      amplitude_range: (min, max) peak skin speed of one AU, as a fraction of the image
        width (the peak displacement where the motion is a single step, see ``warp_steps``).
      blink_frames: (min, max) duration of a blink in frames.
      warp_steps: steps the AU displacement is integrated in. 1 moves each pixel once by the
        field (exact peak displacement, invertible while it is small next to the bumps'
        widths); n > 1 integrates the field as a velocity in n steps, which never folds the
        skin at large amplitudes (a narrow bump then moves its tissue less than its peak).
      stream_offset: added to the key of every random stream, so that two kinds draw
        disjoint subjects, labels, timing, pose and distractors from the same seed.
    """

    name: str
    fps: float
    lead_in_frames: tuple[int, int]
    onset_to_apex_frames: tuple[int, int]
    apex_to_offset_frames: tuple[int, int]
    amplitude_range: tuple[float, float]
    blink_frames: tuple[int, int]
    warp_steps: int
    stream_offset: int


# Micro-expressions at CASME II's 200 fps: 40-120 ms onset to apex, 60-200 ms apex to offset,
# 1-2 px of skin motion at 112 x 112.
MICRO = Expression(
    name="micro",
    fps=200.0,
    lead_in_frames=(0, 4),
    onset_to_apex_frames=(8, 24),
    apex_to_offset_frames=(12, 40),
    amplitude_range=(0.009, 0.018),
    blink_frames=(15, 30),
    warp_steps=1,
    stream_offset=0,
)
# Posed macro-expressions as in CK+ (Lucey et al. 2010): 30 fps sequences from the neutral
# face (the onset, frame 0) to the peak (apex = offset = the last frame), 10-30 frames,
# with 4-8 % of the image width of skin motion (4.5-9 px at 112 x 112). The streams start at
# 100, clear of the micro streams 0-5 and of streams added to them later.
MACRO = Expression(
    name="macro",
    fps=30.0,
    lead_in_frames=(0, 0),
    onset_to_apex_frames=(9, 29),
    apex_to_offset_frames=(0, 0),
    amplitude_range=(0.04, 0.08),
    blink_frames=(3, 5),
    warp_steps=8,
    stream_offset=100,
)
EXPRESSIONS: dict[str, Expression] = {e.name: e for e in (MICRO, MACRO)}

# The micro-expression constants under their historical names.
FPS = MICRO.fps
AMPLITUDE_RANGE = MICRO.amplitude_range  # peak skin displacement, fraction of the width
LEAD_IN_FRAMES = MICRO.lead_in_frames
ONSET_TO_APEX_FRAMES = MICRO.onset_to_apex_frames
APEX_TO_OFFSET_FRAMES = MICRO.apex_to_offset_frames


def expression(kind: Expression | str) -> Expression:
    """The :class:`Expression` of a name (``"micro"``, ``"macro"``) or the argument itself.

    Raises:
      ValueError: for an unknown name, listing the known ones.
    """
    if isinstance(kind, Expression):
        return kind
    if kind not in EXPRESSIONS:
        raise ValueError(f"unknown expression kind {kind!r}; expected one of {tuple(EXPRESSIONS)}")
    return EXPRESSIONS[kind]


# --------------------------------------------------------------------------------------
# Labels: the AU-combination table.
# --------------------------------------------------------------------------------------

# (FACS code, objective class, relative weight). Classes I-VI use only combinations of
# Davison et al.'s Table 2 made of the rendered AUs; class VII adds the AU14 combinations
# (unilateral AU14 is contempt) and the unlisted 4+L10. The weights reproduce the
# imbalance of CASME II / SAMM: class III (AU4-based) ~45 %, AU4 in ~half of the clips,
# then AU7, AU1, AU12; AU5, AU9, AU15 and AU24 in a few %.
COMBINATIONS: tuple[tuple[str, str, float], ...] = (
    ("12", "I", 34),
    ("L12", "I", 15),
    ("R12", "I", 15),
    ("6+12", "I", 20),
    ("6+7+12", "I", 15),
    ("7+12", "I", 15),
    ("6", "I", 6),
    ("1+2", "II", 44),
    ("L1+L2", "II", 8),
    ("R1+R2", "II", 8),
    ("5", "II", 12),
    ("5+24", "II", 4),
    ("4", "III", 165),
    ("4+7", "III", 130),
    ("4+5", "III", 12),
    ("4+5+7", "III", 8),
    ("4+6+7", "III", 30),
    ("17+24", "III", 38),
    ("9", "IV", 8),
    ("10", "IV", 10),
    ("L10", "IV", 10),
    ("R10", "IV", 6),
    ("4+9", "IV", 14),
    ("4+7+9", "IV", 10),
    ("4+9+17", "IV", 4),
    ("4+7+10", "IV", 12),
    ("4+7+L10", "IV", 6),
    ("4+5+7+9", "IV", 3),
    ("7+10", "IV", 8),
    ("7+R10", "IV", 4),
    ("1", "V", 26),
    ("15", "V", 12),
    ("L15", "V", 5),
    ("1+4", "V", 20),
    ("6+15", "V", 4),
    ("15+17", "V", 12),
    ("1+2+4", "VI", 20),
    ("14", "VII", 25),
    ("L14", "VII", 20),
    ("R14", "VII", 20),
    ("14+17", "VII", 14),
    ("4+14", "VII", 6),
    ("14+24", "VII", 4),
    ("4+L10", "VII", 6),
)

EMOTIONS: dict[str, str] = {
    "I": "happiness",
    "II": "surprise",
    "III": "anger",
    "IV": "disgust",
    "V": "sadness",
    "VI": "fear",
}


@dataclasses.dataclass(frozen=True)
class Labels:
    """Labels of one clip, all derived from its FACS code.

    Attributes:
      au_code: the FACS code, e.g. ``"4+L10"``.
      aus: the AU numbers of the code.
      objective_class: ``"I"`` ... ``"VII"``.
      emotion: the emotion label.
    """

    au_code: str
    aus: frozenset[int]
    objective_class: str
    emotion: str


def parse_code(code: str) -> tuple[tuple[int, str], ...]:
    """Splits a FACS code into (AU, side) tokens.

    Args:
      code: '+'-joined tokens ``[L|R]<AU>``, e.g. ``"4+L10"``; only rendered AUs.

    Returns:
      ``(au, side)`` pairs, side ``""`` (both), ``"L"`` or ``"R"``.

    Raises:
      ValueError: for a malformed token or an AU that is not rendered.
    """
    tokens = []
    for token in code.split("+"):
        side = token[:1] if token[:1] in ("L", "R") else ""
        number = token[len(side) :]
        if not number.isdigit() or int(number) not in RENDERED_AUS:
            raise ValueError(
                f"AU code {code!r}: token {token!r} is not [L|R]<AU in {RENDERED_AUS}>"
            )
        tokens.append((int(number), side))
    return tuple(tokens)


def labels_for_code(code: str) -> Labels:
    """Objective class and emotion of a FACS code.

    Args:
      code: a FACS code of rendered AUs.

    Returns:
      The :class:`Labels`; the class comes from :func:`mejax.datasets.aus.objective_class`,
      the emotion from the class (class VII: ``contempt`` for a unilateral AU14,
      ``others`` otherwise).
    """
    tokens = parse_code(code)
    numbers = aus.au_numbers(code)
    objective = aus.objective_class(numbers)
    if objective in EMOTIONS:
        emotion = EMOTIONS[objective]
    elif any(au == 14 and side for au, side in tokens):
        emotion = "contempt"
    else:
        emotion = "others"
    return Labels(au_code=code, aus=numbers, objective_class=objective, emotion=emotion)


def _check_table() -> None:
    for code, declared, weight in COMBINATIONS:
        actual = labels_for_code(code).objective_class
        if actual != declared or weight <= 0:
            raise AssertionError(f"combination {code!r}: declared {declared}, is {actual}")


_check_table()
_WEIGHTS = np.array([w for _, _, w in COMBINATIONS], dtype=np.float64)
_WEIGHTS /= _WEIGHTS.sum()


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


def sample_labels(seed: int, subject: int, clip: int, *, kind: Expression | str = MICRO) -> Labels:
    """Labels of one clip (no rendering).

    Args:
      seed: dataset seed.
      subject: 0-based subject index.
      clip: 0-based clip index within the subject.
      kind: the :class:`Expression` (or its name) whose stream is drawn from.

    Returns:
      The clip's :class:`Labels`, drawn from :data:`COMBINATIONS` by its weights.
    """
    offset = expression(kind).stream_offset
    index = _rng(seed, _LABELS + offset, subject, clip).choice(len(COMBINATIONS), p=_WEIGHTS)
    return labels_for_code(COMBINATIONS[index][0])


# --------------------------------------------------------------------------------------
# Identity and the canonical face.
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Identity:
    """Appearance of one subject.

    Horizontal positions ``*_u`` are in units of the face half-width, vertical ones
    ``*_v`` in units of the face half-height, both from the face centre; ``*_u`` values
    describe the subject's left side (image +x) and are mirrored for the right.
    """

    face_half_width: float  # fraction of the image size
    face_aspect: float  # half-height / half-width
    face_center_v: float  # fraction of the image size
    eye_u: float
    eye_v: float
    eye_half_width_u: float
    eye_openness: float  # eye half-height / eye half-width
    eye_tilt: float  # outer canthus raise, fraction of the eye half-height
    brow_gap_v: float  # eye centre to brow
    brow_arch_v: float
    brow_thickness_u: float
    brow_outer_drop_v: float
    brow_length: float  # brow half-length / eye half-width
    nose_v: float
    nose_half_width_u: float
    mouth_v: float
    mouth_half_width_u: float
    upper_lip_v: float
    lower_lip_v: float
    mouth_curve_v: float  # corner height relative to the centre, + is down
    hairline_v: float
    gaze_u: float  # iris offset, fraction of the eye half-width
    skin: tuple[float, float, float]
    hair: tuple[float, float, float]
    lips: tuple[float, float, float]
    iris: tuple[float, float, float]
    background: tuple[float, float, float]
    light_angle: float
    light_strength: float
    texture_seed: int


def sample_identity(seed: int, subject: int, *, kind: Expression | str = MICRO) -> Identity:
    """Draws one subject's identity.

    Args:
      seed: dataset seed.
      subject: 0-based subject index.
      kind: the :class:`Expression` (or its name); each kind has its own subjects.

    Returns:
      The subject's :class:`Identity`.
    """
    rng = _rng(seed, _IDENTITY + expression(kind).stream_offset, subject)
    u = rng.uniform
    # Skin tones from light to dark along a warm axis, with a small hue jitter.
    tone = u(0.0, 1.0)
    light, dark = np.array([0.93, 0.78, 0.68]), np.array([0.45, 0.30, 0.22])
    skin = (1 - tone) * light + tone * dark + rng.normal(0, 0.015, 3)
    hair_level = u(0.06, 0.45) * (1.0 - 0.5 * tone)
    hair = hair_level * np.array([1.0, u(0.75, 0.9), u(0.55, 0.8)])
    lips = skin * np.array([u(0.85, 0.95), u(0.58, 0.7), u(0.6, 0.72)])
    irises = ([0.30, 0.18, 0.09], [0.20, 0.33, 0.45], [0.26, 0.30, 0.16], [0.12, 0.08, 0.05])
    iris = np.array(irises[rng.integers(len(irises))]) * u(0.8, 1.2)
    background = np.full(3, u(0.35, 0.7)) + rng.normal(0, 0.05, 3)
    eye_v = u(-0.12, -0.04)
    nose_v = u(0.26, 0.34)
    return Identity(
        face_half_width=u(0.33, 0.38),
        face_aspect=u(1.2, 1.36),
        face_center_v=u(0.46, 0.49),
        eye_u=u(0.4, 0.46),
        eye_v=eye_v,
        eye_half_width_u=u(0.18, 0.22),
        eye_openness=u(0.38, 0.5),
        eye_tilt=u(-0.1, 0.25),
        brow_gap_v=u(0.16, 0.22),
        brow_arch_v=u(0.015, 0.05),
        brow_thickness_u=u(0.06, 0.1),
        brow_outer_drop_v=u(-0.01, 0.04),
        brow_length=u(1.15, 1.35),
        nose_v=nose_v,
        nose_half_width_u=u(0.16, 0.22),
        mouth_v=nose_v + u(0.2, 0.26),
        mouth_half_width_u=u(0.28, 0.36),
        upper_lip_v=u(0.04, 0.06),
        lower_lip_v=u(0.055, 0.085),
        mouth_curve_v=u(-0.015, 0.02),
        hairline_v=u(-0.8, -0.68),
        gaze_u=u(-0.12, 0.12),
        skin=tuple(np.clip(skin, 0.05, 1.0).tolist()),
        hair=tuple(np.clip(hair, 0.02, 1.0).tolist()),
        lips=tuple(np.clip(lips, 0.05, 1.0).tolist()),
        iris=tuple(np.clip(iris, 0.02, 1.0).tolist()),
        background=tuple(np.clip(background, 0.05, 0.95).tolist()),
        light_angle=u(0.0, 2 * math.pi),
        light_strength=u(0.06, 0.16),
        texture_seed=int(rng.integers(2**31)),
    )


@dataclasses.dataclass(frozen=True)
class _Geometry:
    """Pixel geometry of an identity at one image size (canonical frame)."""

    identity: Identity
    size: int

    @property
    def a(self) -> float:
        return self.identity.face_half_width * self.size

    @property
    def b(self) -> float:
        return self.a * self.identity.face_aspect

    @property
    def cx(self) -> float:
        return (self.size - 1) / 2

    @property
    def cy(self) -> float:
        return self.identity.face_center_v * self.size

    def point(self, u: float, v: float, side: int = 1) -> np.ndarray:
        """Pixel position of face coordinates; side -1 mirrors to the subject's right."""
        return np.array([self.cx + side * u * self.a, self.cy + v * self.b])

    def eye(self, side: int) -> tuple[float, float, float, float, float]:
        """(centre x, centre y, half-width, half-height, outer-corner raise) in pixels."""
        ident = self.identity
        ex, ey = self.point(ident.eye_u, ident.eye_v, side)
        ew = ident.eye_half_width_u * self.a
        eh = ew * ident.eye_openness
        return ex, ey, ew, eh, ident.eye_tilt * eh

    def landmarks(self) -> dict[str, np.ndarray]:
        """Anatomical landmarks of the subject's left side (mirror x about cx for right)."""
        i = self.identity
        brow_v = i.eye_v - i.brow_gap_v
        ewu = i.eye_half_width_u
        ehv = ewu * i.eye_openness * self.a / self.b
        mwu = i.mouth_half_width_u
        return {
            "brow_inner": self.point(i.eye_u - 0.95 * ewu, brow_v + 0.01),
            "brow_mid": self.point(i.eye_u + 0.1 * ewu, brow_v - i.brow_arch_v),
            "brow_outer": self.point(i.eye_u + 0.95 * ewu * i.brow_length, brow_v),
            "glabella": self.point(0.0, brow_v + 0.03),
            "forehead": self.point(i.eye_u * 0.5, brow_v - 0.14),
            "upper_lid": self.point(i.eye_u, i.eye_v - ehv),
            "lower_lid": self.point(i.eye_u, i.eye_v + 0.7 * ehv),
            "eye_outer": self.point(i.eye_u + ewu, i.eye_v),
            "cheek": self.point(i.eye_u + 0.05, i.eye_v + 0.3),
            "nose_bridge": self.point(0.08, 0.5 * (i.eye_v + i.nose_v) - 0.04),
            "nose_wing": self.point(0.85 * i.nose_half_width_u, i.nose_v),
            "upper_lip": self.point(0.35 * mwu, i.mouth_v - 0.7 * i.upper_lip_v),
            "upper_lip_mid": self.point(0.0, i.mouth_v - 0.6 * i.upper_lip_v),
            "lower_lip_mid": self.point(0.0, i.mouth_v + 0.6 * i.lower_lip_v),
            "mouth_corner": self.point(mwu, i.mouth_v + i.mouth_curve_v),
            "mouth_center": self.point(0.0, i.mouth_v),
            "cheek_low": self.point(mwu + 0.1, i.mouth_v - 0.14),
            "below_corner": self.point(mwu + 0.02, i.mouth_v + 0.13),
            "chin": self.point(0.0, 0.8),
        }


@dataclasses.dataclass(frozen=True)
class Face:
    """One subject's canonical neutral face at one image size.

    Attributes:
      identity: the subject's :class:`Identity`.
      size: image size in pixels.
      open_eyes: (size, size, 3) float32 RGB image in [0, 1].
      closed_eyes: the same face with the lids closed.
      landmarks: name -> (2,) pixel position (x, y) of the subject's left-side landmark.
    """

    identity: Identity
    size: int
    open_eyes: np.ndarray
    closed_eyes: np.ndarray
    landmarks: Mapping[str, np.ndarray]

    @property
    def geometry(self) -> _Geometry:
        return _Geometry(self.identity, self.size)


class _Painter:
    """Supersampled canvas; all coordinates passed in are final-resolution pixels."""

    def __init__(self, size: int, supersample: int):
        self.ss = supersample
        self.n = size * supersample
        coords = (np.arange(self.n, dtype=np.float32) + 0.5) / supersample - 0.5
        self.x = coords[None, :]
        self.y = coords[:, None]

    def _hi(self, points: np.ndarray) -> np.ndarray:
        # 4 fractional bits for cv2's sub-pixel drawing.
        hi = (np.asarray(points, dtype=np.float64) + 0.5) * self.ss - 0.5
        return np.round(hi * 16).astype(np.int32).reshape(-1, 1, 2)

    def _blur(self, mask: np.ndarray, blur: float) -> np.ndarray:
        if blur > 0:
            mask = cv2.GaussianBlur(mask, (0, 0), blur * self.ss)
        return mask

    def polygon(self, points: np.ndarray, blur: float = 0.0) -> np.ndarray:
        mask = np.zeros((self.n, self.n), np.uint8)
        cv2.fillPoly(mask, [self._hi(points)], 255, cv2.LINE_AA, shift=4)
        return self._blur(mask.astype(np.float32) / 255.0, blur)

    def polyline(self, points: np.ndarray, thickness: float, blur: float = 0.0) -> np.ndarray:
        mask = np.zeros((self.n, self.n), np.uint8)
        width = max(1, int(round(thickness * self.ss)))
        cv2.polylines(mask, [self._hi(points)], False, 255, width, cv2.LINE_AA, shift=4)
        return self._blur(mask.astype(np.float32) / 255.0, blur)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, blur: float = 0.0):
        r = np.sqrt(((self.x - cx) / rx) ** 2 + ((self.y - cy) / ry) ** 2)
        # Signed distance to the boundary, approximately, in final pixels.
        alpha = np.clip(0.5 - (r - 1.0) * min(rx, ry) * self.ss, 0.0, 1.0)
        return self._blur(alpha.astype(np.float32), blur)

    def noise(self, rng: np.random.Generator, sigma: float) -> np.ndarray:
        """Unit-variance Gaussian-filtered noise with correlation length sigma (final px)."""
        sigma_hi = sigma * self.ss
        factor = max(1, int(sigma_hi / 3))
        m = -(-self.n // factor)
        small = rng.standard_normal((m, m), dtype=np.float32)
        small = cv2.GaussianBlur(small, (0, 0), sigma_hi / factor)
        field = cv2.resize(small, (m * factor, m * factor), interpolation=cv2.INTER_CUBIC)
        field = field[: self.n, : self.n]
        return (field - field.mean()) / (field.std() + 1e-8)


def _mix(image: np.ndarray, alpha: np.ndarray, color) -> None:
    a = alpha[..., None]
    image *= 1.0 - a
    image += a * np.asarray(color, np.float32)


def _shade(image: np.ndarray, alpha: np.ndarray, amount: float) -> None:
    """Multiplies by (1 + amount * alpha): negative amounts darken."""
    image *= (1.0 + amount * alpha)[..., None]


def _curve(p0, p1, p2, n: int = 24) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 2 * np.asarray(p0) + 2 * (1 - t) * t * np.asarray(p1) + t**2 * p2


def _mirror(points: np.ndarray, cx: float) -> np.ndarray:
    out = np.array(points, dtype=np.float64)
    out[..., 0] = 2 * cx - out[..., 0]
    return out


def _lid_curves(x: np.ndarray, eye: Sequence[float], side: int):
    """Upper lid, lower lid and closed-lid edge heights at x (pixels)."""
    ex, ey, ew, eh, tilt = eye
    t = np.clip((x - ex) / ew, -1.0, 1.0)
    raise_outer = -tilt * t * side
    upper = ey - eh * (1 - t**2) ** 0.7 + raise_outer
    lower = ey + 0.7 * eh * (1 - t**2) ** 0.9 + raise_outer
    closed = ey + 0.45 * eh * (1 - t**2) ** 0.9 + raise_outer
    return upper, lower, closed


def render_face(identity: Identity, image_size: int) -> Face:
    """Paints an identity's neutral face, open and closed eyes, in the canonical frame.

    Args:
      identity: the subject.
      image_size: output width and height in pixels.

    Returns:
      The :class:`Face`.
    """
    geo = _Geometry(identity, image_size)
    i = identity
    p = _Painter(image_size, _SUPERSAMPLE)
    rng = np.random.default_rng(i.texture_seed)
    a, b, cx, cy, s = geo.a, geo.b, geo.cx, geo.cy, image_size
    skin = np.asarray(i.skin, np.float32)

    # Background: a vertical gradient with faint blotches.
    image = np.empty((p.n, p.n, 3), np.float32)
    image[:] = np.asarray(i.background, np.float32)
    image *= (1.05 - 0.1 * (p.y / s))[..., None] * (1 + 0.03 * p.noise(rng, 0.08 * s))[..., None]

    # Skin texture: low (tone), mid (pores/blotches at ~1.5 px at 112) and fine scales.
    # The mid band is what makes 1-2 px skin motion visible at all.
    texture = (
        1.0
        + 0.025 * p.noise(rng, 0.06 * s)
        + 0.04 * p.noise(rng, 0.012 * s)
        + 0.02 * p.noise(rng, 0.005 * s)
    )
    redness = 0.025 * p.noise(rng, 0.04 * s)
    skin_layer = texture[..., None] * skin
    skin_layer[..., 0] *= 1 + redness
    skin_layer[..., 2] *= 1 - redness

    face_alpha = p.ellipse(cx, cy, a, b)
    streaks = cv2.GaussianBlur(
        rng.standard_normal((p.n, p.n), dtype=np.float32), (0, 0), 0.5 * p.ss, 2.5 * p.ss
    )
    streaks /= streaks.std() + 1e-8
    hair_layer = np.asarray(i.hair, np.float32) * (1 + 0.18 * streaks)[..., None]

    # Ears and neck, the face, then the hair over the head and the upper forehead.
    for side in (1, -1):
        ear = p.ellipse(cx + side * 0.97 * a, cy + 0.02 * b, 0.13 * a, 0.28 * b, blur=0.3)
        _mix(image, ear, 0)
        image += ear[..., None] * skin_layer * 0.85
    neck = p.polygon(
        [[cx - 0.55 * a, cy + 0.4 * b], [cx + 0.55 * a, cy + 0.4 * b], [cx + 0.62 * a, s + 2],
         [cx - 0.62 * a, s + 2]],
        blur=0.3,
    )  # fmt: skip
    _mix(image, neck, 0)
    image += neck[..., None] * skin_layer * 0.72
    _mix(image, face_alpha, 0)
    image += face_alpha[..., None] * skin_layer
    # The hairline curves down towards the temples.
    xn = (p.x - cx) / a
    hairline = cy + b * (i.hairline_v + 0.35 * xn**2)
    above = np.clip((hairline - p.y) * p.ss / 2.0 + 0.5, 0, 1)
    crown = p.ellipse(cx, cy - 0.1 * b, 1.1 * a, 1.0 * b)
    crown *= np.clip((cy + 0.05 * b - p.y) * p.ss / 2.0 + 0.5, 0, 1)
    hair_alpha = crown * np.maximum(above, 1.0 - face_alpha)
    hair_alpha = cv2.GaussianBlur(hair_alpha, (0, 0), 0.4 * p.ss)
    _mix(image, hair_alpha, 0)
    image += hair_alpha[..., None] * hair_layer

    # Cheek colour.
    for side in (1, -1):
        blush = p.ellipse(*geo.point(0.5, 0.18, side), 0.2 * a, 0.12 * b, blur=2.0)
        image *= 1 + 0.04 * blush[..., None] * np.array([1.0, -0.6, -0.6], np.float32)

    _paint_brows(p, geo, image)
    _paint_nose(p, geo, image)
    _paint_mouth(p, geo, image, skin)
    _paint_folds(p, geo, image)

    closed = image.copy()
    for side in (1, -1):
        _paint_open_eye(p, geo, image, side)
        _paint_closed_eye(p, geo, closed, side)

    # Directional light across the face plus darkening towards the face's edge.
    xn = (p.x - cx) / a
    yn = (p.y - cy) / b
    r2 = np.clip(xn**2 + yn**2, 0, 1.0)
    light = 1.0 + i.light_strength * (math.cos(i.light_angle) * xn + math.sin(i.light_angle) * yn)
    light = light * (1.0 - 0.22 * face_alpha * r2**3)
    open_lr, closed_lr = (
        cv2.resize(np.clip(im * light[..., None], 0.0, 1.0), (s, s), interpolation=cv2.INTER_AREA)
        for im in (image, closed)
    )
    return Face(i, s, open_lr, closed_lr, geo.landmarks())


def _paint_brows(p: _Painter, geo: _Geometry, image: np.ndarray) -> None:
    i = geo.identity
    rng = np.random.default_rng(i.texture_seed + 1)
    hair = np.asarray(i.hair, np.float32)
    strands = 0.75 + 0.25 * np.tanh(p.noise(rng, 0.006 * geo.size))
    lm = geo.landmarks()
    inner, outer = lm["brow_inner"], lm["brow_outer"]
    t = np.linspace(0, 1, 25)
    x = inner[0] + t * (outer[0] - inner[0])
    y = (
        inner[1]
        + t * i.brow_outer_drop_v * geo.b
        - i.brow_arch_v * geo.b * np.sin(np.pi * t**0.8) * 1.6
    )
    half = 0.5 * i.brow_thickness_u * geo.a * (1.1 - 0.6 * t**1.5)
    upper = np.stack([x, y - half], 1)
    lower = np.stack([x, y + half * 0.9], 1)
    outline = np.concatenate([upper, lower[::-1]])
    for side in (1, -1):
        pts = outline if side == 1 else _mirror(outline, geo.cx)
        alpha = p.polygon(pts, blur=0.35) * strands * 0.85
        _mix(image, alpha, hair * 0.9)


def _paint_nose(p: _Painter, geo: _Geometry, image: np.ndarray) -> None:
    i = geo.identity
    a = geo.a
    nw = i.nose_half_width_u * a
    nx, ny = geo.point(0.0, i.nose_v)
    light_x = math.cos(i.light_angle)
    for side in (1, -1):
        # The bridge's side away from the light is shaded.
        strength = 0.08 + 0.1 * max(0.0, -light_x * side)
        bridge = _curve(
            geo.point(0.1, i.eye_v + 0.05, side),
            geo.point(0.12, 0.5 * (i.eye_v + i.nose_v), side),
            geo.point(0.7 * i.nose_half_width_u, i.nose_v - 0.06, side),
        )
        _shade(image, p.polyline(bridge, 0.06 * a, blur=0.05 * a), -strength)
        nostril = p.ellipse(nx + side * 0.42 * nw, ny + 0.05 * nw, 0.24 * nw, 0.1 * nw, 0.3)
        _shade(image, nostril, -0.55)
        ala = _curve(
            [nx + side * 0.55 * nw, ny - 0.45 * nw],
            [nx + side * 1.15 * nw, ny - 0.2 * nw],
            [nx + side * 0.8 * nw, ny + 0.25 * nw],
        )
        _shade(image, p.polyline(ala, 0.7, blur=0.45), -0.3)
    _shade(image, p.ellipse(nx, ny - 0.15 * nw, 0.4 * nw, 0.35 * nw, blur=0.6), 0.08)
    _shade(image, p.ellipse(nx, ny + 0.3 * nw, 0.6 * nw, 0.12 * nw, blur=0.8), -0.12)


def _mouth_outline(geo: _Geometry):
    i = geo.identity
    mx, my = geo.point(0.0, i.mouth_v)
    mw = i.mouth_half_width_u * geo.a
    t = np.linspace(-1, 1, 41)
    x = mx + t * mw
    line = my + i.mouth_curve_v * geo.b * t**2
    bow = 1 - 0.3 * np.exp(-((t / 0.12) ** 2))
    upper = line - i.upper_lip_v * geo.b * (1 - t**2) ** 0.6 * bow
    lower = line + i.lower_lip_v * geo.b * (1 - t**2) ** 0.5
    return x, line, upper, lower


def _paint_mouth(p: _Painter, geo: _Geometry, image: np.ndarray, skin: np.ndarray) -> None:
    i = geo.identity
    x, line, upper, lower = _mouth_outline(geo)
    tint = np.asarray(i.lips, np.float32) / skin
    upper_alpha = p.polygon(np.concatenate([np.stack([x, upper], 1), np.stack([x, line], 1)[::-1]]))
    lower_alpha = p.polygon(np.concatenate([np.stack([x, line], 1), np.stack([x, lower], 1)[::-1]]))
    upper_alpha = cv2.GaussianBlur(upper_alpha, (0, 0), 0.35 * p.ss)
    lower_alpha = cv2.GaussianBlur(lower_alpha, (0, 0), 0.35 * p.ss)
    # Multiplicative tint keeps the skin texture visible on the lips.
    image *= 1 + upper_alpha[..., None] * (tint * 0.92 - 1)
    image *= 1 + lower_alpha[..., None] * (tint * 1.02 - 1)
    lx, ly = geo.point(0.0, i.mouth_v + 0.45 * i.lower_lip_v)
    highlight = p.ellipse(lx, ly, 0.35 * i.mouth_half_width_u * geo.a, 0.25 * i.lower_lip_v * geo.b)
    _shade(image, cv2.GaussianBlur(highlight, (0, 0), 0.6 * p.ss), 0.07)
    _shade(image, p.polyline(np.stack([x, line], 1), 0.6, blur=0.3), -0.5)
    for side in (1, -1):
        corner = p.ellipse(*geo.point(i.mouth_half_width_u, i.mouth_v + i.mouth_curve_v, side),
                           0.6, 0.6, blur=0.5)  # fmt: skip
        _shade(image, corner, -0.3)
        philtrum = np.stack(
            [
                geo.point(0.05, i.nose_v + 0.06, side),
                geo.point(0.07, i.mouth_v - i.upper_lip_v, side),
            ]
        )
        _shade(image, p.polyline(philtrum, 0.6, blur=0.5), -0.05)


def _paint_folds(p: _Painter, geo: _Geometry, image: np.ndarray) -> None:
    i = geo.identity
    lower = _mouth_outline(geo)[3]
    for side in (1, -1):
        fold = _curve(
            geo.point(1.05 * i.nose_half_width_u, i.nose_v - 0.03, side),
            geo.point(i.mouth_half_width_u + 0.12, i.mouth_v - 0.1, side),
            geo.point(i.mouth_half_width_u + 0.08, i.mouth_v + 0.12, side),
        )
        _shade(image, p.polyline(fold, 0.8, blur=0.7), -0.16)
    sulcus = _curve(
        [geo.cx - 0.2 * geo.a, lower.max() + 0.05 * geo.b],
        [geo.cx, lower.max() + 0.12 * geo.b],
        [geo.cx + 0.2 * geo.a, lower.max() + 0.05 * geo.b],
    )
    _shade(image, p.polyline(sulcus, 0.8, blur=1.0), -0.09)
    chin = geo.point(0.0, 0.8)
    _shade(image, p.ellipse(chin[0], chin[1], 0.2 * geo.a, 0.08 * geo.b, blur=1.5), 0.04)


def _paint_open_eye(p: _Painter, geo: _Geometry, image: np.ndarray, side: int) -> None:
    i = geo.identity
    eye = geo.eye(side)
    ex, ey, ew, eh, _ = eye
    xs = np.linspace(ex - ew, ex + ew, 33)
    upper, lower, _ = _lid_curves(xs, eye, side)
    opening = np.concatenate([np.stack([xs, upper], 1), np.stack([xs, lower], 1)[::-1]])
    eye_alpha = p.polygon(opening)
    t = np.clip((p.x - ex) / ew, -1, 1)
    sclera = np.asarray([0.9, 0.87, 0.84], np.float32) * (1 - 0.25 * t**2)[..., None]
    _mix(image, eye_alpha, 0)
    image += eye_alpha[..., None] * sclera
    ix, iy, ir = ex + i.gaze_u * ew, ey + 0.1 * eh, 0.42 * ew
    iris = p.ellipse(ix, iy, ir, ir) * eye_alpha
    radial = np.sqrt((p.x - ix) ** 2 + (p.y - iy) ** 2) / ir
    iris_color = (
        np.asarray(i.iris, np.float32) * (1.1 - 0.5 * np.clip(radial, 0, 1) ** 3)[..., None]
    )
    image *= 1 - iris[..., None]
    image += iris[..., None] * iris_color
    _shade(image, p.ellipse(ix, iy, 0.42 * ir, 0.42 * ir) * eye_alpha, -0.85)
    catch = p.ellipse(ix - 0.35 * ir, iy - 0.35 * ir, 0.16 * ir, 0.16 * ir) * eye_alpha
    _mix(image, catch, [0.95, 0.95, 0.95])
    # The lid casts a shadow on the top of the eyeball.
    shadow = p.polyline(np.stack([xs, upper + 0.25 * eh], 1), 0.4 * eh, blur=0.3 * eh)
    _shade(image, shadow * eye_alpha, -0.3)
    lash = p.polyline(np.stack([xs, upper], 1), max(0.7, 0.3 * eh), blur=0.25)
    _mix(image, lash * 0.85, np.asarray(i.hair, np.float32) * 0.5)
    keep = np.abs(xs - ex) < 0.85 * ew
    crease = np.stack([xs[keep], upper[keep] - 0.75 * eh], 1)
    _shade(image, p.polyline(crease, 0.5, blur=0.4), -0.2)
    _shade(image, p.polyline(np.stack([xs, lower], 1), 0.5, blur=0.3), -0.15)
    under = p.ellipse(ex, ey + 1.5 * eh, 0.8 * ew, 0.5 * eh, blur=0.8)
    _shade(image, under, -0.05)


def _paint_closed_eye(p: _Painter, geo: _Geometry, image: np.ndarray, side: int) -> None:
    i = geo.identity
    eye = geo.eye(side)
    ex, ey, ew, eh, _ = eye
    xs = np.linspace(ex - ew, ex + ew, 33)
    upper, _, closed = _lid_curves(xs, eye, side)
    lid = np.concatenate([np.stack([xs, upper - 0.6 * eh], 1), np.stack([xs, closed], 1)[::-1]])
    _shade(image, p.polygon(lid, blur=0.5), -0.06)
    lash = p.polyline(np.stack([xs, closed], 1), max(0.7, 0.3 * eh), blur=0.25)
    _mix(image, lash * 0.85, np.asarray(i.hair, np.float32) * 0.5)
    keep = np.abs(xs - ex) < 0.85 * ew
    crease = np.stack([xs[keep], upper[keep] - 0.75 * eh], 1)
    _shade(image, p.polyline(crease, 0.5, blur=0.4), -0.2)
    under = p.ellipse(ex, ey + 1.5 * eh, 0.8 * ew, 0.5 * eh, blur=0.8)
    _shade(image, under, -0.05)


# --------------------------------------------------------------------------------------
# Action units: displacement fields and appearance changes.
# --------------------------------------------------------------------------------------

# AU -> bumps (landmark, direction (dx, dy) for the subject's left side, sigma (x, y) in
# face half-widths, weight). Landmark names ending in "_mid" or "chin"/"glabella" sit on
# the midline and are not mirrored. Directions are skin motion in image axes (y down).
_BUMPS: dict[int, tuple[tuple[str, tuple[float, float], tuple[float, float], float], ...]] = {
    1: (
        ("brow_inner", (0.0, -1.0), (0.13, 0.09), 1.0),
        ("forehead", (0.0, -1.0), (0.14, 0.12), 0.5),
    ),
    2: (
        ("brow_outer", (0.15, -1.0), (0.13, 0.09), 1.0),
        ("brow_mid", (0.0, -1.0), (0.12, 0.09), 0.5),
    ),
    4: (
        ("brow_inner", (-0.6, 0.8), (0.13, 0.09), 1.0),
        ("brow_mid", (-0.3, 0.7), (0.12, 0.09), 0.55),
    ),
    5: (("upper_lid", (0.0, -1.0), (0.1, 0.045), 1.0),),
    6: (
        ("cheek", (0.15, -1.0), (0.16, 0.1), 1.0),
        ("lower_lid", (0.0, -1.0), (0.1, 0.04), 0.45),
    ),
    7: (
        ("lower_lid", (0.0, -1.0), (0.1, 0.045), 1.0),
        ("upper_lid", (0.0, 1.0), (0.1, 0.04), 0.3),
    ),
    9: (
        ("nose_bridge", (0.0, -1.0), (0.07, 0.1), 1.0),
        ("nose_wing", (0.1, -1.0), (0.08, 0.07), 0.8),
        ("brow_inner", (0.0, 0.6), (0.1, 0.07), 0.35),
    ),
    10: (
        ("upper_lip", (0.0, -1.0), (0.12, 0.06), 1.0),
        ("nose_wing", (0.0, -1.0), (0.08, 0.06), 0.4),
    ),
    12: (
        ("mouth_corner", (0.6, -0.8), (0.09, 0.07), 1.0),
        ("cheek_low", (0.3, -1.0), (0.13, 0.1), 0.45),
    ),
    14: (("mouth_corner", (-0.95, -0.15), (0.07, 0.06), 1.0),),
    15: (
        ("mouth_corner", (0.15, 1.0), (0.08, 0.06), 1.0),
        ("below_corner", (0.0, 1.0), (0.1, 0.08), 0.4),
    ),
    17: (
        ("chin", (0.0, -1.0), (0.2, 0.1), 1.0),
        ("lower_lip_mid", (0.0, -1.0), (0.2, 0.05), 0.6),
    ),
    24: (
        ("upper_lip_mid", (0.0, 1.0), (0.25, 0.035), 0.7),
        ("lower_lip_mid", (0.0, -1.0), (0.25, 0.04), 1.0),
        ("mouth_corner", (-0.4, 0.0), (0.06, 0.05), 0.3),
    ),
}
_MIDLINE = ("glabella", "chin", "upper_lip_mid", "lower_lip_mid", "mouth_center")


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    coords = np.arange(size, dtype=np.float32)
    return coords[None, :], coords[:, None]


def _sides(side: str) -> tuple[int, ...]:
    return {"": (1, -1), "L": (1,), "R": (-1,)}[side]


def _unit_field(face: Face, au: int, side: str) -> np.ndarray:
    """(size, size, 2) displacement field of one AU token with peak magnitude 1."""
    geo = face.geometry
    x, y = _grid(face.size)
    field = np.zeros((face.size, face.size, 2), np.float32)
    for name, (dx, dy), (sx, sy), weight in _BUMPS[au]:
        lm = face.landmarks[name]
        if name in _MIDLINE:
            # A unilateral AU pulls its midline tissue half as much.
            placements = [(lm[0], dx)]
            weight = weight * (0.5 if side else 1.0)
        else:
            placements = [(geo.cx + s * (lm[0] - geo.cx), s * dx) for s in _sides(side)]
        for px, sdx in placements:
            g = np.exp(-0.5 * (((x - px) / (sx * geo.a)) ** 2 + ((y - lm[1]) / (sy * geo.a)) ** 2))
            norm = math.hypot(sdx, dy)
            field[..., 0] += weight * sdx / norm * g
            field[..., 1] += weight * dy / norm * g
    return field / np.sqrt((field**2).sum(-1)).max()


def au_displacement_fields(
    au_code: str, face: Face, amplitudes: Mapping[str, float]
) -> dict[str, np.ndarray]:
    """Apex displacement field of each token of a FACS code.

    Args:
      au_code: the FACS code, e.g. ``"1+R2"``.
      face: the subject's :class:`Face`.
      amplitudes: token -> peak displacement as a fraction of the image width.

    Returns:
      token -> (size, size, 2) float32 forward skin displacement (dx, dy) in pixels of the
      canonical frame; its peak magnitude is ``amplitudes[token] * size``.
    """
    fields = {}
    for token, (au, side) in zip(au_code.split("+"), parse_code(au_code), strict=True):
        fields[token] = _unit_field(face, au, side) * (amplitudes[token] * face.size)
    return fields


def _segment(x, y, p0, p1, width: float) -> np.ndarray:
    p0, p1 = np.asarray(p0, np.float32), np.asarray(p1, np.float32)
    d = p1 - p0
    t = np.clip(((x - p0[0]) * d[0] + (y - p0[1]) * d[1]) / float(d @ d), 0, 1)
    dist2 = (x - p0[0] - t * d[0]) ** 2 + (y - p0[1] - t * d[1]) ** 2
    return np.exp(-0.5 * dist2 / width**2)


def _blob(x, y, center, rx: float, ry: float) -> np.ndarray:
    return np.exp(-0.5 * (((x - center[0]) / rx) ** 2 + ((y - center[1]) / ry) ** 2))


def _appearance(face: Face, au: int, side: str) -> np.ndarray | None:
    """Relative brightness change (size, size) at full intensity, or None."""
    geo = face.geometry
    lm = face.landmarks
    x, y = _grid(face.size)
    a = geo.a
    w = max(0.5, 0.012 * a)  # wrinkle half-width
    out = np.zeros((face.size, face.size), np.float32)

    def mirrored(name):
        return [(geo.cx + s * (lm[name][0] - geo.cx), lm[name][1]) for s in _sides(side)], [
            s for s in _sides(side)
        ]

    if au == 4:
        centers, signs = mirrored("brow_inner")
        for (_, py), s in zip(centers, signs, strict=True):
            fx = geo.cx + s * 0.06 * a
            out -= 0.14 * _segment(x, y, (fx, py - 0.1 * a), (fx + s * 0.01 * a, py + 0.1 * a), w)
    elif au == 1:
        for k in range(3):
            yy = lm["forehead"][1] - 0.02 * a + k * 0.07 * a
            xs = [geo.cx + s * 0.22 * a for s in _sides(side)]
            for xe in xs:
                out -= 0.06 * _segment(x, y, (geo.cx, yy), (xe, yy + 0.01 * a), w)
    elif au == 2:
        centers, _ = mirrored("brow_mid")
        for px, py in centers:
            for k in range(2):
                yy = py - 0.12 * a - k * 0.07 * a
                out -= 0.05 * _segment(x, y, (px - 0.15 * a, yy), (px + 0.15 * a, yy), w)
    elif au == 6:
        centers, signs = mirrored("eye_outer")
        for (px, py), s in zip(centers, signs, strict=True):
            for k in (-1, 0, 1):
                out -= 0.07 * _segment(
                    x, y, (px + s * 0.04 * a, py + k * 0.04 * a),
                    (px + s * 0.13 * a, py + k * 0.07 * a), w,
                )  # fmt: skip
    elif au == 9:
        py = lm["nose_bridge"][1]
        for k in range(3):
            yy = py - 0.04 * a + k * 0.04 * a
            out -= 0.09 * _segment(x, y, (geo.cx - 0.09 * a, yy), (geo.cx + 0.09 * a, yy), w)
    elif au in (10, 12):
        centers, signs = mirrored("nose_wing")
        corners, _ = mirrored("mouth_corner")
        for (px, py), (qx, qy), s in zip(centers, corners, signs, strict=True):
            out -= 0.08 * _segment(x, y, (px + s * 0.05 * a, py), (qx + s * 0.1 * a, qy), 2 * w)
    elif au == 14:
        corners, signs = mirrored("mouth_corner")
        for (qx, qy), s in zip(corners, signs, strict=True):
            out -= 0.16 * _blob(x, y, (qx + s * 0.07 * a, qy), 1.5 * w, 2.5 * w)
    elif au == 15:
        corners, signs = mirrored("below_corner")
        for (qx, qy), s in zip(corners, signs, strict=True):
            out -= 0.06 * _segment(x, y, (qx, qy - 0.05 * a), (qx + s * 0.03 * a, qy + 0.08 * a), w)
    elif au == 17:
        chin = lm["chin"]
        dimples = np.cos(x * 2.3) * np.cos(y * 2.1)
        out -= 0.05 * _blob(x, y, chin, 0.18 * a, 0.09 * a) * (0.5 + 0.5 * dimples)
        out -= 0.06 * _blob(x, y, (chin[0], chin[1] - 0.15 * a), 0.2 * a, 2 * w)
    elif au == 24:
        mx, my = lm["mouth_center"]
        wide = lm["mouth_corner"][0] - geo.cx
        out -= 0.1 * _segment(x, y, (mx - wide, my), (mx + wide, my), w)
    else:
        return None
    return out


def au_appearance_maps(au_code: str, face: Face) -> dict[str, np.ndarray]:
    """Relative brightness change (wrinkles, furrows, dimples) of each token at apex.

    Args:
      au_code: the FACS code.
      face: the subject's :class:`Face`.

    Returns:
      token -> (size, size) float32 map m; the canonical face is multiplied by
      ``1 + intensity * m``. Tokens whose AU changes only the shape are left out.
    """
    maps = {}
    for token, (au, side) in zip(au_code.split("+"), parse_code(au_code), strict=True):
        m = _appearance(face, au, side)
        if m is not None:
            maps[token] = m
    return maps


# --------------------------------------------------------------------------------------
# Clips: timing, pose, distractors, rendering.
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class ClipSpec:
    """Everything random about one clip, drawn by :func:`sample_clip_spec`.

    Attributes:
      subject: 0-based subject index.
      clip: 0-based clip index.
      image_size: frame width and height.
      labels: the clip's :class:`Labels`.
      onset: first frame of the movement (0-based, equals the number of lead-in frames).
      apex: frame of peak intensity.
      offset: last frame; the clip has ``offset + 1`` frames.
      amplitudes: token -> peak displacement as a fraction of the image width.
      pose: (3, 3) canonical-to-image similarity of the clip.
      light_gain: (size, size) float32 per-clip illumination gain.
      drift: (T, 3) head drift per frame: dx, dy (pixels), rotation (radians).
      blink: (T,) lid closure per frame in [0, 1].
      flicker: (T,) global brightness factor per frame.
      noise_sigma: sensor noise standard deviation in gray levels.
      noise_seed: seed of the sensor noise.
      kind: the :class:`Expression` the clip was drawn for (its warp steps render it).
    """

    subject: int
    clip: int
    image_size: int
    labels: Labels
    onset: int
    apex: int
    offset: int
    amplitudes: Mapping[str, float]
    pose: np.ndarray
    light_gain: np.ndarray
    drift: np.ndarray
    blink: np.ndarray
    flicker: np.ndarray
    noise_sigma: float
    noise_seed: int
    kind: Expression = MICRO

    @property
    def num_frames(self) -> int:
        return self.offset + 1


def intensity_profile(num_frames: int, onset: int, apex: int, offset: int) -> np.ndarray:
    """Raised-cosine rise from onset to apex and fall from apex to offset.

    Args:
      num_frames: clip length.
      onset: last frame at rest (intensity 0); the movement starts after it.
      apex: frame of intensity 1; ``apex == onset`` peaks at once (no rise).
      offset: frame where the intensity is back to 0; ``offset == apex`` ends the clip at
        the peak (no fall).

    Returns:
      (num_frames,) float32 intensities in [0, 1].
    """
    t = np.arange(num_frames, dtype=np.float64)
    rise = 0.5 * (1 - np.cos(np.pi * np.clip((t - onset) / max(apex - onset, 1), 0, 1)))
    fall = 0.5 * (1 + np.cos(np.pi * np.clip((t - apex) / max(offset - apex, 1), 0, 1)))
    return np.where(t < apex, rise, np.where(t == apex, 1.0, fall)).astype(np.float32)


def _rotation(angle: float) -> np.ndarray:
    return np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])


def _smooth_walk(rng: np.random.Generator, n: int, dims: int) -> np.ndarray:
    """Random walk smoothed over ~3 frames, starting at 0, max |value| 1."""
    steps = rng.standard_normal((n + 12, dims))
    walk = np.cumsum(steps, axis=0)
    kernel = np.exp(-0.5 * (np.arange(-6, 7) / 3.0) ** 2)
    kernel /= kernel.sum()
    walk = np.stack([np.convolve(walk[:, d], kernel, mode="valid") for d in range(dims)], 1)
    walk = walk[:n] - walk[0]
    peak = np.abs(walk).max()
    return walk / peak if peak > 0 else walk


def _blink_profile(rng: np.random.Generator, n: int, frames: tuple[int, int]) -> np.ndarray:
    closure = np.zeros(n, np.float32)
    if rng.uniform() >= BLINK_PROBABILITY:
        return closure
    duration = int(rng.integers(frames[0], frames[1] + 1))
    start = int(rng.integers(-duration // 2, n - 3))
    depth = rng.uniform(0.6, 1.0)
    closing = max(2, int(round(0.4 * duration)))
    t = np.arange(n) - start
    down = 0.5 * (1 - np.cos(np.pi * np.clip(t / closing, 0, 1)))
    up = 0.5 * (1 + np.cos(np.pi * np.clip((t - closing) / (duration - closing), 0, 1)))
    closure = np.where(t < closing, down, up) * (t >= 0) * (t <= duration)
    return (depth * closure).astype(np.float32)


def sample_clip_spec(
    seed: int,
    subject: int,
    clip: int,
    image_size: int,
    *,
    au_code: str | None = None,
    kind: Expression | str = MICRO,
) -> ClipSpec:
    """Draws the labels, timing, pose and distractors of one clip.

    Args:
      seed: dataset seed.
      subject: 0-based subject index.
      clip: 0-based clip index within the subject.
      image_size: frame width and height.
      au_code: force this FACS code instead of sampling one (everything else unchanged).
      kind: the :class:`Expression` (or its name): timing, amplitudes and random streams.

    Returns:
      The :class:`ClipSpec`.
    """
    kind = expression(kind)
    if au_code is None:
        labels = sample_labels(seed, subject, clip, kind=kind)
    else:
        labels = labels_for_code(au_code)
    streams = kind.stream_offset
    rng = _rng(seed, _TIMING + streams, subject, clip)
    lead_in, rise, fall = kind.lead_in_frames, kind.onset_to_apex_frames, kind.apex_to_offset_frames
    onset = int(rng.integers(lead_in[0], lead_in[1] + 1))
    apex = onset + int(rng.integers(rise[0], rise[1] + 1))
    offset = apex + int(rng.integers(fall[0], fall[1] + 1))
    # Amplitudes are drawn for every rendered AU in a fixed order so that forcing a code
    # does not shift the stream.
    amplitude = rng.uniform(*kind.amplitude_range, len(RENDERED_AUS))
    per_au = dict(zip(RENDERED_AUS, amplitude, strict=True))
    amplitudes = {
        token: float(per_au[au])
        for token, (au, _) in zip(
            labels.au_code.split("+"), parse_code(labels.au_code), strict=True
        )
    }

    rng = _rng(seed, _POSE + streams, subject, clip)
    s = image_size
    angle = math.radians(rng.uniform(-1.5, 1.5))
    scale = rng.uniform(0.985, 1.015)
    shift = rng.uniform(-0.01, 0.01, 2) * s
    c = (s - 1) / 2
    rot = scale * _rotation(angle)
    pose = np.eye(3)
    pose[:2, :2] = rot
    pose[:2, 2] = np.array([c, c]) + shift - rot @ np.array([c, c])
    x, y = _grid(s)
    direction = rng.uniform(0, 2 * math.pi)
    ramp = (math.cos(direction) * (x - c) + math.sin(direction) * (y - c)) / s
    light_gain = (rng.uniform(0.98, 1.02) * (1 + rng.uniform(0, 0.05) * ramp)).astype(np.float32)

    n = offset + 1
    rng = _rng(seed, _DISTRACTORS + streams, subject, clip)
    drift = np.zeros((n, 3))
    # Residual drift of a registered clip (the cropped releases of CASME II and SAMM are
    # registered to a reference frame): well under the AU displacements. Larger drift is not
    # what the databases show after registration, and buries the 1-2 px AU motion.
    drift[:, :2] = _smooth_walk(rng, n, 2) * rng.uniform(0.0, 0.2) * s / 112
    drift[:, 2] = _smooth_walk(rng, n, 1)[:, 0] * math.radians(rng.uniform(0.0, 0.05))
    blink = _blink_profile(rng, n, kind.blink_frames)
    freq = 2 * rng.choice([50.0, 60.0]) + rng.uniform(-1.5, 1.5)
    flicker = 1 + rng.uniform(0.01, 0.02) * np.sin(
        2 * np.pi * freq * np.arange(n) / kind.fps + rng.uniform(0, 2 * np.pi)
    )
    return ClipSpec(
        subject=subject,
        clip=clip,
        image_size=s,
        labels=labels,
        onset=onset,
        apex=apex,
        offset=offset,
        amplitudes=amplitudes,
        pose=pose,
        light_gain=light_gain,
        drift=drift,
        blink=blink,
        flicker=flicker.astype(np.float32),
        noise_sigma=float(rng.uniform(1.5, 3.0)),
        noise_seed=int(_rng(seed, _SENSOR + streams, subject, clip).integers(2**63)),
        kind=kind,
    )


@dataclasses.dataclass(frozen=True, eq=False)
class Clip:
    """A rendered clip.

    Attributes:
      spec: the :class:`ClipSpec` it was rendered from.
      frames: (T, size, size, 3) uint8 RGB frames.
      intensity: (T,) AU intensity profile.
      fields: token -> (size, size, 2) apex displacement field (canonical pixels).
      landmarks: name -> (2,) image position (x, y), before drift, of the subject's
        left-side landmark.
      mirrored_landmarks: the same for the subject's right side.
    """

    spec: ClipSpec
    frames: np.ndarray
    intensity: np.ndarray
    fields: Mapping[str, np.ndarray]
    landmarks: Mapping[str, np.ndarray]
    mirrored_landmarks: Mapping[str, np.ndarray]


def _drift_matrix(dx: float, dy: float, angle: float, center: np.ndarray) -> np.ndarray:
    m = np.eye(3)
    rot = _rotation(angle)
    m[:2, :2] = rot
    m[:2, 2] = center + np.array([dx, dy]) - rot @ center
    return m


def _blink_frame(face: Face, closure: float, base: np.ndarray) -> np.ndarray:
    """Open-eye face with the upper lids lowered by `closure` (fraction of the way)."""
    out = base.copy()
    geo = face.geometry
    for side in (1, -1):
        eye = geo.eye(side)
        ex, ey, ew, eh, _ = eye
        x0, x1 = int(ex - ew - 2), int(ex + ew + 3)
        y0, y1 = int(ey - 2.5 * eh - 2), int(ey + 1.5 * eh + 3)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, face.size), min(y1, face.size)
        xs = np.arange(x0, x1, dtype=np.float32)[None, :]
        ys = np.arange(y0, y1, dtype=np.float32)[:, None]
        upper, _, closed = _lid_curves(xs, eye, side)
        edge = upper + closure * (closed - upper)
        inside = np.clip(ew - np.abs(xs - ex) + 0.5, 0, 1)
        cover = np.clip(edge - ys + 0.5, 0, 1) * inside
        patch = out[y0:y1, x0:x1]
        shut = face.closed_eyes[y0:y1, x0:x1]
        patch[:] = patch * (1 - cover[..., None]) + shut * cover[..., None]
        lash = 0.6 * math.sin(math.pi * closure) * np.exp(-0.5 * ((ys - edge) / 0.6) ** 2) * inside
        patch *= (1 - lash)[..., None]
    return out


def _pull(
    field: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, scale: np.float32, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Canonical source of each pixel once the skin has moved by ``scale * field``.

    The AU field lives on the canonical grid: it is sampled where each pixel lands, and the
    skin is pulled from where it moved from. One step is the first-order inverse of the
    displacement; n steps integrate ``-field`` over ``scale`` (backward Euler along the
    motion), which stays invertible while ``scale * |grad field| / n < 1``.
    """
    if steps == 1:
        disp = cv2.remap(field, map_x, map_y, cv2.INTER_LINEAR)
        return map_x - scale * disp[..., 0], map_y - scale * disp[..., 1]
    step = np.float32(scale / steps)
    for _ in range(steps):
        disp = cv2.remap(field, map_x, map_y, cv2.INTER_LINEAR)
        map_x = map_x - step * disp[..., 0]
        map_y = map_y - step * disp[..., 1]
    return map_x, map_y


def render_clip(spec: ClipSpec, face: Face, *, distractors: bool = True) -> Clip:
    """Renders a clip: pose, AU deformation and (optionally) distractors.

    Args:
      spec: the clip's :class:`ClipSpec`.
      face: the subject's :class:`Face` at ``spec.image_size``.
      distractors: False renders without drift, blinks, flicker and sensor noise.

    Returns:
      The :class:`Clip`.
    """
    if face.size != spec.image_size:
        raise ValueError(f"face rendered at {face.size}, clip wants {spec.image_size}")
    s, n = spec.image_size, spec.num_frames
    code = spec.labels.au_code
    fields = au_displacement_fields(code, face, spec.amplitudes)
    appearance = au_appearance_maps(code, face)
    intensity = intensity_profile(n, spec.onset, spec.apex, spec.offset)

    # All AUs of a clip share one timing, so each frame's field is the summed apex field
    # scaled by the intensity.
    total_field = np.sum(list(fields.values()), axis=0)
    total_appearance = np.sum(list(appearance.values()), axis=0) if appearance else None

    x, y = _grid(s)
    center = spec.pose[:2, :2] @ face.geometry.point(0, 0) + spec.pose[:2, 2]
    frames = np.empty((n, s, s, 3), np.float32)
    for t in range(n):
        to_image = spec.pose
        if distractors:
            to_image = _drift_matrix(*spec.drift[t], center) @ spec.pose
        m = np.linalg.inv(to_image)
        # Canonical position of each image pixel.
        map_x = (m[0, 0] * x + m[0, 1] * y + m[0, 2]).astype(np.float32)
        map_y = (m[1, 0] * x + m[1, 1] * y + m[1, 2]).astype(np.float32)
        if intensity[t] > 0:
            map_x, map_y = _pull(total_field, map_x, map_y, intensity[t], spec.kind.warp_steps)
        base = face.open_eyes
        if distractors and spec.blink[t] > 0:
            base = _blink_frame(face, float(spec.blink[t]), base)
        if total_appearance is not None and intensity[t] > 0:
            base = base * (1 + intensity[t] * total_appearance)[..., None]
        frames[t] = cv2.remap(
            base, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
        )
    frames *= spec.light_gain[None, :, :, None] * 255.0
    if distractors:
        frames *= spec.flicker[:, None, None, None]
        rng = np.random.default_rng(spec.noise_seed)
        frames += rng.standard_normal(frames.shape, dtype=np.float32) * spec.noise_sigma
    np.clip(frames, 0, 255, out=frames)
    frames += 0.5  # rounds on the truncating cast below
    frames = frames.astype(np.uint8)

    def to_image_coords(points):
        return {k: spec.pose[:2, :2] @ v + spec.pose[:2, 2] for k, v in points.items()}

    geo = face.geometry
    mirrored = {k: np.array([2 * geo.cx - v[0], v[1]]) for k, v in face.landmarks.items()}
    return Clip(
        spec=spec,
        frames=frames,
        intensity=intensity,
        fields=fields,
        landmarks=to_image_coords(face.landmarks),
        mirrored_landmarks=to_image_coords(mirrored),
    )


def generate_clip(
    seed: int,
    subject: int,
    clip: int,
    image_size: int,
    *,
    au_code: str | None = None,
    distractors: bool = True,
    face: Face | None = None,
    kind: Expression | str = MICRO,
) -> Clip:
    """Samples and renders one clip of the database.

    Args:
      seed: dataset seed.
      subject: 0-based subject index.
      clip: 0-based clip index within the subject.
      image_size: frame width and height.
      au_code: force this FACS code instead of the sampled one.
      distractors: False renders without drift, blinks, flicker and sensor noise.
      face: the subject's rendered :class:`Face` (of the same kind), to reuse across clips.
      kind: the :class:`Expression` (or its name): ``"micro"`` or ``"macro"``.

    Returns:
      The :class:`Clip`.
    """
    if face is None:
        face = render_face(sample_identity(seed, subject, kind=kind), image_size)
    spec = sample_clip_spec(seed, subject, clip, image_size, au_code=au_code, kind=kind)
    return render_clip(spec, face, distractors=distractors)
