"""Tests of the Neural Micro-Expression Recognizer (Liu et al., MEGC2019, Sec. 3): the
gradient-reversal layer, the DANN lambda schedule of the recognition task, the top/bottom row
split of the layer4 map, output keys and shapes of the ablations, and eval-mode determinism."""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from mejax import models, tasks
from mejax.models import grl, part_mer, resnet

TINY = {"depth": 10, "width": 1 / 16}


def _images(size, batch=2, seed=0):
    rng = np.random.default_rng(seed)
    return jnp.asarray(rng.normal(size=(batch, size, size, 3)), jnp.float32)


def _variables(model, images, seed=1):
    """NumPy-filled variables (XLA on CPU compiles the initialisers' random draws slowly)."""
    shapes = jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), images)
    rng = np.random.default_rng(seed)

    def fill(path, s):
        if path[-1].key in ("var", "scale"):
            return jnp.asarray(rng.uniform(0.5, 1.5, s.shape), s.dtype)
        return jnp.asarray(rng.normal(0.0, 0.3, s.shape), s.dtype)

    return jax.tree_util.tree_map_with_path(fill, shapes)


# --- gradient reversal -----------------------------------------------------------------------


def test_reversal_is_identity_forward_and_scales_the_gradient_by_minus_lambda():
    rng = np.random.default_rng(0)
    features = jnp.asarray(rng.normal(size=(4, 128)), jnp.float32)
    w1 = jnp.asarray(rng.normal(size=(128, 64)) / math.sqrt(128), jnp.float32)
    w2 = jnp.asarray(rng.normal(size=(64, 1)) / math.sqrt(64), jnp.float32)

    def discriminator(h):
        return jnp.sum(jnp.tanh(nn.relu(h @ w1) @ w2))

    plain = jax.grad(discriminator)(features)
    assert np.abs(plain).min(axis=1).max() > 1e-3
    for lam in (0.0, 0.3, 1.0, 2.5):
        np.testing.assert_array_equal(grl.reverse_gradient(features, lam), features)
        reversed_ = jax.grad(lambda h, lam=lam: discriminator(grl.reverse_gradient(h, lam)))(
            features
        )
        np.testing.assert_allclose(reversed_, -lam * plain, rtol=1e-6, atol=1e-7)

    # lambda is a traced argument (no recompilation per value) with a zero cotangent.
    grad_x, grad_lam = jax.jit(
        jax.grad(lambda h, lam: discriminator(grl.reverse_gradient(h, lam)), argnums=(0, 1))
    )(features, jnp.float32(0.7))
    np.testing.assert_allclose(grad_x, -0.7 * plain, rtol=1e-6, atol=1e-7)
    assert float(grad_lam) == 0.0


def test_model_reverses_only_the_discriminators_gradient_into_the_features():
    model = part_mer.PartMER(3, **TINY)
    images = _images(64)
    variables = _variables(model, images)

    @jax.jit
    def grads(params, lam):
        def domain(params):
            out = model.apply({**variables, "params": params}, images, train=False, grl_lambda=lam)
            return jnp.sum(out["domain_logits"])

        return jax.grad(domain)(params)

    # lambda = -1 turns the reversal into the identity: the plain discriminator's gradient.
    plain, reversed_ = grads(variables["params"], -1.0), grads(variables["params"], 0.6)
    flat_plain = traverse_util.flatten_dict(plain, sep="/")
    flat_rev = traverse_util.flatten_dict(reversed_, sep="/")
    below = [k for k in flat_plain if not k.startswith("discriminator")]
    assert any(k.startswith("backbone/") for k in below) and "top_embed/kernel" in below
    for key in flat_plain:
        scale = 1.0 if key.startswith("discriminator") else -0.6
        # float32 sums reorder through the backbone: tolerance relative to the largest entry.
        atol = 1e-3 * float(np.abs(flat_plain[key]).max()) + 1e-9
        np.testing.assert_allclose(
            flat_rev[key], scale * flat_plain[key], rtol=1e-3, atol=atol, err_msg=key
        )
    assert np.abs(flat_plain["backbone/conv1/kernel"]).max() > 0
    # The classifiers do not feed the discriminator.
    assert not np.any(flat_plain["classifier/kernel"])


