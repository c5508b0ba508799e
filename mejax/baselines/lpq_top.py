"""LPQ and LPQ-TOP: local phase quantisation of a clip on three orthogonal planes.

**LPQ** -- Ojansivu & Heikkilä, "Blur Insensitive Texture Classification Using Local Phase
Quantization", ICISP 2008, Sec. 2. At every pixel x the short-term Fourier transform over the
M x M window N_x (uniform window, eq. 3)

    F(u, x) = sum_{y in N_x} f(x - y) exp(-j 2 pi u^T y)

is taken at the four frequencies u1 = [a, 0], u2 = [0, a], u3 = [a, a], u4 = [a, -a] with
a = 1/M (u = [horizontal, vertical]; ``lpq.m`` evaluates u4 as [-a, a], whose response is the
complex conjugate: the sign of its imaginary part, bit 7, is flipped; we follow ``lpq.m``);
the vector G = [Re F(u1), Im F(u1), ..., Re F(u4), Im F(u4)] is optionally decorrelated
(Sec. 2.1: pixel covariance rho^||x_i - x_j||, rho = 0.9, whitening by the SVD of the 8 x 8
covariance of G) and each component is quantised by its sign into bit j of an 8-bit
code (Sec. 2.2, eq. 6); the descriptor is the 256-bin histogram of the codes. Details follow
the authors' published ``lpq.m`` (the reference implementation the ME papers ran): responses
only where the window lies inside the image ("valid"), the component order above, bit =
component > 0, decorrelation on by default (``decorrelate``), the almost-unit diagonal
``diag(1.000007, ..., 1.000001, 1)`` that separates repeated eigenvalues before the SVD.
The SVD fixes each whitening vector only up to sign; we make each vector's largest entry
positive, so codes are deterministic (another sign convention flips bits, which permutes
histogram bins and leaves a standardised linear SVM unchanged).

**LPQ-TOP** -- Päivärinta, Rahtu & Heikkilä, "Volume Local Phase Quantization for
Blur-Insensitive Dynamic Texture Classification", SCIA 2011, Sec. 3 (LPQ-TOP): LPQ on the XY,
XT and YT planes of the volume, histograms concatenated. Windows are (W_X, W_Y, W_T), odd;
in a plane with unequal sides the frequency along each side is 1 / (its window side). The
published lpq.m defaults to a 3 x 3 window; we default to 7 (the support of LBP-TOP with
radius 3, the baseline it is compared with), a config option.

As in ``lbp_top.py``: ``border="volume"`` codes all planes at the centres whose three windows
lie inside the volume, ``border="plane"`` each plane on its own valid area; histograms per block
and plane, normalised by ``norm``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mejax.baselines import blocks
from mejax.baselines.lbp_top import _PLANE_AXES, BORDERS, PLANES, _check_volume, _window

_ALMOST_UNIT = np.array([1.000007, 1.000006, 1.000005, 1.000004, 1.000003, 1.000002, 1.000001, 1])


def stft_kernels(size_row: int, size_col: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(row kernel, column kernel) pairs of the four frequencies, lpq.m's order: u1 (row w0,
    column w1), u2 (w1, w0), u3 (w1, w1), u4 (w1, conj w1); w1(y) = exp(-j 2 pi y / M),
    y = -r..r."""

    def w1(size):
        y = np.arange(size) - (size - 1) // 2
        return np.exp(-2j * np.pi * y / size)

    w0_r, w1_r = np.ones(size_row, complex), w1(size_row)
    w0_c, w1_c = np.ones(size_col, complex), w1(size_col)
    return [(w0_r, w1_c), (w1_r, w0_c), (w1_r, w1_c), (w1_r, np.conj(w1_c))]


def whitening(size_row: int, size_col: int, rho: float = 0.9) -> np.ndarray:
    """(8, 8) matrix V^T applied to G (Sec. 2.1; rows of V^T are the whitening vectors)."""
    rows, cols = np.meshgrid(np.arange(size_row), np.arange(size_col), indexing="ij")
    positions = np.stack([rows.ravel(), cols.ravel()], 1).astype(np.float64)
    distance = np.sqrt(((positions[:, None] - positions[None]) ** 2).sum(-1))
    covariance = rho**distance
    filters = []
    for k_row, k_col in stft_kernels(size_row, size_col):
        q = np.outer(k_row, k_col).ravel()
        filters += [q.real, q.imag]
    m = np.stack(filters)
    d = m @ covariance @ m.T
    a = np.diag(_ALMOST_UNIT)
    _, _, vt = np.linalg.svd(a @ d @ a)
    # Sign convention: the largest-magnitude entry of each whitening vector is positive.
    signs = np.sign(vt[np.arange(8), np.argmax(np.abs(vt), axis=1)])
    return vt * signs[:, None]


