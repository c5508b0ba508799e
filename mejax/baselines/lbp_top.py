"""LBP-TOP and LBP-SIP: local binary patterns of a clip on three orthogonal planes.

**LBP-TOP** -- Zhao & Pietikäinen, "Dynamic Texture Recognition Using Local Binary Patterns
with an Application to Facial Expressions", TPAMI 29(6), 2007, Sec. 2.2 (LBP from Three
Orthogonal Planes) and Sec. 3.2 (block-based descriptor for facial expressions). Every pixel of
the volume is coded by an LBP in its XY, XT and YT planes; each plane gives a histogram per
block, and the descriptor concatenates them (block-major, then XY, XT, YT). The
micro-expression baselines (CASME II, STAP, SCA) use LBP-TOP with radii R_X = R_Y = R_T = 3,
P = 8 neighbours per plane, uniform (u2) patterns and 5 x 5 blocks.

**LBP-SIP** -- Wang, See, Phan, Oh, "LBP with Six Intersection Points: Reducing Redundant
Information in LBP-TOP for Micro-expression Recognition", ACCV 2014, Sec. 3. The three
circles of LBP-TOP (P = 4 each) share six distinct points: the four spatial neighbours
(x +- R_X, y +- R_Y) and the two temporal ones (t +- R_T). LBP-SIP codes the four spatial
points and the two temporal points separately and concatenates their histograms, 2^4 + 2^2 =
20 bins per block (``layout="split"``); ``layout="joint"`` codes all six in one 64-bin
pattern, the plausible alternative reading.

Sampling and codes follow scikit-image's ``local_binary_pattern`` (Ojala et al., TPAMI 2002)
exactly, applied to every XY, XT and YT slice of the volume at once (the parity test checks
this plane by plane): neighbour p of P sits at (row, col) offset
``(-R_row sin(2 pi p / P), R_col cos(2 pi p / P))`` rounded to 5 decimals, is bilinearly
interpolated in float64 with scikit-image's arithmetic, and sets bit p when
``neighbour - centre >= 0``. In the XY plane rows are y and columns x; in XT and YT rows are
t. Zhao's circles start elsewhere on the circle and run the other way round, which only
permutes histogram bins. ``mapping``: ``"u2"`` (scikit-image's ``nri_uniform``: the
P (P - 1) + 2 uniform patterns plus one bin for all others, 59 bins for P = 8 -- the papers'
histogram), ``"riu2"`` (``uniform``: rotation-invariant, P + 2 bins) or ``"none"`` (2^P).

Choices the papers leave open:

- ``border="volume"`` (default, Zhao's published code): every plane is coded at the same
  centre pixels, those whose neighbours in all three planes lie inside the volume (with
  R_T = 3 and 10 frames, frames 3..6). ``border="plane"``: each plane at every pixel whose own
  plane neighbours lie inside (XY codes on all frames).
- Blocks (``blocks.py``): a grid over the whole frame; a block's centre pixels may read
  neighbours in other blocks. Histograms are normalised per block and plane (``norm``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mejax.baselines import blocks

PLANES = ("xy", "xt", "yt")
# (row axis, column axis) of each plane in a (T, H, W) volume.
_PLANE_AXES = {"xy": (1, 2), "xt": (0, 2), "yt": (0, 1)}
MAPPINGS = ("u2", "riu2", "none")
BORDERS = ("volume", "plane")


def mapping_table(num_points: int, mapping: str) -> tuple[np.ndarray, int]:
    """Lookup table from a raw P-bit pattern (bit p = neighbour p) to its label.

    Labels are scikit-image's: ``u2`` = ``nri_uniform``, ``riu2`` = ``uniform``.

    Returns:
      ((2^P,) int64 labels, number of labels).
    """
    if not 1 <= num_points <= 16:
        raise ValueError(f"LBP: {num_points} neighbours; 1 to 16 supported")
    p = num_points
    patterns = np.arange(2**p)
    bits = (patterns[:, None] >> np.arange(p)) & 1
    if mapping == "none":
        return patterns.astype(np.int64), 2**p
    changes = np.abs(np.diff(bits, axis=1)).sum(1)
    ones = bits.sum(1)
    uniform = changes <= 2
    if mapping == "riu2":
        return np.where(uniform, ones, p + 1).astype(np.int64), p + 2
    if mapping != "u2":
        raise ValueError(f"LBP: unknown mapping {mapping!r}; expected one of {MAPPINGS}")
    first_one = np.argmax(bits == 1, axis=1)
    first_zero = np.argmax(bits == 0, axis=1)
    rotation = np.where(first_one == 0, ones - first_zero, p - first_one)
    labels = np.where(ones == 0, 0, 1 + (ones - 1) * p + rotation)
    labels = np.where(ones == p, p * (p - 1) + 1, labels)
    labels = np.where(uniform, labels, p * (p - 1) + 2)
    return labels.astype(np.int64), p * (p - 1) + 3


def circle_offsets(num_points: int, radius_row: float, radius_col: float) -> np.ndarray:
    """(P, 2) (row, col) offsets of the circular (elliptic) neighbours, scikit-image's."""
    angles = 2 * np.pi * np.arange(num_points, dtype=np.float64) / num_points
    rows = np.round(-float(radius_row) * np.sin(angles), 5)
    cols = np.round(float(radius_col) * np.cos(angles), 5)
    return np.stack([rows, cols], axis=1)


