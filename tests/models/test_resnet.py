"""Tests of the 2D ResNet: torchvision's parameter counts and endpoint shapes, the parameter
layout shared with Res3D, width, and a forward pass of a tiny variant in both modes."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from mejax.models.resnet import ENDPOINTS, ResNet

IMAGES = jax.ShapeDtypeStruct((1, 224, 224, 3), jnp.float32)
# torchvision.models.resnet{18,34,50,101,152}(num_classes=1000): parameters (not BN statistics).
TORCHVISION_PARAMETERS = {
    18: 11_689_512,
    34: 21_797_672,
    50: 25_557_032,
    101: 44_549_160,
    152: 60_192_808,
}


def _init_shapes(model, images=IMAGES):
    return jax.eval_shape(
        lambda x: model.init_with_output(jax.random.key(0), x, train=False), images
    )


@pytest.mark.parametrize("depth", sorted(TORCHVISION_PARAMETERS))
def test_parameter_counts_are_torchvisions(depth):
    _, variables = _init_shapes(ResNet(depth=depth, num_classes=1000))
    params = traverse_util.flatten_dict(variables["params"], sep="/")
    assert sum(math.prod(v.shape) for v in params.values()) == TORCHVISION_PARAMETERS[depth]


@pytest.mark.parametrize("depth, expansion", [(18, 1), (50, 4)])
def test_endpoint_shapes(depth, expansion):
    endpoints, _ = _init_shapes(ResNet(depth=depth, num_classes=7))
    assert set(endpoints) == {*ENDPOINTS, "pooled", "logits"}
    assert endpoints["stem"].shape == (1, 56, 56, 64)
    for layer, (size, channels) in enumerate([(56, 64), (28, 128), (14, 256), (7, 512)], 1):
        assert endpoints[f"layer{layer}"].shape == (1, size, size, channels * expansion)
    assert endpoints["logits"].shape == (1, 7)


def test_parameter_names_follow_torchvision():
    _, variables = _init_shapes(ResNet(depth=18, num_classes=10))
    params = traverse_util.flatten_dict(variables["params"], sep="/")
    assert params["conv1/kernel"].shape == (7, 7, 3, 64)
    assert params["layer2_0/downsample_conv/kernel"].shape == (1, 1, 64, 128)
    assert {"layer2_0/downsample_bn/scale", "layer1_1/bn2/bias", "fc/kernel"} <= set(params)
    # Shortcut projections only where the shape changes (layer1 of ResNet-18 keeps it).
    assert not any(key.startswith("layer1_0/downsample") for key in params)
    stats = traverse_util.flatten_dict(variables["batch_stats"], sep="/")
    assert set(stats) == {key.replace("/scale", "/mean") for key in params if "/scale" in key} | {
        key.replace("/scale", "/var") for key in params if "/scale" in key
    } | {"bn1/mean", "bn1/var"}


def test_bottleneck_strides_on_the_3x3_convolution():
    _, variables = _init_shapes(
        ResNet(depth=50, width=1 / 16), jax.ShapeDtypeStruct((1, 64, 64, 3), jnp.float32)
    )
    block = variables["params"]["layer2_0"]
    assert block["conv1"]["kernel"].shape[:2] == (1, 1)
    assert block["conv2"]["kernel"].shape[:2] == (3, 3)


def test_width_and_unknown_depth():
    endpoints, _ = _init_shapes(ResNet(depth=18, width=0.25))
    assert endpoints["layer4"].shape == (1, 7, 7, 128)
    with pytest.raises(ValueError, match="depth 20"):
        _init_shapes(ResNet(depth=20))


def test_tiny_forward_in_eval_and_train_mode():
    model = ResNet(depth=18, width=1 / 16, num_classes=3)
    images = jnp.asarray(np.random.default_rng(0).normal(size=(2, 32, 32, 3)), jnp.float32)

    # NumPy-filled variables: XLA on CPU compiles the initialisers' random draws for seconds.
    shapes = jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), images)
    rng = np.random.default_rng(1)
    variables = jax.tree.map(lambda s: jnp.asarray(rng.uniform(0.5, 1.5, s.shape), s.dtype), shapes)

    @jax.jit  # one compilation: op-by-op dispatch of the network takes longer
    def run(variables, images):
        endpoints = model.apply(variables, images, train=False)
        train_endpoints, updates = model.apply(
            variables, images, train=True, mutable=["batch_stats"]
        )
        return endpoints, train_endpoints, updates

    endpoints, train_endpoints, updates = run(variables, images)
    assert endpoints["logits"].shape == (2, 3) and np.isfinite(endpoints["logits"]).all()
    fc = variables["params"]["fc"]
    np.testing.assert_allclose(
        endpoints["logits"], endpoints["pooled"] @ fc["kernel"] + fc["bias"], rtol=1e-5, atol=1e-6
    )
    assert not np.allclose(train_endpoints["logits"], endpoints["logits"])
    old = traverse_util.flatten_dict(variables["batch_stats"])
    new = traverse_util.flatten_dict(updates["batch_stats"])
    assert all(not np.allclose(old[k], new[k]) for k in old)