# --- lambda schedule -------------------------------------------------------------------------


def test_dann_schedule_of_the_recognition_task():
    task = tasks.Recognition(grl_schedule="dann")
    lam = lambda p: task.step_hparams(p)["model"]["grl_lambda"]
    assert lam(0.0) == 0.0
    assert lam(1.0) == pytest.approx(2 / (1 + math.exp(-10)) - 1, rel=1e-6)
    assert lam(0.5) == pytest.approx(2 / (1 + math.exp(-5)) - 1, rel=1e-6)
    assert isinstance(lam(0.3), np.float32)
    values = [lam(p) for p in np.linspace(0, 1, 21)]
    assert all(b > a for a, b in zip(values, values[1:], strict=False))
    assert 0.0 <= min(values) and max(values) < 1.0

    assert tasks.Recognition().step_hparams(0.5) == {}
    with pytest.raises(ValueError, match="grl_schedule"):
        tasks.Recognition(grl_schedule="linear")
    built = tasks.build({"label_set": "megc2019", "grl_schedule": "dann"})
    assert built.grl_schedule == "dann"
    assert tasks.build({"label_set": "megc2019"}).grl_schedule == ""


# --- part split ------------------------------------------------------------------------------


def test_split_rule():
    # round(3/7 * H), at least one row on each side.
    assert [part_mer.split_row(h) for h in (2, 3, 4, 5, 7, 14)] == [1, 1, 2, 2, 3, 6]
    with pytest.raises(ValueError, match="at least 2 rows"):
        part_mer.split_row(1)


