"""Eulerian video magnification (EVM) in JAX, and the "reduction" of macro-expressions.

Wu, Rubinstein, Shih, Guttag, Durand and Freeman, "Eulerian Video Magnification for Revealing
Subtle Changes in the World", SIGGRAPH 2012: section 2 (spatial decomposition, temporal
band-pass, amplification, reconstruction), section 3 (the first-order motion model and the
bound ``(1 + alpha) delta(t) < lambda / 8`` that gives the wavelength cut-off ``lambda_c``),
and the authors' reference MATLAB code for the choices the paper leaves to it:

- spatial decomposition: a Laplacian pyramid built with the 5-tap binomial filter
  [1 4 6 4 1] / 16 (reflected border), default height floor(log2(min(H, W))) - 2;
- per-level amplification: with ``lambda`` the level's representative wavelength (the image
  diagonal / 3 at the coarsest level, halved per finer level) and
  ``delta = lambda_c / 8 / (1 + alpha)``, level gain = min(alpha, exaggeration *
  (lambda / delta / 8 - 1)) -- it ramps down linearly below the cut-off wavelength; the
  finest and the coarsest level are not amplified (``exaggeration`` = 2 as in the code);
- temporal filters: ``"ideal"`` (FFT over the whole clip, frequencies outside
  [low, high] Hz zeroed) and ``"iir"`` (difference of two first-order low-passes with
  smoothing factors ``r1`` > ``r2``, run causally from the first frame);
- colour: the RGB clip is processed in YIQ and the band-passed chrominance is multiplied by
  ``chrom_attenuation`` (1 = no attenuation; Wu et al. use 0.1 for faces).

Micro-expression use (Liu, Du, Zheng, Gedeon, "A Neural Micro-Expression Recognizer",
FG 2019, "expression magnification and reduction"): micro-expression clips are magnified with
EVM so that they look more like macro-expressions; macro-expressions are "reduced" by taking
the middle frame of onset..apex in place of the apex (:func:`reduce_expression`).
Their code magnifies with the EVM authors' MATLAB release; which setting it used is not
published, :func:`magnify_butter` defaults to the authors' "face2" motion setting of their
``reproduceResults.m`` (Butterworth temporal filter, alpha 20, lambda_c 80, 0.5-10 Hz at
30 fps, chrominance not amplified).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from mejax.preprocess import validate

_BINOMIAL = np.array([1, 4, 6, 4, 1], np.float32) / 16
_RGB_TO_YIQ = np.array(
    [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], np.float32
)


def _blur(image: jax.Array, axis: int) -> jax.Array:
    """5-tap binomial filter along ``axis`` with a reflected border."""
    pad = [(0, 0)] * image.ndim
    pad[axis] = (2, 2)
    padded = jnp.pad(image, pad, mode="reflect")
    n = image.shape[axis]
    return sum(
        w * jax.lax.slice_in_dim(padded, i, i + n, axis=axis) for i, w in enumerate(_BINOMIAL)
    )


def _blur2d(image: jax.Array) -> jax.Array:
    """Binomial blur of (..., H, W, C) images over H and W."""
    return _blur(_blur(image, -3), -2)


def _down(image: jax.Array) -> jax.Array:
    return _blur2d(image)[..., ::2, ::2, :]


def _up(image: jax.Array, shape: tuple[int, int]) -> jax.Array:
    """Zero-insertion upsampling to (H, W) followed by the binomial blur (x4 for the zeros)."""
    height, width = shape
    out = jnp.zeros((*image.shape[:-3], height, width, image.shape[-1]), image.dtype)
    out = out.at[..., ::2, ::2, :].set(image)
    return 4 * _blur2d(out)


def _rgb_clip(frames, sample: str) -> np.ndarray:
    """The checked (T, H, W, 3) clip of at least two frames; errors name ``sample``."""
    frames = validate.check_clip(frames, sample, min_frames=2)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"{sample}: expected an RGB clip (T, H, W, 3), got {frames.shape}")
    return frames


def default_levels(height: int, width: int) -> int:
    """Pyramid height of the reference code: floor(log2(min(H, W))) - 2, at least 1."""
    return max(1, int(math.floor(math.log2(min(height, width)))) - 2)


def laplacian_pyramid(images: jax.Array, levels: int) -> list[jax.Array]:
    """Laplacian pyramid of (..., H, W, C) images, finest first; the last entry is the
    Gaussian residual. :func:`reconstruct` inverts it exactly."""
    pyramid, current = [], images
    for _ in range(levels - 1):
        smaller = _down(current)
        pyramid.append(current - _up(smaller, current.shape[-3:-1]))
        current = smaller
    pyramid.append(current)
    return pyramid


def reconstruct(pyramid: list[jax.Array]) -> jax.Array:
    """Inverse of :func:`laplacian_pyramid`."""
    image = pyramid[-1]
    for band in reversed(pyramid[:-1]):
        image = band + _up(image, band.shape[-3:-1])
    return image


def bandpass_ideal(x: jax.Array, fps: float, low: float, high: float) -> jax.Array:
    """Ideal temporal band-pass along axis 0: keeps frequencies in [low, high] Hz."""
    frequencies = np.fft.rfftfreq(x.shape[0], d=1.0 / fps)
    keep = jnp.asarray((frequencies >= low) & (frequencies <= high), x.dtype)
    spectrum = jnp.fft.rfft(x, axis=0)
    keep = keep.reshape((-1,) + (1,) * (x.ndim - 1))
    return jnp.fft.irfft(spectrum * keep, n=x.shape[0], axis=0).astype(x.dtype)


def bandpass_iir(x: jax.Array, r1: float, r2: float) -> jax.Array:
    """Difference of two causal first-order low-passes along axis 0 (reference code's IIR).

    ``lowpass_k <- (1 - r_k) lowpass_k + r_k x_t``, both started at the first frame; output
    ``lowpass_1 - lowpass_2``, with r1 > r2 (r1 sets the high cut-off, r2 the low one).
    """

    def step(carry, frame):
        low1, low2 = carry
        low1 = (1 - r1) * low1 + r1 * frame
        low2 = (1 - r2) * low2 + r2 * frame
        return (low1, low2), low1 - low2

    _, rest = jax.lax.scan(step, (x[0], x[0]), x[1:])
    return jnp.concatenate([jnp.zeros_like(x[:1]), rest])


def level_gains(
    shape: tuple[int, int],
    levels: int,
    alpha: float,
    lambda_c: float,
    exaggeration: float = 2.0,
    skip_extreme_levels: bool = True,
) -> list[float]:
    """Amplification of each pyramid level (finest first), with the wavelength cut-off.

    ``skip_extreme_levels`` leaves the finest and coarsest level unamplified (the reference
    code); False amplifies them by the same rule.
    """
    delta = lambda_c / 8 / (1 + alpha)
    wavelength = math.hypot(*shape) / 3  # the coarsest level's
    gains = []
    for level in reversed(range(levels)):
        gain = min(alpha, exaggeration * (wavelength / delta / 8 - 1))
        skip = skip_extreme_levels and level in (0, levels - 1)
        gains.append(0.0 if skip else max(gain, 0.0))
        wavelength /= 2
    return gains[::-1]


@functools.partial(
    jax.jit,
    static_argnames=(
        "alpha",
        "lambda_c",
        "low",
        "high",
        "fps",
        "temporal_filter",
        "levels",
        "chrom_attenuation",
        "exaggeration",
        "r1",
        "r2",
        "skip_extreme_levels",
    ),
)
def _magnify(
    frames, alpha, lambda_c, low, high, fps, temporal_filter, levels, chrom_attenuation,
    exaggeration, r1, r2, skip_extreme_levels,
):  # fmt: skip
    yiq = frames @ jnp.asarray(_RGB_TO_YIQ).T
    pyramid = laplacian_pyramid(yiq, levels)
    gains = level_gains(
        frames.shape[1:3], levels, alpha, lambda_c, exaggeration, skip_extreme_levels
    )
    channel = jnp.asarray([1.0, chrom_attenuation, chrom_attenuation], frames.dtype)
    bands = []
    for band, gain in zip(pyramid, gains, strict=True):
        if gain == 0.0:
            bands.append(jnp.zeros_like(band))
            continue
        if temporal_filter == "ideal":
            filtered = bandpass_ideal(band, fps, low, high)
        else:
            filtered = bandpass_iir(band, r1, r2)
        bands.append(gain * filtered * channel)
    out = yiq + reconstruct(bands)
    return out @ jnp.asarray(np.linalg.inv(_RGB_TO_YIQ)).T


def magnify(
    frames,
    *,
    alpha: float = 10.0,
    lambda_c: float = 16.0,
    low: float = 0.4,
    high: float = 3.0,
    fps: float = 30.0,
    temporal_filter: str = "ideal",
    r1: float = 0.4,
    r2: float = 0.05,
    levels: int | None = None,
    chrom_attenuation: float = 1.0,
    exaggeration: float = 2.0,
    skip_extreme_levels: bool = True,
    sample: str = "clip",
):
    """Eulerian motion magnification of a clip.

    Args:
      frames: (T, H, W, 3) RGB clip (uint8, or float in any range), T >= 2.
      alpha: amplification factor (motion is magnified to (1 + alpha) times).
      lambda_c: cut-off wavelength (pixels) below which the gain ramps down.
      low, high: pass band in Hz of the ideal filter.
      fps: frame rate of the clip (for the ideal filter).
      temporal_filter: ``"ideal"`` or ``"iir"``.
      r1, r2: IIR smoothing factors (``"iir"`` only), r1 > r2.
      levels: pyramid height (default :func:`default_levels`).
      chrom_attenuation: gain on the chrominance (I, Q) of the amplified band.
      exaggeration: the reference code's exaggeration factor of the ramp below lambda_c.
      skip_extreme_levels: leave the finest and coarsest pyramid level unamplified (the
        reference code; a motion whose spatial frequencies sit there is then magnified less
        than 1 + alpha).
      sample: clip name for error messages.

    Returns:
      The magnified clip, the input dtype (uint8 rounded and clipped), same shape.
    """
    frames = _rgb_clip(frames, sample)
    if temporal_filter not in ("ideal", "iir"):
        raise ValueError(f"{sample}: temporal_filter={temporal_filter!r}; expected ideal or iir")
    if temporal_filter == "iir" and not 0 < r2 < r1 <= 1:
        raise ValueError(f"{sample}: IIR needs 0 < r2 < r1 <= 1, got r1={r1}, r2={r2}")
    if levels is None:
        levels = default_levels(*frames.shape[1:3])
    out = _magnify(
        jnp.asarray(frames, jnp.float32),
        alpha=float(alpha),
        lambda_c=float(lambda_c),
        low=float(low),
        high=float(high),
        fps=float(fps),
        temporal_filter=temporal_filter,
        levels=int(levels),
        chrom_attenuation=float(chrom_attenuation),
        exaggeration=float(exaggeration),
        r1=float(r1),
        r2=float(r2),
        skip_extreme_levels=bool(skip_extreme_levels),
    )
    out = np.asarray(out)
    if np.issubdtype(frames.dtype, np.integer):
        info = np.iinfo(frames.dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(frames.dtype)
    return out.astype(frames.dtype)


def reduce_expression(frames, onset: int, apex: int, *, sample: str = "clip") -> np.ndarray:
    """The "reduced" apex of a macro-expression: the middle frame of onset..apex.

    Liu et al.'s code takes frame ``len // 2`` of the onset..apex sequence (CK+ sequences
    start at the neutral onset and end at the apex), so the frame returned is
    ``onset + (apex - onset + 1) // 2``: the exact middle for an odd number of frames, the
    later of the two middle frames for an even number (``onset + (apex - onset) // 2``, the
    earlier one, is one frame off there). It never passes the apex.
    """
    frames = validate.check_clip(frames, sample)
    validate.check_phases(onset, apex, None, len(frames), sample)
    return frames[onset + (apex - onset + 1) // 2]


# The EVM authors' "face2" motion setting (reproduceResults.m:
# amplify_spatial_lpyr_temporal_butter(face2, 20, 80, 0.5, 10, 30, 0)), the defaults of
# :func:`magnify_butter`.
FACE_ALPHA, FACE_LAMBDA_C, FACE_LOW, FACE_HIGH, FACE_FPS = 20.0, 80.0, 0.5, 10.0, 30.0
FACE_CHROM_ATTENUATION = 0.0


def butter_r(cutoff: float, fps: float) -> float:
    """Smoothing factor r of the reference's first-order Butterworth low-pass.

    The reference builds it with MATLAB's ``butter(1, cutoff / fps)``, which normalises to
    the Nyquist rate, so the -3 dB point is cutoff / 2 Hz: with ``t = tan(pi cutoff / fps /
    2)`` the filter is ``y_n = (1 - r) y_(n-1) + r (x_n + x_(n-1)) / 2``, ``r = 2 t / (1 + t)``.
    """
    if not 0 < cutoff < fps:
        raise ValueError(f"Butterworth cut-off {cutoff} Hz must lie in (0, fps={fps})")
    t = math.tan(math.pi * cutoff / fps / 2)
    return 2 * t / (1 + t)


def lpyr_auto_height(height: int, width: int) -> int:
    """Height of the reference's ``buildLpyr(im, 'auto')`` (binomial-5 filter): 1 plus the
    number of halvings of min(H, W) that stay at least 5 pixels (64: 5, 320: 8)."""
    side, count = min(height, width), 0
    while side >= 5:
        side, count = side // 2, count + 1
    return max(1, count + 1)


def magnify_butter(
    frames,
    *,
    alpha: float = FACE_ALPHA,
    lambda_c: float = FACE_LAMBDA_C,
    low: float = FACE_LOW,
    high: float = FACE_HIGH,
    fps: float = FACE_FPS,
    chrom_attenuation: float = FACE_CHROM_ATTENUATION,
    levels: int | None = None,
    sample: str = "clip",
) -> np.ndarray:
    """EVM with the reference's Butterworth temporal filter (amplify_spatial_lpyr_temporal_butter).

    The defaults are the authors' "face2" motion setting: alpha 20, lambda_c 80, 0.5-10 Hz at
    30 fps, chrominance not amplified. The Butterworth band-pass is the difference of two
    first-order low-passes that differ from :func:`bandpass_iir`'s only by averaging the
    input over the current and previous frame (:func:`butter_r`); both start at the first
    frame, so it equals the mean of the current and previous outputs of ``bandpass_iir`` with
    ``r1 = butter_r(high)``, ``r2 = butter_r(low)``. Magnification is linear in the band, so
    the amplified part of :func:`magnify` (``"iir"``) is averaged in the same way. The first
    frame is returned unchanged (a float clip up to the rounding of the colour conversion).
    The filter is causal, so the clip is padded at the end (last frame repeated) to a
    power-of-two length of at least 32, which bounds the number of compilations, and cut
    back. ``levels`` defaults to the reference's pyramid height
    (:func:`lpyr_auto_height`); the reference also drops a video's last 10 frames, this does
    not.

    Args:
      frames: (T, H, W, 3) RGB clip, uint8 or float, T >= 2.
      alpha, lambda_c, low, high, fps, chrom_attenuation: as in :func:`magnify`; ``low`` and
        ``high`` are passed to MATLAB's ``butter`` as the reference does (see
        :func:`butter_r`).
      levels: pyramid height (default :func:`lpyr_auto_height`).
      sample: clip name for error messages.

    Returns:
      The magnified clip, the input dtype (uint8 rounded and clipped), same shape.
    """
    frames = _rgb_clip(frames, sample)
    if not 0 < low < high < fps:
        raise ValueError(f"{sample}: expected 0 < low < high < fps, got {low}, {high}, {fps}")
    length = len(frames)
    x = np.asarray(frames, np.float32)
    padded = max(32, 1 << (length - 1).bit_length())
    x_pad = np.concatenate([x, np.repeat(x[-1:], padded - length, axis=0)])
    out = magnify(
        x_pad,
        alpha=alpha,
        lambda_c=lambda_c,
        fps=fps,
        temporal_filter="iir",
        r1=butter_r(high, fps),
        r2=butter_r(low, fps),
        levels=lpyr_auto_height(*x.shape[1:3]) if levels is None else levels,
        chrom_attenuation=chrom_attenuation,
        sample=sample,
    )[:length]
    amplified = out - x
    amplified[1:] = (amplified[1:] + amplified[:-1]) / 2
    out = x + amplified
    if np.issubdtype(frames.dtype, np.integer):
        info = np.iinfo(frames.dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(frames.dtype)
    return out.astype(frames.dtype)
