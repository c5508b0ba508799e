"""HOG3D (Kläser et al.) and 3DHOG (Polikovsky et al.): histograms of 3-D gradient orientation.

**HOG3D** -- Kläser, Marszałek & Schmid, "A Spatio-Temporal Descriptor Based on
3D-Gradients", BMVC 2008, Sec. 3. Gradients (d/dx, d/dy, d/dt) are averaged over sub-blocks
through an integral video (Sec. 3.1); a mean gradient g is quantised on a regular polyhedron
(Sec. 3.2): its projections q^ = P g / ||g|| on the n face normals (rows of P) are
thresholded by t, the projection of one face normal on a neighbouring one
(q^'_i = max(0, q^_i - t); 1.29107 in the paper's unnormalised face centres, sqrt(5)/3 for unit
normals of the icosahedron), and rescaled so the gradient contributes its magnitude,
q = ||g|| q^' / ||q^'||. A cell's histogram sums the q of its S x S x S sub-blocks (Sec. 3.3);
the descriptor concatenates the cells' histograms and is L2-normalised (Sec. 3.4). The paper's
best setting is the icosahedron (20 bins) with full orientation and S = 3; the dodecahedron
(12) is the option. With ``full_orientation=False`` opposite directions share a bin (n / 2
bins, |projection|).

For micro-expressions (SCA's HOG3D baseline) the cells are the blocks of the clip's block
grid (``blocks.py``, 5 x 5 x 1); each is split into ``sub_blocks`` (S_X, S_Y, S_T). Gradients
are central differences (``numpy.gradient``, one-sided at the border), the paper's
[-1, 0, 1] filters. ``norm``: ``"descriptor"`` L2 over the whole vector (the paper), or
``l1`` / ``l2`` per cell.

**3DHOG** -- Polikovsky, Kameda & Ohta, "Facial Micro-Expressions Recognition using High Speed
Camera and 3D-Gradient Descriptor", ICDP 2009, Sec. 4: per facial region (here: per block),
the magnitude-weighted histograms of the 3-D gradient orientation expressed in two angles, the
orientation in the XY plane theta = atan2(G_y, G_x) in (-pi, pi] and the temporal elevation
phi = atan2(G_t, sqrt(G_x^2 + G_y^2)) in [-pi/2, pi/2]. The paper leaves the bin counts and
the histogram layout open: we default to 8 bins for each angle and the two marginal histograms
concatenated per block (``layout="marginal"``, 16 values); ``layout="joint"`` is the 2-D
theta x phi histogram. Each histogram is normalised by ``norm`` (``l1`` default).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from mejax.baselines import blocks
from mejax.baselines.lbp_top import _check_volume

POLYHEDRA = ("icosahedron", "dodecahedron")
_PHI = (1 + np.sqrt(5)) / 2


def _cyclic(a, b):
    """The cyclic permutations of (±a, ±b, 0) over the three axes."""
    points = []
    for sa in (1, -1):
        for sb in (1, -1):
            v = (sa * a, sb * b, 0.0)
            points += [v, (v[2], v[0], v[1]), (v[1], v[2], v[0])]
    return points


@functools.cache
def face_normals(polyhedron: str) -> tuple[np.ndarray, float]:
    """Unit face normals (n, 3) of a regular polyhedron, in (x, y, t) order, and the
    quantisation threshold t (cosine between neighbouring face normals)."""
    if polyhedron == "icosahedron":  # face normals = the dodecahedron's vertices
        cube = [(x, y, t) for x in (1, -1) for y in (1, -1) for t in (1, -1)]
        normals = np.array(cube + _cyclic(1 / _PHI, _PHI), np.float64)
    elif polyhedron == "dodecahedron":  # face normals = the icosahedron's vertices
        normals = np.array(_cyclic(1.0, _PHI), np.float64)
    else:
        raise ValueError(f"HOG3D: unknown polyhedron {polyhedron!r}; expected one of {POLYHEDRA}")
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    cosines = normals @ normals.T
    np.fill_diagonal(cosines, -np.inf)
    return normals, float(cosines.max())


def quantize(gradients: np.ndarray, polyhedron: str = "icosahedron", full_orientation=True):
    """Kläser's quantisation of mean gradients (..., 3) in (x, y, t) order: (..., bins)."""
    normals, threshold = face_normals(polyhedron)
    if not full_orientation:
        # One normal of each opposite pair: the first non-zero coordinate positive.
        first = normals[np.arange(len(normals)), np.argmax(np.abs(normals) > 1e-9, axis=1)]
        normals = normals[first > 0]
    norm = np.linalg.norm(gradients, axis=-1, keepdims=True)
    projection = gradients @ normals.T / np.where(norm > 0, norm, 1.0)
    if not full_orientation:
        projection = np.abs(projection)
    kept = np.maximum(projection - threshold, 0.0)
    kept_norm = np.linalg.norm(kept, axis=-1, keepdims=True)
    return norm * kept / np.where(kept_norm > 0, kept_norm, 1.0)