@pytest.mark.parametrize("size, rows, top", [(224, 7, 3), (112, 4, 2), (64, 2, 1)])
def test_model_pools_the_top_and_bottom_rows_of_layer4(size, rows, top):
    model = part_mer.PartMER(3, **TINY)
    images = _images(size, batch=1)
    variables = _variables(model, images)

    @jax.jit
    def run(variables, images):
        return model.apply(
            variables,
            images,
            train=False,
            capture_intermediates=lambda mdl, _: mdl.name == "backbone",
            mutable=["intermediates"],
        )

    _, state = run(variables, images)
    inter = state["intermediates"]
    layer4 = np.asarray(inter["backbone"]["__call__"][0]["layer4"])
    assert layer4.shape[1] == rows and part_mer.split_row(rows) == top
    np.testing.assert_allclose(inter["top"][0], layer4[:, :top].mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(inter["bottom"][0], layer4[:, top:].mean(axis=(1, 2)), rtol=1e-5)
    assert not np.allclose(inter["top"][0], inter["bottom"][0])


# --- outputs, parameters, dropout ------------------------------------------------------------


@pytest.mark.parametrize("parts", [True, False])
@pytest.mark.parametrize("discriminator", [True, False])
def test_output_keys_and_shapes(parts, discriminator):
    model = part_mer.PartMER(5, parts=parts, discriminator=discriminator, **TINY)
    outputs, variables = jax.eval_shape(
        lambda x: model.init_with_output(jax.random.key(0), x, train=False),
        jax.ShapeDtypeStruct((2, 64, 64, 3), jnp.float32),
    )
    expected = {"logits"} | ({"aux_logits"} if parts else set())
    expected |= {"domain_logits"} if discriminator else set()
    assert set(outputs) == expected
    assert outputs["logits"].shape == (2, 5)
    if parts:
        assert [a.shape for a in outputs["aux_logits"]] == [(2, 5), (2, 5)]
    if discriminator:
        assert outputs["domain_logits"].shape == (2, 1)
    params = traverse_util.flatten_dict(variables["params"], sep="/")
    heads = {k.split("/")[0]: v.shape for k, v in params.items() if not k.startswith("backbone")}
    assert heads["classifier"] == (128, 5)
    if parts:
        assert heads["top_embed"] == heads["bottom_embed"] == (32, 64)  # 512 / 16 channels
        assert heads["top_classifier"] == heads["bottom_classifier"] == (64, 5)
    else:
        assert heads["embed"] == (32, 128) and "top_embed" not in heads
    if discriminator:
        assert [heads[f"discriminator_fc{i}"] for i in (1, 2)] == [(128, 64), (64, 32)]
        assert heads["discriminator_out"] == (32, 1)
    else:
        assert not any(k.startswith("discriminator") for k in heads)


def test_backbone_has_the_torchvision_resnet_names_and_heads_start_xavier_zero():
    images = jax.ShapeDtypeStruct((1, 224, 224, 3), jnp.float32)
    _, variables = jax.eval_shape(
        lambda x: part_mer.PartMER(3).init_with_output(jax.random.key(0), x, train=False), images
    )
    _, reference = jax.eval_shape(
        lambda x: resnet.ResNet(depth=18).init_with_output(jax.random.key(0), x, train=False),
        images,
    )
    shapes = lambda tree: {k: v.shape for k, v in traverse_util.flatten_dict(tree).items()}
    assert shapes(variables["params"]["backbone"]) == shapes(reference["params"])
    assert variables["params"]["top_embed"]["kernel"].shape == (512, 64)

    # The heads' initialisers, drawn once on their own (fast): Xavier-normal, zero bias.
    dense = part_mer._dense(256, "probe")
    params = dense.init(jax.random.key(0), jnp.zeros((1, 512)))["params"]
    assert not np.any(params["bias"])
    std = float(np.std(params["kernel"]))
    assert std == pytest.approx(math.sqrt(2 / (512 + 256)), rel=0.05)
    # Untruncated, as PyTorch's xavier_normal_: values beyond 2 std occur.
    assert np.abs(params["kernel"]).max() > 2.5 * math.sqrt(2 / (512 + 256))


def test_dropout_is_off_in_eval_and_on_in_training():
    model = part_mer.PartMER(3, **TINY)
    images = _images(64, batch=4)
    variables = _variables(model, images)

    @jax.jit
    def run(variables, images, key):
        evaluated = model.apply(variables, images, train=False, rngs={"dropout": key})
        trained, _ = model.apply(
            variables, images, train=True, rngs={"dropout": key}, mutable=["batch_stats"]
        )
        return evaluated, trained

    eval_a, train_a = run(variables, images, jax.random.key(0))
    eval_b, train_b = run(variables, images, jax.random.key(1))
    for key in ("logits", "domain_logits"):
        np.testing.assert_array_equal(eval_a[key], eval_b[key])
        assert not np.allclose(train_a[key], train_b[key])
    # Prediction calls the model without grl_lambda: same forward pass as any lambda.
    with_lambda = model.apply(variables, images, train=False, grl_lambda=0.9)
    np.testing.assert_allclose(with_lambda["domain_logits"], eval_a["domain_logits"], rtol=1e-5)


def test_registered_in_the_model_registry():
    tiny = models.build({"name": "part_mer_tiny", "discriminator": False}, num_outputs=3)
    assert isinstance(tiny, part_mer.PartMER)
    assert (tiny.depth, tiny.width, tiny.discriminator, tiny.num_outputs) == (10, 1 / 16, False, 3)
    full = models.build({"name": "part_mer"}, num_outputs=3)
    assert (full.depth, full.width, full.parts, full.discriminator) == (18, 1.0, True, True)


def test_imagenet_resnet_weights_initialise_the_backbone(tmp_path):
    """A torchvision-layout ResNet checkpoint (here a mejax ResNet's, saved flat) fills the
    recogniser's backbone through init_from; the heads keep their initial values."""
    from mejax.weights import init_from, npz

    x = jnp.zeros((1, 64, 64, 3))
    source = resnet.ResNet(depth=10, width=1 / 16, num_classes=1000)
    pretrained = source.init(jax.random.PRNGKey(1), x, train=False)
    path = npz.save(tmp_path / "resnet10.npz", dict(pretrained))
    model = part_mer.PartMER(num_outputs=3, depth=10, width=1 / 16)
    variables = model.init(jax.random.PRNGKey(0), x, train=False)
    loaded, report = init_from.initialize(
        {"params": variables["params"], "batch_stats": variables["batch_stats"]}, str(path)
    )
    for name in ("conv1", "layer4_0"):
        for got, want in zip(
            jax.tree.leaves(loaded["params"]["backbone"][name]),
            jax.tree.leaves(pretrained["params"][name]),
            strict=True,
        ):
            np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(
        loaded["params"]["classifier"]["kernel"], variables["params"]["classifier"]["kernel"]
    )
