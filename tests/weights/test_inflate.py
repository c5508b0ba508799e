"""Inflation (Carreira & Zisserman Sec. 2.2): kernels, and the boring-video property of a 2D
ResNet-18 inflated into Res3D-18."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mejax.models.res3d import Res3D
from mejax.models.resnet import ResNet
from mejax.weights import npz
from mejax.weights.inflate import inflate, inflate_kernel

WIDTH = 1 / 8
SIZE = 32
# Res3D-18 halves time five times (max-pool, layer2-4 are stride 2 in time too) and its layer4
# sees 221 input frames: 256 frames leave three layer4 frames untouched by the zero padding.
FRAMES = 256


def test_inflated_kernel_sums_to_the_2d_kernel_over_time():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 2, 4)).astype(np.float32)
    for method in ("mean", "center"):
        inflated = inflate_kernel(kernel, 5, method)
        assert inflated.shape == (5, 3, 3, 2, 4)
        np.testing.assert_allclose(inflated.sum(axis=0), kernel, rtol=1e-6)
    mean = inflate_kernel(kernel, 5)
    for tap in mean:
        np.testing.assert_allclose(tap, kernel / 5, rtol=1e-6)
    center = inflate_kernel(kernel, 5, "center")
    np.testing.assert_array_equal(center[2], kernel)
    assert not center[[0, 1, 3, 4]].any()
    with pytest.raises(ValueError, match="method"):
        inflate_kernel(kernel, 3, "random")


def test_shapes_that_do_not_inflate_are_named():
    variables_2d = {"params": {"conv": {"kernel": np.zeros((3, 3, 2, 4))}}}
    template = {"params": {"conv": {"kernel": jax.ShapeDtypeStruct((3, 3, 3, 2, 8), jnp.float32)}}}
    with pytest.raises(ValueError, match=r"conv/kernel: 2D shape \(3, 3, 2, 4\), 3D shape"):
        inflate(variables_2d, template)
    with pytest.raises(ValueError, match="no 2D variable .*params/conv/kernel"):
        inflate({"params": {}}, template)


def _random_variables(model, x, seed):
    shapes = jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), x)
    rng = np.random.default_rng(seed)

    def fill(path, leaf):
        name = path[-1].key
        if name == "kernel":
            value = rng.normal(size=leaf.shape) * math.sqrt(2 / math.prod(leaf.shape[:-1]))
        elif name in ("var", "scale"):
            value = rng.uniform(0.5, 1.5, leaf.shape)
        else:
            value = 0.1 * rng.normal(size=leaf.shape)
        return np.asarray(value, np.float32)

    return jax.tree_util.tree_map_with_path(fill, shapes)


def _clean_frames(frames: int) -> dict[str, range]:
    """Frames of each Res3D-18 endpoint whose temporal receptive field avoids the padding."""
    first, last, size = 0, frames - 1, frames

    def layer(kernel, stride, pad):
        nonlocal first, last, size
        size = (size + 2 * pad - kernel) // stride + 1
        first = math.ceil((first + pad) / stride)
        last = min(size - 1, (last + pad - kernel + 1) // stride)

    clean = {}
    layer(7, 1, 3)  # conv1
    layer(3, 2, 1)  # max-pool
    clean["stem"] = range(first, last + 1)
    for index in range(1, 5):
        for block in range(2):
            layer(3, 2 if index > 1 and block == 0 else 1, 1)
            layer(3, 1, 1)
        clean[f"layer{index}"] = range(first, last + 1)
    return clean


@pytest.fixture(scope="module")
def boring_video():
    """2D ResNet-18 endpoints on a frame, inflated Res3D-18 endpoints on the frame repeated."""
    frame = np.random.default_rng(1).normal(size=(1, SIZE, SIZE, 3)).astype(np.float32)
    clip = np.repeat(frame[:, None], FRAMES, axis=1)
    net_2d = ResNet(depth=18, width=WIDTH)
    net_3d = Res3D(depth=18, shortcut="B", width=WIDTH)
    variables_2d = _random_variables(net_2d, frame, seed=2)
    template = jax.eval_shape(lambda x: net_3d.init(jax.random.key(0), x, train=False), clip)
    variables_3d = inflate(variables_2d, template)

    apply_3d = jax.jit(lambda v, x: net_3d.apply(v, x, train=False))
    return (
        jax.jit(lambda v, x: net_2d.apply(v, x, train=False))(variables_2d, frame),
        apply_3d(variables_3d, clip),
        variables_2d,
        template,
        lambda variables: apply_3d(variables, clip),
    )


def test_boring_video_gives_the_2d_activations(boring_video):
    endpoints_2d, endpoints_3d, *_ = boring_video
    clean = _clean_frames(FRAMES)
    assert len(clean["layer4"]) == 3
    for name, frames in clean.items():
        ours, theirs = np.asarray(endpoints_3d[name]), np.asarray(endpoints_2d[name])
        assert ours.shape[2:] == theirs.shape[1:], name
        scale = float(np.abs(theirs).max())
        for t in frames:
            np.testing.assert_allclose(
                ours[0, t], theirs[0], rtol=1e-4, atol=1e-5 * scale, err_msg=f"{name}[{t}]"
            )
        # The first frame sees the zero padding in time: the equality is not automatic.
        assert not np.allclose(ours[0, 0], theirs[0], rtol=1e-3, atol=1e-3 * scale), name


def test_boring_video_needs_the_division_by_the_temporal_size(boring_video):
    endpoints_2d, _, variables_2d, template, apply_3d = boring_video
    repeated = jax.tree.map(
        lambda v, t: np.repeat(v[None], t.shape[0], axis=0) if v.ndim + 1 == len(t.shape) else v,
        {"params": variables_2d["params"], "batch_stats": variables_2d["batch_stats"]},
        dict(template),
    )
    stem = np.asarray(apply_3d(repeated)["stem"])[0, _clean_frames(FRAMES)["stem"][0]]
    assert not np.allclose(stem, np.asarray(endpoints_2d["stem"])[0], rtol=1e-2)


def test_inflated_variables_are_the_2d_ones_where_no_time_axis_is_added(boring_video):
    _, _, variables_2d, template, _ = boring_video
    variables_3d = npz.flatten(inflate(variables_2d, template))
    source = npz.flatten(variables_2d)
    assert set(variables_3d) == set(source)  # same names
    for key, value in variables_3d.items():
        if value.ndim == 5:
            np.testing.assert_allclose(value.sum(axis=0), source[key], rtol=1e-5, atol=1e-7)
        else:
            np.testing.assert_array_equal(value, source[key])
