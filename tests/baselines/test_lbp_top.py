"""LBP-TOP and LBP-SIP: parity with scikit-image plane by plane, histograms, sizes, errors."""

import numpy as np
import pytest
from skimage.feature import local_binary_pattern

from mejax.baselines import lbp_top

SKIMAGE_METHOD = {"u2": "nri_uniform", "riu2": "uniform", "none": "default"}


def volume(shape=(9, 17, 19), levels=4, seed=0):
    # Few grey levels: many neighbours tie with their centre, the case where an interpolation
    # computed in another order would flip bits.
    return np.random.default_rng(seed).integers(0, levels, shape).astype(np.uint8)


def skimage_plane_codes(vol, plane, points, radius, method):
    """scikit-image's codes of every XY, XT or YT slice, stacked back into (T, H, W)."""
    if plane == "xy":
        return np.stack([local_binary_pattern(f, points, radius, method) for f in vol])
    if plane == "xt":
        return np.stack(
            [local_binary_pattern(vol[:, y], points, radius, method) for y in range(vol.shape[1])],
            axis=1,
        )
    return np.stack(
        [local_binary_pattern(vol[:, :, x], points, radius, method) for x in range(vol.shape[2])],
        axis=2,
    )


def crop(array, window):
    return array[tuple(slice(lo, hi) for lo, hi in window)]


@pytest.mark.parametrize("mapping", ["u2", "riu2", "none"])
@pytest.mark.parametrize("border", ["volume", "plane"])
@pytest.mark.parametrize("radius, points", [(3, 8), (2, 8), (1.5, 6)])
def test_codes_match_scikit_image_plane_by_plane(mapping, border, radius, points):
    vol = volume()
    codes = lbp_top.lbp_top_codes(vol, (radius,) * 3, (points,) * 3, mapping, border)
    for plane, (labels, window, num_labels) in codes.items():
        reference = skimage_plane_codes(vol, plane, points, radius, SKIMAGE_METHOD[mapping])
        np.testing.assert_array_equal(labels, crop(reference, window), err_msg=plane)
        assert labels.max() < num_labels


def test_the_parity_check_can_fail():
    # The comparison above is sensitive: the XT codes are not those of the YT slices, and a
    # different radius gives different codes.
    vol = volume(shape=(9, 19, 19))
    labels, window, _ = lbp_top.lbp_top_codes(vol)["xt"]
    wrong_plane = crop(skimage_plane_codes(vol, "yt", 8, 3, "nri_uniform"), window)
    wrong_radius = crop(skimage_plane_codes(vol, "xt", 8, 2, "nri_uniform"), window)
    assert not np.array_equal(labels, wrong_plane)
    assert not np.array_equal(labels, wrong_radius)


def test_u2_has_59_bins_for_8_points():
    table, num_labels = lbp_top.mapping_table(8, "u2")
    assert num_labels == 59 and len(np.unique(table)) == 59
    assert lbp_top.mapping_table(8, "riu2")[1] == 10
    assert lbp_top.mapping_table(4, "none")[1] == 16


def test_histograms_are_the_block_histograms_of_scikit_image_codes():
    vol = volume(shape=(8, 20, 24), levels=256, seed=1)
    grid = (2, 3, 1)
    descriptor = lbp_top.lbp_top(vol, grid=grid).reshape(6, 3, 59)
    # Reference: scikit-image codes, the volume interior, blocks cut with np.array_split over
    # the whole frame, np.histogram per block and plane, normalised to sum 1.
    window = ((3, 5), (3, 17), (3, 21))
    rows = np.array_split(np.arange(20), 2)
    cols = np.array_split(np.arange(24), 3)
    for p, plane in enumerate(lbp_top.PLANES):
        codes = skimage_plane_codes(vol, plane, 8, 3, "nri_uniform")[window[0][0] : window[0][1]]
        for b, (r, c) in enumerate((r, c) for r in rows for c in cols):
            r = r[(r >= window[1][0]) & (r < window[1][1])]
            c = c[(c >= window[2][0]) & (c < window[2][1])]
            hist = np.histogram(codes[:, r][:, :, c], bins=np.arange(60))[0]
            np.testing.assert_allclose(descriptor[b, p], hist / hist.sum(), rtol=1e-6)


def test_descriptor_length_and_normalisation():
    vol = volume(shape=(10, 40, 40), levels=256)
    features = lbp_top.lbp_top(vol)
    assert features.shape == (5 * 5 * 3 * 59,) and features.dtype == np.float32
    np.testing.assert_allclose(features.reshape(75, 59).sum(1), 1.0, rtol=1e-5)
    assert lbp_top.lbp_top(vol, mapping="riu2", grid=(2, 2, 2)).shape == (8 * 3 * 10,)


def test_volume_too_small_for_the_radius_names_shape_and_radius():
    with pytest.raises(ValueError) as error:
        lbp_top.lbp_top(np.zeros((6, 20, 20)), radii=(3, 3, 3))
    assert "(6, 20, 20)" in str(error.value) and "radii (3, 3, 3)" in str(error.value)
    with pytest.raises(ValueError, match="without a valid centre"):
        lbp_top.lbp_top(np.zeros((8, 12, 12)), grid=(5, 5, 1))


def test_lbp_sip_matches_a_per_pixel_loop():
    vol = volume(shape=(7, 9, 10), levels=3, seed=2).astype(np.float64)
    r_x, r_y, r_t = 2, 1, 2
    descriptor = lbp_top.lbp_sip(vol, (r_x, r_y, r_t), grid=(1, 1, 1), norm="none")
    spatial, temporal = np.zeros(16), np.zeros(4)
    for t in range(r_t, 7 - r_t):
        for y in range(r_y, 9 - r_y):
            for x in range(r_x, 10 - r_x):
                c = vol[t, y, x]
                s = [vol[t, y, x + r_x], vol[t, y - r_y, x], vol[t, y, x - r_x], vol[t, y + r_y, x]]
                spatial[sum(int(v >= c) << i for i, v in enumerate(s))] += 1
                e = [vol[t - r_t, y, x], vol[t + r_t, y, x]]
                temporal[sum(int(v >= c) << i for i, v in enumerate(e))] += 1
    np.testing.assert_array_equal(descriptor, np.concatenate([spatial, temporal]))
    assert lbp_top.lbp_sip(vol, (2, 1, 2), layout="joint", grid=(1, 1, 1)).shape == (64,)
    assert lbp_top.lbp_sip(volume((10, 40, 40)), grid=(5, 5, 1)).shape == (25 * 20,)
    with pytest.raises(ValueError, match="integers"):
        lbp_top.lbp_sip(vol, (1.5, 1, 1))
