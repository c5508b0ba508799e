"""Block division of a clip: the spatio-temporal grid the hand-crafted descriptors pool over.

Zhao & Pietikäinen (LBP-TOP, TPAMI 2007, Sec. 3.2 "Spatiotemporal LBP for facial expression
recognition") divide each face volume into non-overlapping blocks and concatenate the blocks'
histograms; the micro-expression baselines (CASME II, STAP, SCA) use 5 x 5 spatial blocks over
the whole clip duration. A grid here is ``(rows, columns, temporal segments)``; a side of
``n`` pixels splits into parts whose edges are ``round(i * n / parts)``, so uneven sizes give
parts that differ by at most one pixel.

Descriptors compute their per-pixel codes (or gradients, flow) on the whole volume, so a
block's centre pixels may read neighbours in the next block, as Zhao's published code does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def check_grid(grid: Sequence[int]) -> tuple[int, int, int]:
    """``(rows, columns, segments)`` as ints; raises on a malformed grid."""
    grid = tuple(int(g) for g in grid)
    if len(grid) != 3 or min(grid) < 1:
        raise ValueError(f"blocks: expected (rows, columns, temporal segments) >= 1, got {grid}")
    return grid


def edges(size: int, parts: int, what: str = "axis") -> np.ndarray:
    """Edges of ``parts`` contiguous parts of ``range(size)``: (parts + 1,) int.

    Raises:
      ValueError: naming ``what`` when a part would be empty (``size < parts``).
    """
    if size < parts:
        raise ValueError(f"blocks: cannot split the {size} positions of {what} into {parts} parts")
    return np.round(np.arange(parts + 1) * size / parts).astype(np.int64)


def axis_labels(size: int, parts: int, start: int = 0, stop: int | None = None, what="axis"):
    """Part index of each position ``start..stop-1`` of an axis of ``size`` split into
    ``parts`` (the parts are laid over the whole axis; positions are a window of it)."""
    stop = size if stop is None else stop
    labels = np.repeat(np.arange(parts), np.diff(edges(size, parts, what)))
    return labels[start:stop]


def block_labels(shape, grid, window=None) -> tuple[np.ndarray, int]:
    """Block index of every voxel of a window of a (T, H, W) volume.

    Args:
      shape: (T, H, W) of the whole volume (the grid is laid over it).
      grid: (rows, columns, temporal segments).
      window: ((t0, t1), (y0, y1), (x0, x1)) positions to label; default the whole volume.

    Returns:
      ((t1 - t0, y1 - y0, x1 - x0) int block indices, ordered segment-major then row, column;
      the number of blocks).

    Raises:
      ValueError: when a block has no position inside the window (its histogram would be
        empty), naming the shape, window and grid.
    """
    rows, cols, segments = check_grid(grid)
    window = window or ((0, shape[0]), (0, shape[1]), (0, shape[2]))
    parts = (segments, rows, cols)
    names = ("time", "height", "width")
    per_axis = [
        axis_labels(size, n, lo, hi, f"the {name} of a {tuple(shape)} volume")
        for size, n, (lo, hi), name in zip(shape, parts, window, names, strict=True)
    ]
    for labels, n, name in zip(per_axis, parts, names, strict=True):
        missing = sorted(set(range(n)) - set(labels.tolist()))
        if missing:
            raise ValueError(
                f"blocks: grid {tuple(grid)} on a {tuple(shape)} volume leaves {name} part(s) "
                f"{missing} without a valid centre pixel (valid window {tuple(window)}); use "
                "fewer blocks, a smaller radius / window, or larger clips"
            )
    t, y, x = per_axis
    labels = (t[:, None, None] * rows + y[None, :, None]) * cols + x[None, None, :]
    return labels, rows * cols * segments


def histograms(labels: np.ndarray, num_blocks: int, bins: np.ndarray, num_bins: int, weights=None):
    """Per-block histograms: (num_blocks, num_bins) float64.

    Args:
      labels: block index of each sample (any shape).
      num_blocks: number of blocks.
      bins: bin index of each sample, same shape, in ``[0, num_bins)``.
      num_bins: bins per histogram.
      weights: optional weight of each sample (e.g. a gradient magnitude).
    """
    flat = labels.astype(np.int64).ravel() * num_bins + bins.astype(np.int64).ravel()
    w = None if weights is None else np.asarray(weights, np.float64).ravel()
    counts = np.bincount(flat, weights=w, minlength=num_blocks * num_bins)
    return counts.reshape(num_blocks, num_bins).astype(np.float64)


def normalize(hist: np.ndarray, norm: str) -> np.ndarray:
    """Normalises each histogram (last axis): ``l1`` (sum 1), ``l2`` (unit length), ``none``.

    An all-zero histogram stays zero.
    """
    if norm == "none":
        return hist
    if norm == "l1":
        total = np.abs(hist).sum(-1, keepdims=True)
    elif norm == "l2":
        total = np.sqrt(np.square(hist).sum(-1, keepdims=True))
    else:
        raise ValueError(f"normalize: unknown norm {norm!r}; expected 'l1', 'l2' or 'none'")
    return hist / np.where(total > 0, total, 1.0)


def plane_histograms(shape, plane_codes: dict, grid, norm: str) -> np.ndarray:
    """A three-orthogonal-planes descriptor from per-plane code maps.

    Args:
      shape: (T, H, W) of the volume the codes were computed on.
      plane_codes: plane -> (codes, window, number of code values), e.g. LBP-TOP's or LPQ-TOP's
        codes of the XY, XT and YT planes.
      grid: block grid (rows, columns, temporal segments).
      norm: per block-and-plane histogram normalisation (see :func:`normalize`).

    Returns:
      (num_blocks * sum of the planes' bins,) float32: for each block, its planes' histograms.
    """
    parts = []
    for codes, window, num_bins in plane_codes.values():
        block, num_blocks = block_labels(shape, grid, window)
        parts.append(normalize(histograms(block, num_blocks, codes, num_bins), norm))
    return np.concatenate(parts, axis=1).astype(np.float32).ravel()


def sub_edges(size: int, parts: int, sub: int, what: str = "axis") -> np.ndarray:
    """Edges of ``parts`` parts each split again into ``sub`` sub-parts: (parts * sub + 1,).

    Raises when a sub-part would be empty.
    """
    outer = edges(size, parts, what)
    inner = [
        lo + edges(hi - lo, sub, f"a part of {what}")[:-1]
        for lo, hi in zip(outer[:-1], outer[1:], strict=True)
    ]
    return np.concatenate([*inner, outer[-1:]])


def box_means(values: np.ndarray, edges_t, edges_y, edges_x) -> np.ndarray:
    """Means of ``values`` (T, H, W, ...) over the boxes of a rectilinear grid, from an
    integral volume (Kläser et al.'s integral video): (nt, ny, nx, ...)."""
    integral = values.astype(np.float64)
    for axis in range(3):
        integral = np.cumsum(integral, axis=axis)
    pad = [(1, 0)] * 3 + [(0, 0)] * (values.ndim - 3)
    integral = np.pad(integral, pad)
    t, y, x = (np.asarray(e) for e in (edges_t, edges_y, edges_x))
    ix = np.ix_(t, y, x)
    corners = integral[ix]  # (nt+1, ny+1, nx+1, ...)
    sums = (
        corners[1:, 1:, 1:]
        - corners[:-1, 1:, 1:]
        - corners[1:, :-1, 1:]
        - corners[1:, 1:, :-1]
        + corners[:-1, :-1, 1:]
        + corners[:-1, 1:, :-1]
        + corners[1:, :-1, :-1]
        - corners[:-1, :-1, :-1]
    )
    counts = np.diff(t)[:, None, None] * np.diff(y)[None, :, None] * np.diff(x)[None, None, :]
    counts = counts.reshape(counts.shape + (1,) * (values.ndim - 3))
    return sums / counts
