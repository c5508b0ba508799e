"""Tests of TV-L1 in JAX against OpenCV's DualTVL1OpticalFlow and against known flow."""

from __future__ import annotations

import cv2
import jax.numpy as jnp
import numpy as np
import pytest

from mejax.preprocess import flow, flow_data

needs_contrib = pytest.mark.skipif(
    not hasattr(cv2, "optflow") or not hasattr(cv2.optflow, "DualTVL1OpticalFlow_create"),
    reason="OpenCV's TV-L1 needs opencv-contrib-python-headless (test extra)",
)

SIZE = 48


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).uniform(0, 255, (40, 36)).astype(np.float32)


def test_resize_matches_opencv(image):
    down = cv2.resize(image, None, fx=0.8, fy=0.8, interpolation=cv2.INTER_LINEAR)
    ours = flow.resize_linear(jnp.asarray(image), down.shape, (1.25, 1.25))
    np.testing.assert_allclose(ours, down, atol=1e-3)
    up = cv2.resize(image, (45, 50), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(flow.resize_linear(jnp.asarray(image), (50, 45)), up, atol=1e-3)
    assert flow.pyramid_shapes(64, 64, flow.TVL1Params()) == [
        (64, 64),
        (51, 51),
        (41, 41),
        (33, 33),
        (26, 26),
    ]
    assert len(flow.pyramid_shapes(24, 30, flow.TVL1Params())) == 2  # 24 -> 19 -> (15 < 16)


def test_remap_and_median_match_opencv(image):
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:40, 0:36].astype(np.float32)
    map_x = x + rng.uniform(-3, 3, x.shape).astype(np.float32)
    map_y = y + rng.uniform(-3, 3, y.shape).astype(np.float32)
    expected = cv2.remap(image, map_x, map_y, cv2.INTER_CUBIC)  # border: constant 0
    ours = flow.remap_cubic(jnp.asarray(image)[None], jnp.asarray(map_x), jnp.asarray(map_y))[0]
    np.testing.assert_allclose(ours, expected, atol=2e-2)
    np.testing.assert_allclose(flow.median_filter(jnp.asarray(image), 5), cv2.medianBlur(image, 5))


def test_gradient_and_divergence_are_adjoint(image):
    rng = np.random.default_rng(2)
    u = jnp.asarray(image)
    p1, p2 = (jnp.asarray(rng.normal(size=image.shape), jnp.float32) for _ in range(2))
    # The dual variable lives where the forward gradient does: zero on the last column / row.
    p1, p2 = p1.at[:, -1].set(0), p2.at[-1].set(0)
    ux, uy = flow.forward_gradient(u)
    # <grad u, p> = -<u, div p>: the pairing Chambolle's projection relies on.
    np.testing.assert_allclose(
        jnp.sum(ux * p1 + uy * p2), -jnp.sum(u * flow.divergence(p1, p2)), rtol=1e-4
    )
    dx, dy = flow.centered_gradient(jnp.asarray(image))
    np.testing.assert_allclose(dx[5, 0], 0.5 * (image[5, 1] - image[5, 0]), rtol=1e-6)
    np.testing.assert_allclose(dy[7, 9], 0.5 * (image[8, 9] - image[6, 9]), rtol=1e-6)


@needs_contrib
def test_tvl1_matches_opencv_and_the_known_flow():
    """3 ME-like synthetic pairs (0.2-2 px) and a real stereo pair, one batched call."""
    pairs = [flow_data.synthetic_pair(SIZE, seed) for seed in range(3)]
    left, right, disparity = flow_data.motorcycle_pair(0.125)
    crop = np.s_[8 : 8 + SIZE, 20 : 20 + SIZE]
    i0 = np.stack([p[0] for p in pairs] + [left[crop]])
    i1 = np.stack([p[1] for p in pairs] + [right[crop]])
    ours = np.asarray(flow.tvl1(i0, i1))
    assert ours.shape == (4, SIZE, SIZE, 2)
    opencv = np.stack([flow.tvl1_opencv(a, b) for a, b in zip(i0, i1, strict=True)])
    truth = np.stack([p[2] for p in pairs])
    epe_ours = flow.endpoint_error(ours[:3], truth)
    epe_opencv = flow.endpoint_error(opencv[:3], truth)
    # The flow is found with OpenCV's sign convention, I0(x) = I1(x + flow): zero flow would
    # score >= 0.2 px, the opposite sign about twice the mean motion.
    assert epe_ours < 0.3
    assert epe_ours <= 1.1 * epe_opencv
    for k in range(4):
        assert flow.endpoint_error(ours[k], opencv[k]) < 0.1, k
    # The real pair: both near the ground-truth disparity where it is known.
    known = np.isfinite(disparity[crop][..., 0])
    real_error = np.hypot(*(ours[3] - disparity[crop])[known].T).mean()
    assert real_error < 1.0


def test_farneback_finds_the_motion():
    i0, i1, truth = flow_data.synthetic_pair(SIZE, seed=1)
    assert flow.endpoint_error(flow.farneback(i0, i1), truth, border=4) < 0.5


def test_encodings():
    y, x = np.mgrid[0:16, 0:16].astype(np.float32)
    stretch = jnp.asarray(np.stack([0.1 * x, np.zeros_like(x)], -1))  # u = 0.1 x
    np.testing.assert_allclose(flow.optical_strain(stretch), 0.1, atol=1e-6)
    shear = jnp.asarray(np.stack([0.2 * y, np.zeros_like(x)], -1))  # e_xy = 0.1
    np.testing.assert_allclose(flow.optical_strain(shear), np.sqrt(2) * 0.1, atol=1e-6)
    right = jnp.zeros((4, 4, 2)).at[..., 0].set(2.0)
    np.testing.assert_array_equal(flow.hsv_image(right)[0, 0], [255, 0, 0])  # hue 0: red
    down = jnp.zeros((4, 4, 2)).at[..., 1].set(1.0).at[0, 0, 1].set(0.5)
    image = np.asarray(flow.hsv_image(down))
    assert image[1, 1, 0] > 0 and image[1, 1, 1] == 255 and image[1, 1, 2] == 0  # 90 deg
    assert image[0, 0].max() == 128  # half the magnitude: half the value
    assert flow.encode(right, "uvm").shape == (4, 4, 3)
    np.testing.assert_allclose(flow.encode(right, "uvm")[..., 2], 2.0)
    with pytest.raises(ValueError, match="unknown flow encoding 'rgb'"):
        flow.encode(right, "rgb")


def test_onset_apex_flow_errors_name_the_sample():
    frames = np.zeros((5, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="sub07_ep01: onset > apex"):
        flow.onset_apex_flow(frames, 3, 2, sample="sub07_ep01")
    with pytest.raises(ValueError, match="sub07_ep02: empty clip"):
        flow.onset_apex_flow(frames[:0], 0, 0, sample="sub07_ep02")
    with pytest.raises(ValueError, match="expected equal"):
        flow.tvl1(frames[0], frames[1, :16])
