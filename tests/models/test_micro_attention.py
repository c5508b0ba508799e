"""Tests of the micro-attention network (Wang, Peng, Bi, Chen, Neurocomputing 2020): Table 3's
parameter counts, the attention unit against NumPy, the fixed channel mean (no parameter, so no
update), output shapes with and without attention, and Caffe's ceil-mode max-pool."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mejax import models
from mejax.models import micro_attention
from mejax.models.micro_attention import MicroAttentionNet, MicroAttentionUnit

FULL = jax.ShapeDtypeStruct((1, 224, 224, 1), jnp.float32)


def _count(tree) -> int:
    return sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(tree))


def _shapes(model, x):
    return jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), x)


def _variables(model, x, seed=1):
    """NumPy-filled variables (XLA on CPU compiles the initialisers' random draws slowly)."""
    rng = np.random.default_rng(seed)

    def fill(path, s):
        if path[-1].key in ("var", "scale"):
            return jnp.asarray(rng.uniform(0.5, 1.5, s.shape), s.dtype)
        return jnp.asarray(rng.normal(0.0, 0.3, s.shape), s.dtype)

    return jax.tree_util.tree_map_with_path(fill, _shapes(model, x))


# --- Table 3 ---------------------------------------------------------------------------------


def test_parameter_counts_match_table_3():
    """ResNet 4.9 M, micro-attention 5.9 M (4.900 M + 1.044 M): Flax's ``params`` (Caffe's
    learned blobs) of the full network, 5 classes, greyscale."""
    plain = _count(_shapes(MicroAttentionNet(5, attention=False), FULL)["params"])
    full = _shapes(MicroAttentionNet(5), FULL)
    attention = _count(full["params"])
    assert plain == 4_900_359
    assert attention - plain == 3 * sum(c * c for c in micro_attention.STAGES) == 1_044_480
    assert round(plain / 1e6, 1) == 4.9 and round(attention / 1e6, 1) == 5.9
    assert round(plain / 1e6, 3) == 4.900 and round((attention - plain) / 1e6, 3) == 1.044
    # BatchNorm running statistics are not parameters (Caffe's lr_mult 0).
    assert _count(full["batch_stats"]) == 3_970


def test_registered_in_the_model_registry():
    assert models.MODELS["micro_attention"] is MicroAttentionNet
    tiny = models.build({"name": "micro_attention_tiny", "attention": False}, num_outputs=3)
    assert isinstance(tiny, MicroAttentionNet)
    assert (tiny.width, tiny.attention, tiny.num_outputs) == (1 / 16, False, 3)


# --- the attention unit ----------------------------------------------------------------------


def test_unit_matches_numpy():
    rng = np.random.default_rng(0)
    channels = 4
    parts = [rng.normal(size=(2, 5, 6, channels)).astype(np.float32) for _ in range(3)]
    summed = rng.normal(size=(2, 5, 6, channels)).astype(np.float32)
    unit = MicroAttentionUnit(channels)
    variables = unit.init(jax.random.key(0), parts, summed)
    kernel = np.asarray(variables["params"]["conv"]["kernel"])
    assert kernel.shape == (1, 1, 3 * channels, channels)
    out, state = unit.apply(variables, parts, summed, mutable=["intermediates"])

    concat = np.concatenate(parts, axis=-1)  # [x or e, a1, r]
    conv = np.einsum("bhwi,io->bhwo", concat, kernel[0, 0])
    mask = 1.0 / (1.0 + np.exp(-conv.mean(axis=-1, keepdims=True)))
    np.testing.assert_allclose(out, summed + mask * summed, rtol=1e-5, atol=1e-5)
    (sown,) = state["intermediates"]["attention"]
    np.testing.assert_allclose(sown, mask, rtol=1e-5, atol=1e-6)
    assert sown.shape == (2, 5, 6, 1)


def test_fixed_mean_has_no_parameter_and_gets_no_update():
    """The unit's only parameter is the learned 3C -> C kernel; the C -> 1 channel mean is
    constant, so a gradient step can only touch that kernel."""
    shapes = _shapes(
        MicroAttentionNet(3, width=1 / 16), jax.ShapeDtypeStruct((1, 32, 32, 1), jnp.float32)
    )
    for label, channels in zip(
        micro_attention.STAGES, micro_attention.stage_channels(1 / 16), strict=True
    ):
        unit = shapes["params"][f"mask_Concat_{label}"]
        assert jax.tree.map(jnp.shape, unit) == {"conv": {"kernel": (1, 1, 3 * channels, channels)}}
        assert f"mask_Concat_{label}" not in shapes["batch_stats"]

    rng = np.random.default_rng(0)
    parts = [jnp.asarray(rng.normal(size=(2, 4, 4, 8)), jnp.float32) for _ in range(3)]
    summed = jnp.asarray(rng.normal(size=(2, 4, 4, 8)), jnp.float32)
    unit = MicroAttentionUnit(8)
    variables = unit.init(jax.random.key(0), parts, summed)
    assert list(variables) == ["params"]

    def loss(params):
        return jnp.sum(unit.apply({"params": params}, parts, summed) * jnp.arange(8.0))

    grads = jax.grad(loss)(variables["params"])
    assert jax.tree.map(jnp.shape, grads) == {"conv": {"kernel": (1, 1, 24, 8)}}
    assert float(jnp.abs(grads["conv"]["kernel"]).max()) > 0


# --- shapes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("attention", [True, False])
def test_output_shapes(attention):
    model = MicroAttentionNet(5, attention=attention, width=1 / 16)
    x = jnp.asarray(np.random.default_rng(1).uniform(0, 255, size=(2, 64, 64, 1)), jnp.float32)
    variables = _variables(model, x)
    out, state = model.apply(variables, x, train=True, mutable=["batch_stats", "intermediates"])
    assert set(out) == {"logits"} and out["logits"].shape == (2, 5)
    assert np.all(np.isfinite(out["logits"]))
    maps = state.get("intermediates", {})
    if attention:
        # 64^2 -> conv1 32^2 -> pool 16^2 -> stages 16, 8, 4, 2.
        expected = {
            f"mask_Concat_{c}": (2, s, s, 1)
            for c, s in zip(micro_attention.STAGES, (16, 8, 4, 2), strict=True)
        }
        assert {k: v["attention"][0].shape for k, v in maps.items()} == expected
    else:
        assert not maps
        assert not any(k.startswith("mask_") for k in variables["params"])
    eval_out = model.apply(variables, x, train=False)
    assert eval_out["logits"].shape == (2, 5)


def test_any_number_of_input_channels():
    shapes = _shapes(
        MicroAttentionNet(2, width=1 / 16), jax.ShapeDtypeStruct((1, 64, 64, 3), jnp.float32)
    )
    assert shapes["params"]["conv1"]["kernel"].shape == (7, 7, 3, 4)
    assert shapes["params"]["data_bn"]["scale"].shape == (3,)


def test_ceil_mode_max_pool():
    """224^2 -> conv1 112^2 -> Caffe's ceil-mode pool 56^2; windows start at 0 and the last
    (clipped) window sees only the border."""
    pooled = jax.eval_shape(
        micro_attention.caffe_max_pool, jax.ShapeDtypeStruct((1, 112, 112, 3), jnp.float32)
    )
    assert pooled.shape == (1, 56, 56, 3)
    for size in (5, 6, 7, 111, 113):  # ceil((H - 3) / 2) + 1
        out = jax.eval_shape(
            micro_attention.caffe_max_pool, jax.ShapeDtypeStruct((1, size, size, 1), jnp.float32)
        )
        assert out.shape[1] == math.ceil((size - 3) / 2) + 1
    row = jnp.asarray([-1.0, -2.0, -3.0, -4.0, -5.0, -6.0], jnp.float32)
    x = jnp.broadcast_to(row[None, :], (6, 6))[None, :, :, None]
    out = np.asarray(micro_attention.caffe_max_pool(x))[0, 0, :, 0]
    # Caffe: windows [0, 3), [2, 5), [4, 6): maxima -1, -3, -5 (torchvision's pad 1: -1, -2, -4).
    np.testing.assert_array_equal(out, [-1.0, -3.0, -5.0])
    # In the full network: stage 64 (and its attention map) at 56^2, stage 512 at 7^2.
    model = MicroAttentionNet(5)
    variables = _shapes(model, FULL)
    _, state = jax.eval_shape(
        lambda v, x: model.apply(v, x, train=False, mutable=["intermediates"]), variables, FULL
    )
    maps = state["intermediates"]
    assert maps["mask_Concat_64"]["attention"][0].shape == (1, 56, 56, 1)
    assert maps["mask_Concat_512"]["attention"][0].shape == (1, 7, 7, 1)