def _gradients(volume: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) gradient (d/dx, d/dy, d/dt) by central differences."""
    if min(volume.shape) < 2:
        raise ValueError(f"3-D gradients need at least 2 samples per axis, got {volume.shape}")
    g_t, g_y, g_x = np.gradient(volume)
    return np.stack([g_x, g_y, g_t], axis=-1)


def hog3d(
    volume,
    sub_blocks: Sequence[int] = (3, 3, 3),
    polyhedron: str = "icosahedron",
    full_orientation: bool = True,
    grid: Sequence[int] = (5, 5, 1),
    norm: str = "descriptor",
) -> np.ndarray:
    """HOG3D descriptor of a clip.

    Args:
      volume: (T, H, W) gray clip.
      sub_blocks: (S_X, S_Y, S_T) sub-blocks per cell (block).
      polyhedron: ``icosahedron`` (20 bins) or ``dodecahedron`` (12).
      full_orientation: False merges opposite directions (half the bins).
      grid: block (cell) grid (rows, columns, temporal segments).
      norm: ``descriptor`` (L2 over the whole vector, the paper), ``l1`` / ``l2`` per cell,
        ``none``.

    Returns:
      (num_blocks * bins,) float32.
    """
    volume = _check_volume(volume)
    rows, cols, segments = blocks.check_grid(grid)
    if len(sub_blocks) != 3 or min(sub_blocks) < 1:
        raise ValueError(f"HOG3D: sub_blocks {tuple(sub_blocks)} must be 3 integers >= 1")
    s_x, s_y, s_t = (int(s) for s in sub_blocks)
    t, h, w = volume.shape
    what = f"a {volume.shape} (T, H, W) volume with grid {tuple(grid)} and sub-blocks " + str(
        tuple(sub_blocks)
    )
    edges = (
        blocks.sub_edges(t, segments, s_t, f"the time of {what}"),
        blocks.sub_edges(h, rows, s_y, f"the height of {what}"),
        blocks.sub_edges(w, cols, s_x, f"the width of {what}"),
    )
    means = blocks.box_means(_gradients(volume), *edges)  # (segments*S_T, rows*S_Y, cols*S_X, 3)
    q = quantize(means, polyhedron, full_orientation)
    q = q.reshape(segments, s_t, rows, s_y, cols, s_x, -1).sum(axis=(1, 3, 5))
    hist = q.reshape(rows * cols * segments, -1)
    if norm == "descriptor":
        return blocks.normalize(hist.ravel(), "l2").astype(np.float32)
    return blocks.normalize(hist, norm).astype(np.float32).ravel()


HOG_LAYOUTS = ("marginal", "joint")


def hog3d_polikovsky(
    volume,
    xy_bins: int = 8,
    t_bins: int = 8,
    layout: str = "marginal",
    grid: Sequence[int] = (5, 5, 1),
    norm: str = "l1",
) -> np.ndarray:
    """Polikovsky et al.'s 3DHOG descriptor of a clip.

    Args:
      volume: (T, H, W) gray clip.
      xy_bins: bins of theta over (-pi, pi].
      t_bins: bins of phi over [-pi/2, pi/2].
      layout: ``marginal`` (theta and phi histograms concatenated) or ``joint`` (2-D).
      grid: block grid (rows, columns, temporal segments).
      norm: per-histogram normalisation.

    Returns:
      (num_blocks * (xy_bins + t_bins),) float32, or (num_blocks * xy_bins * t_bins,).
    """
    volume = _check_volume(volume)
    if xy_bins < 1 or t_bins < 1:
        raise ValueError(f"3DHOG: xy_bins {xy_bins} and t_bins {t_bins} must be >= 1")
    g = _gradients(volume)
    g_x, g_y, g_t = g[..., 0], g[..., 1], g[..., 2]
    planar = np.hypot(g_x, g_y)
    magnitude = np.sqrt(planar**2 + g_t**2)
    theta = np.arctan2(g_y, g_x)
    phi = np.arctan2(g_t, planar)
    theta_bin = np.minimum(((theta + np.pi) / (2 * np.pi) * xy_bins).astype(np.int64), xy_bins - 1)
    phi_bin = np.minimum(((phi + np.pi / 2) / np.pi * t_bins).astype(np.int64), t_bins - 1)
    labels, num_blocks = blocks.block_labels(volume.shape, grid)
    if layout == "marginal":
        hists = [
            blocks.normalize(
                blocks.histograms(labels, num_blocks, theta_bin, xy_bins, magnitude), norm
            ),
            blocks.normalize(
                blocks.histograms(labels, num_blocks, phi_bin, t_bins, magnitude), norm
            ),
        ]
    elif layout == "joint":
        joint = theta_bin * t_bins + phi_bin
        hists = [
            blocks.normalize(
                blocks.histograms(labels, num_blocks, joint, xy_bins * t_bins, magnitude), norm
            )
        ]
    else:
        raise ValueError(f"3DHOG: unknown layout {layout!r}; expected one of {HOG_LAYOUTS}")
    return np.concatenate(hists, axis=1).astype(np.float32).ravel()
