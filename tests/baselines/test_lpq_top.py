"""LPQ and LPQ-TOP: parity with a direct implementation of the published formula."""

import numpy as np
import pytest

from mejax.baselines import lpq_top


def direct_lpq(image, size, decorrelate, rho=0.9):
    """Ojansivu & Heikkilä (ICISP 2008), eq. 3-6, pixel by pixel: F(u, x) =
    sum_y f(x - y) exp(-j 2 pi u^T y) over the size x size window, G = [Re, Im] at the four
    frequencies (u = (u_x, u_y); u4 as the published lpq.m takes it, (-a, a)), optionally
    whitened, bit j = G_j >= 0."""
    a, r = 1.0 / size, (size - 1) // 2
    frequencies = [(a, 0), (0, a), (a, a), (-a, a)]
    if decorrelate:
        # Sec. 2.1: covariance rho^distance of the window's pixels, G = M f_x, D = M C M^T,
        # whitening by the singular vectors of D (lpq.m's almost-unit diagonal against ties;
        # sign convention: each vector's largest entry positive).
        ys, xs = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1), indexing="ij")
        ys, xs = ys.ravel(), xs.ravel()
        distance = np.hypot(ys[:, None] - ys[None], xs[:, None] - xs[None])
        m = []
        for ux, uy in frequencies:
            w = np.exp(-2j * np.pi * (ux * xs + uy * ys))
            m += [w.real, w.imag]
        d = np.array(m) @ rho**distance @ np.array(m).T
        scale = np.diag([1.000007, 1.000006, 1.000005, 1.000004, 1.000003, 1.000002, 1.000001, 1])
        vt = np.linalg.svd(scale @ d @ scale)[2]
        vt *= np.sign(vt[np.arange(8), np.argmax(np.abs(vt), 1)])[:, None]
    height, width = image.shape
    codes = np.zeros((height - 2 * r, width - 2 * r), np.int64)
    for i in range(r, height - r):
        for j in range(r, width - r):
            g = []
            for ux, uy in frequencies:
                f = sum(
                    image[i - dy, j - dx] * np.exp(-2j * np.pi * (ux * dx + uy * dy))
                    for dy in range(-r, r + 1)
                    for dx in range(-r, r + 1)
                )
                g += [f.real, f.imag]
            g = vt @ np.array(g) if decorrelate else np.array(g)
            codes[i - r, j - r] = sum(int(v >= 0) << k for k, v in enumerate(g))
    return codes


@pytest.mark.parametrize("decorrelate", [False, True])
@pytest.mark.parametrize("size", [3, 5])
def test_lpq_matches_the_published_formula(decorrelate, size):
    image = np.random.default_rng(size).random((11, 13)) * 255
    np.testing.assert_array_equal(
        lpq_top.lpq(image, size, decorrelate), direct_lpq(image, size, decorrelate)
    )


def test_the_parity_check_can_fail():
    image = np.random.default_rng(0).random((11, 13)) * 255
    codes = lpq_top.lpq(image, 5, decorrelate=False)
    assert not np.array_equal(codes, direct_lpq(image.T, 5, False).T)  # transposed frequencies
    assert not np.array_equal(codes, lpq_top.lpq(image, 5, decorrelate=True))


def test_lpq_top_planes_are_lpq_of_the_slices():
    vol = np.random.default_rng(1).integers(0, 256, (7, 9, 11)).astype(np.float64)
    codes = lpq_top.lpq_top_codes(vol, windows=(3, 3, 5), border="plane")
    xy, window, _ = codes["xy"]
    assert window == ((0, 7), (1, 8), (1, 10))
    for t in range(7):
        np.testing.assert_array_equal(xy[t], lpq_top.lpq(vol[t], 3))
    # XT: rows are t (window 5), columns x (window 3); a non-square window uses a = 1/side
    # per side, which the 2-D helper does not cover, so compare the square YT case instead.
    yt, window, _ = lpq_top.lpq_top_codes(vol, windows=(5, 5, 5), border="plane")["yt"]
    assert window == ((2, 5), (2, 7), (0, 11))
    for x in range(11):
        np.testing.assert_array_equal(yt[:, :, x], lpq_top.lpq(vol[:, :, x], 5))


def test_descriptor_length_and_errors():
    vol = np.random.default_rng(2).integers(0, 256, (10, 40, 40))
    features = lpq_top.lpq_top(vol)
    assert features.shape == (5 * 5 * 3 * 256,)
    np.testing.assert_allclose(features.reshape(75, 256).sum(1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="odd"):
        lpq_top.lpq_top(vol, windows=(4, 7, 7))
    with pytest.raises(ValueError) as error:
        lpq_top.lpq_top(vol[:5], windows=(7, 7, 7))
    assert "(5, 40, 40)" in str(error.value) and "windows (7, 7, 7)" in str(error.value)