def _filter_valid(x: np.ndarray, kernel: np.ndarray, axis: int) -> np.ndarray:
    """sum_y kernel(y) x(c - y) at every c whose window lies inside (valid convolution)."""
    n, m = x.shape[axis], len(kernel)
    r = (m - 1) // 2
    out = 0
    for k, weight in enumerate(kernel):
        y = k - r
        index = [slice(None)] * x.ndim
        index[axis] = slice(r - y, n - r - y)
        out = out + weight * x[tuple(index)]
    return out


def plane_codes(
    volume: np.ndarray,
    window,
    row_axis: int,
    col_axis: int,
    size_row: int,
    size_col: int,
    decorrelate: bool = True,
    rho: float = 0.9,
) -> np.ndarray:
    """8-bit LPQ codes of one plane orientation at every centre of ``window``."""
    r_row, r_col = (size_row - 1) // 2, (size_col - 1) // 2
    # The centres' windows: grow the centre window by the radii along the plane's axes.
    grown = list(window)
    grown[row_axis] = (window[row_axis][0] - r_row, window[row_axis][1] + r_row)
    grown[col_axis] = (window[col_axis][0] - r_col, window[col_axis][1] + r_col)
    sub = volume[tuple(slice(lo, hi) for lo, hi in grown)]
    components, along_rows = [], {}
    for k_row, k_col in stft_kernels(size_row, size_col):
        key = k_row.tobytes()  # the four frequencies share two row filters
        if key not in along_rows:
            along_rows[key] = _filter_valid(sub, k_row, row_axis)
        response = _filter_valid(along_rows[key], k_col, col_axis)
        components += [response.real, response.imag]
    g = np.stack(components, axis=-1)
    if decorrelate:
        g = g @ whitening(size_row, size_col, rho).T
    bits = (g > 0).astype(np.int64)
    return (bits << np.arange(8)).sum(-1)


def lpq(image, size: int = 3, decorrelate: bool = True, rho: float = 0.9) -> np.ndarray:
    """LPQ codes of a 2-D image over its valid area (lpq.m with mode ``"im"``)."""
    image = np.asarray(image, np.float64)
    if image.ndim != 2:
        raise ValueError(f"LPQ: expected an (H, W) image, got shape {image.shape}")
    r = _check_size(size, "LPQ")
    window = _window((1, *image.shape), (0, r, r), f"LPQ with a {size}x{size} window")
    return plane_codes(image[None], window, 1, 2, size, size, decorrelate, rho)[0]


def _check_size(size, what) -> int:
    if int(size) != size or size < 3 or size % 2 == 0:
        raise ValueError(f"{what}: window size {size} must be an odd integer >= 3")
    return (int(size) - 1) // 2


def lpq_top_codes(
    volume,
    windows: Sequence[int] = (7, 7, 7),
    decorrelate: bool = True,
    rho: float = 0.9,
    border: str = "volume",
) -> dict:
    """LPQ-TOP codes of each plane: ``{plane: (codes, window, 256)}`` (as ``lbp_top_codes``).

    Args:
      volume: (T, H, W) gray clip.
      windows: odd window sides (W_X, W_Y, W_T).
      decorrelate, rho: see the module docstring.
      border: ``volume`` or ``plane``.
    """
    volume = _check_volume(volume)
    if len(windows) != 3:
        raise ValueError(f"LPQ-TOP: windows {windows} must be (W_X, W_Y, W_T)")
    r_x, r_y, r_t = (_check_size(w, "LPQ-TOP") for w in windows)
    w_x, w_y, w_t = (int(w) for w in windows)
    sizes = {"xy": (w_y, w_x), "xt": (w_t, w_x), "yt": (w_t, w_y)}
    what = f"LPQ-TOP with windows {tuple(windows)}"
    if border == "volume":
        plane_windows = {p: _window(volume.shape, (r_t, r_y, r_x), what) for p in PLANES}
    elif border == "plane":
        margins = {"xy": (0, r_y, r_x), "xt": (r_t, 0, r_x), "yt": (r_t, r_y, 0)}
        plane_windows = {p: _window(volume.shape, margins[p], f"{what} ({p})") for p in PLANES}
    else:
        raise ValueError(f"LPQ-TOP: unknown border {border!r}; expected one of {BORDERS}")
    return {
        p: (
            plane_codes(volume, plane_windows[p], *_PLANE_AXES[p], *sizes[p], decorrelate, rho),
            plane_windows[p],
            256,
        )
        for p in PLANES
    }


def lpq_top(
    volume,
    windows: Sequence[int] = (7, 7, 7),
    decorrelate: bool = True,
    rho: float = 0.9,
    border: str = "volume",
    grid: Sequence[int] = (5, 5, 1),
    norm: str = "l1",
) -> np.ndarray:
    """LPQ-TOP descriptor: (num_blocks * 3 * 256,) float32, per block its XY, XT, YT
    histograms (arguments as :func:`lpq_top_codes`; ``grid`` and ``norm`` as ``lbp_top``)."""
    volume = _check_volume(volume)
    codes = lpq_top_codes(volume, windows, decorrelate, rho, border)
    return blocks.plane_histograms(volume.shape, codes, grid, norm)
