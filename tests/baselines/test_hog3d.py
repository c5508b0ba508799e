"""HOG3D (Kläser et al.) and 3DHOG (Polikovsky et al.): quantisation, motion, sizes."""

import numpy as np
import pytest

from mejax.baselines import blocks, hog3d


@pytest.mark.parametrize(
    "polyhedron, faces, threshold",
    [("icosahedron", 20, np.sqrt(5) / 3), ("dodecahedron", 12, 1 / np.sqrt(5))],
)
def test_polyhedra(polyhedron, faces, threshold):
    normals, t = hog3d.face_normals(polyhedron)
    assert normals.shape == (faces, 3)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0)
    np.testing.assert_allclose(t, threshold)
    # Kläser's threshold on the paper's scale (face centres of norm sqrt(3)) is 1.29107.
    if polyhedron == "icosahedron":
        np.testing.assert_allclose(np.sqrt(3) * t, 1.29107, atol=1e-4)
    # Every face has the same number of neighbours at the threshold (5 for the 12 pentagons,
    # 3 for the 20 triangles): the threshold is the cosine between adjacent faces.
    neighbours = np.isclose(normals @ normals.T, t).sum(1)
    assert set(neighbours.tolist()) == {3 if faces == 20 else 5}


def test_quantisation_keeps_the_magnitude_and_the_nearest_faces():
    normals, _ = hog3d.face_normals("icosahedron")
    q = hog3d.quantize(3.0 * normals)
    np.testing.assert_allclose(q, 3.0 * np.eye(20), atol=1e-12)  # a face normal: one bin
    between = normals[0] + normals[np.argsort(normals @ normals[0])[-2]]  # two adjacent faces
    q = hog3d.quantize(between)
    assert (q > 1e-9).sum() == 2
    np.testing.assert_allclose(np.linalg.norm(q), np.linalg.norm(between))
    np.testing.assert_allclose(hog3d.quantize(np.zeros(3)), 0.0)
    half = hog3d.quantize(np.stack([normals[0], -normals[0]]), full_orientation=False)
    assert half.shape == (2, 10)
    np.testing.assert_allclose(half[0], half[1])


def moving_pattern(velocity, shape=(6, 16, 16)):
    """A smooth pattern translating along x by ``velocity`` pixels per frame."""
    t, _, x = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    return 100 + 50 * np.sin(2 * np.pi * (x - velocity * t) / 8)


def test_motion_direction_changes_the_temporal_bins():
    normals, _ = hog3d.face_normals("icosahedron")
    # A pattern f(x - v t) has gradient (f', 0, -v f'): x and t components of opposite sign
    # for v > 0, the same sign for v < 0.
    for velocity, sign in ((1.0, -1), (-1.0, 1)):
        means = blocks.box_means(
            hog3d._gradients(moving_pattern(velocity)),
            [0, 6],
            [0, 16],
            np.arange(0, 17, 2),  # sub-blocks of a quarter period: mean gradients do not cancel
        )
        q = hog3d.quantize(means).reshape(-1, 20)
        weights = q.sum(0)
        products = np.sign(normals[:, 0] * normals[:, 2])
        assert weights[products == sign].sum() > 3 * weights[products == -sign].sum()
    right = hog3d.hog3d(moving_pattern(1.0), sub_blocks=(4, 1, 1), grid=(1, 1, 1))
    left = hog3d.hog3d(moving_pattern(-1.0), sub_blocks=(4, 1, 1), grid=(1, 1, 1))
    assert np.abs(right - left).sum() > 0.5


def test_box_means_match_direct_means():
    values = np.random.default_rng(0).random((5, 7, 9, 2))
    edges = ([0, 2, 5], [0, 3, 4, 7], [0, 9])
    means = blocks.box_means(values, *edges)
    assert means.shape == (2, 3, 1, 2)
    np.testing.assert_allclose(means[1, 1, 0], values[2:5, 3:4, 0:9].mean((0, 1, 2)))


def test_hog3d_length_norm_and_errors():
    vol = np.random.default_rng(1).integers(0, 256, (10, 40, 40))
    features = hog3d.hog3d(vol)
    assert features.shape == (25 * 20,)
    np.testing.assert_allclose(np.linalg.norm(features), 1.0, rtol=1e-5)
    assert hog3d.hog3d(vol, polyhedron="dodecahedron", norm="l1").shape == (25 * 12,)
    with pytest.raises(ValueError, match="time"):
        hog3d.hog3d(vol[:2], sub_blocks=(3, 3, 3))
    with pytest.raises(ValueError, match="polyhedron"):
        hog3d.hog3d(vol, polyhedron="cube")


def test_polikovsky_angles():
    # An intensity ramp along x, static: theta = 0 and phi = 0 everywhere.
    ramp = np.broadcast_to(np.arange(12.0) * 3, (4, 12, 12))
    features = hog3d.hog3d_polikovsky(ramp, xy_bins=8, t_bins=4, grid=(1, 1, 1))
    np.testing.assert_allclose(features, np.eye(8)[4].tolist() + np.eye(4)[2].tolist())
    # Brightening over time, flat in space: phi = pi/2 (last bin); theta = 0.
    flash = np.broadcast_to(np.arange(4.0)[:, None, None] * 5, (4, 12, 12))
    features = hog3d.hog3d_polikovsky(flash, xy_bins=8, t_bins=4, grid=(1, 1, 1))
    np.testing.assert_allclose(features[8:], np.eye(4)[3])
    vol = np.random.default_rng(2).integers(0, 256, (10, 40, 40))
    assert hog3d.hog3d_polikovsky(vol).shape == (25 * 16,)
    assert hog3d.hog3d_polikovsky(vol, layout="joint").shape == (25 * 64,)