def _margin(offsets: np.ndarray) -> int:
    """Pixels a centre must keep from the border so every neighbour's taps lie inside."""
    return int(np.ceil(np.max(np.abs(offsets)))) if offsets.size else 0


def _check_volume(volume) -> np.ndarray:
    volume = np.asarray(volume)
    if volume.ndim != 3:
        raise ValueError(f"expected a (T, H, W) gray volume, got shape {volume.shape}")
    return np.ascontiguousarray(volume, dtype=np.float64)


def _window(shape, margins, what: str):
    """((t0, t1), (y0, y1), (x0, x1)) of the centres keeping ``margins`` from the border."""
    window = tuple((m, n - m) for n, m in zip(shape, margins, strict=True))
    if any(hi <= lo for lo, hi in window):
        raise ValueError(
            f"{what}: a {tuple(shape)} (T, H, W) volume has no pixel at least {tuple(margins)} "
            "(t, y, x) pixels from its border; use a smaller radius / window or a larger volume"
        )
    return window


def _interpolate(volume, window, row_axis, col_axis, offset_row, offset_col):
    """Neighbour values at offset (row, col) from every centre of ``window``: bilinear, with
    scikit-image's float64 arithmetic (so that ties with the centre break the same way)."""
    index = [np.arange(lo, hi) for lo, hi in window]
    other = 3 - row_axis - col_axis
    slicer = [slice(None)] * 3
    slicer[other] = slice(*window[other])
    sub = volume[tuple(slicer)]

    def taps(axis, offset):
        # Per-centre coordinates, as scikit-image computes them (the fractions differ in the
        # last bits from one centre to the next).
        coordinate = index[axis] + offset
        lower = np.floor(coordinate)
        upper = np.ceil(coordinate)
        shape = [1, 1, 1]
        shape[axis] = -1
        return _as_slice(lower), _as_slice(upper), (coordinate - lower).reshape(shape)

    r_lo, r_hi, dr = taps(row_axis, offset_row)
    c_lo, c_hi, dc = taps(col_axis, offset_col)

    def pick(array, axis, where):
        index = [slice(None)] * 3
        index[axis] = where
        return array[tuple(index)]

    def along_cols(rows):
        left = pick(rows, col_axis, c_lo)
        if _same(c_lo, c_hi):  # integer offset: (1 - 0) * a + 0 * b == a exactly
            return left
        return (1 - dc) * left + dc * pick(rows, col_axis, c_hi)

    top = along_cols(pick(sub, row_axis, r_lo))
    if _same(r_lo, r_hi):
        return top
    bottom = along_cols(pick(sub, row_axis, r_hi))
    return (1 - dr) * top + dr * bottom


def _same(a, b) -> bool:
    if isinstance(a, slice) and isinstance(b, slice):
        return a == b
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)


def _as_slice(indices: np.ndarray):
    """Consecutive integer positions as a slice (a view instead of a gathered copy)."""
    indices = indices.astype(np.int64)
    if np.all(np.diff(indices) == 1):
        return slice(int(indices[0]), int(indices[-1]) + 1)
    return indices


def raw_codes(volume, window, row_axis, col_axis, offsets) -> np.ndarray:
    """P-bit LBP patterns (bit p: neighbour p >= centre) at every centre of ``window``."""
    centre = volume[tuple(slice(lo, hi) for lo, hi in window)]
    codes = np.zeros(centre.shape, np.int64)
    for p, (off_r, off_c) in enumerate(offsets):
        texture = _interpolate(volume, window, row_axis, col_axis, off_r, off_c)
        codes |= ((texture - centre) >= 0).astype(np.int64) << p
    return codes


def _plane_settings(radii, neighbours):
    r_x, r_y, r_t = (float(r) for r in radii)
    radius = {"xy": (r_y, r_x), "xt": (r_t, r_x), "yt": (r_t, r_y)}
    return {
        plane: circle_offsets(int(p), *radius[plane])
        for plane, p in zip(PLANES, neighbours, strict=True)
    }


def _plane_windows(shape, offsets: dict, border: str, what: str) -> dict:
    margins = {plane: [0, 0, 0] for plane in PLANES}
    for plane, (row_axis, col_axis) in _PLANE_AXES.items():
        margins[plane][row_axis] = _margin(offsets[plane][:, 0])
        margins[plane][col_axis] = _margin(offsets[plane][:, 1])
    if border == "volume":
        common = [max(m[a] for m in margins.values()) for a in range(3)]
        return {plane: _window(shape, common, what) for plane in PLANES}
    if border == "plane":
        return {plane: _window(shape, margins[plane], f"{what} ({plane})") for plane in PLANES}
    raise ValueError(f"{what}: unknown border {border!r}; expected one of {BORDERS}")


def lbp_top_codes(
    volume,
    radii: Sequence[float] = (3, 3, 3),
    neighbours: Sequence[int] = (8, 8, 8),
    mapping: str = "u2",
    border: str = "volume",
) -> dict:
    """LBP-TOP labels of each plane.

    Args:
      volume: (T, H, W) gray clip.
      radii: (R_X, R_Y, R_T).
      neighbours: (P_XY, P_XT, P_YT).
      mapping: ``u2``, ``riu2`` or ``none`` (see the module docstring).
      border: ``volume`` or ``plane`` (see the module docstring).

    Returns:
      ``{plane: (labels over its window, window ((t0, t1), (y0, y1), (x0, x1)), num_labels)}``
      for the planes ``xy``, ``xt``, ``yt``.
    """
    volume = _check_volume(volume)
    if len(radii) != 3 or len(neighbours) != 3 or min(radii) <= 0:
        raise ValueError(f"LBP-TOP: radii {radii} and neighbours {neighbours} need 3 values > 0")
    offsets = _plane_settings(radii, neighbours)
    windows = _plane_windows(volume.shape, offsets, border, f"LBP-TOP with radii {tuple(radii)}")
    result = {}
    for plane in PLANES:
        table, num_labels = mapping_table(len(offsets[plane]), mapping)
        codes = raw_codes(volume, windows[plane], *_PLANE_AXES[plane], offsets[plane])
        result[plane] = (table[codes], windows[plane], num_labels)
    return result


def lbp_top(
    volume,
    radii: Sequence[float] = (3, 3, 3),
    neighbours: Sequence[int] = (8, 8, 8),
    mapping: str = "u2",
    border: str = "volume",
    grid: Sequence[int] = (5, 5, 1),
    norm: str = "l1",
) -> np.ndarray:
    """LBP-TOP descriptor of a clip.

    Args:
      volume: (T, H, W) gray clip.
      radii, neighbours, mapping, border: see :func:`lbp_top_codes`.
      grid: block grid (rows, columns, temporal segments).
      norm: per block-and-plane histogram normalisation (``l1``, ``l2``, ``none``).

    Returns:
      (num_blocks * 3 * num_labels,) float32: for each block, its XY, XT and YT histograms.
    """
    volume = _check_volume(volume)
    codes = lbp_top_codes(volume, radii, neighbours, mapping, border)
    return blocks.plane_histograms(volume.shape, codes, grid, norm)


SIP_LAYOUTS = ("split", "joint")


def lbp_sip(
    volume,
    radii: Sequence[int] = (3, 3, 3),
    layout: str = "split",
    grid: Sequence[int] = (5, 5, 1),
    norm: str = "l1",
) -> np.ndarray:
    """LBP-SIP descriptor of a clip.

    Bits of the spatial pattern, in LBP-TOP's XY order (P = 4): (y, x + R_X), (y - R_Y, x),
    (y, x - R_X), (y + R_Y, x); of the temporal pattern: t - R_T, t + R_T. Centres are those
    whose six points lie inside the volume.

    Args:
      volume: (T, H, W) gray clip.
      radii: integer (R_X, R_Y, R_T) (the six points lie on the axes: no interpolation).
      layout: ``split`` (16 + 4 bins per block, the paper) or ``joint`` (64 bins).
      grid: block grid (rows, columns, temporal segments).
      norm: per-histogram normalisation.

    Returns:
      (num_blocks * 20,) float32 (``split``) or (num_blocks * 64,) (``joint``).
    """
    volume = _check_volume(volume)
    if len(radii) != 3 or any(int(r) != r or r < 1 for r in radii):
        raise ValueError(f"LBP-SIP: radii {tuple(radii)} must be 3 integers >= 1")
    r_x, r_y, r_t = (int(r) for r in radii)
    window = _window(volume.shape, (r_t, r_y, r_x), f"LBP-SIP with radii {tuple(radii)}")
    (t0, t1), (y0, y1), (x0, x1) = window

    def at(dt, dy, dx):
        return volume[t0 + dt : t1 + dt, y0 + dy : y1 + dy, x0 + dx : x1 + dx]

    centre = at(0, 0, 0)
    points = [(0, 0, r_x), (0, -r_y, 0), (0, 0, -r_x), (0, r_y, 0), (-r_t, 0, 0), (r_t, 0, 0)]
    bits = [(at(*p) - centre >= 0).astype(np.int64) for p in points]
    spatial = bits[0] | bits[1] << 1 | bits[2] << 2 | bits[3] << 3
    temporal = bits[4] | bits[5] << 1
    block, num_blocks = blocks.block_labels(volume.shape, grid, window)
    if layout == "split":
        hists = [
            blocks.normalize(blocks.histograms(block, num_blocks, spatial, 16), norm),
            blocks.normalize(blocks.histograms(block, num_blocks, temporal, 4), norm),
        ]
    elif layout == "joint":
        joint = spatial | temporal << 4
        hists = [blocks.normalize(blocks.histograms(block, num_blocks, joint, 64), norm)]
    else:
        raise ValueError(f"LBP-SIP: unknown layout {layout!r}; expected one of {SIP_LAYOUTS}")
    return np.concatenate(hists, axis=1).astype(np.float32).ravel()
