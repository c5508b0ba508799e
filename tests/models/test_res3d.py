"""Res3D: the shapes of Hara et al.'s networks, the two shortcuts, and the stem's strides.
(Numerical parity with a PyTorch 3D ResNet is in tests/weights/test_torch_convert.py.)"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mejax.models import res3d, residual


def shapes(model, clips):
    variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), clips, train=False))
    endpoints = jax.eval_shape(lambda v: model.apply(v, clips, train=False), variables)
    return variables, {k: v.shape for k, v in endpoints.items()}


@pytest.mark.parametrize("depth, channels", [(18, 512), (50, 2048), (101, 2048)])
def test_sca_input_gives_a_1x4x4_layer4_map(depth, channels):
    _, out = shapes(res3d.Res3D(depth, "A", num_classes=7), jnp.zeros((1, 10, 112, 112, 3)))
    assert out["layer4"] == (1, 1, 4, 4, channels)
    assert out["stem"] == (1, 5, 28, 28, 64)
    assert out["logits"] == (1, 7)


def test_block_counts_follow_the_depth():
    variables, _ = shapes(res3d.Res3D(50, "B"), jnp.zeros((1, 4, 32, 32, 3)))
    blocks = [name for name in variables["params"] if name.startswith("layer")]
    assert len(blocks) == sum(res3d.DEPTHS[50][1]) == 16
    assert set(variables["params"]["layer1_0"]) >= {"conv3", "bn3", "downsample_conv"}


def test_shortcut_a_has_no_parameters_and_b_projects():
    a, _ = shapes(res3d.Res3D(18, "A"), jnp.zeros((1, 4, 32, 32, 3)))
    b, _ = shapes(res3d.Res3D(18, "B"), jnp.zeros((1, 4, 32, 32, 3)))
    assert "downsample_conv" not in a["params"]["layer2_0"]
    assert b["params"]["layer2_0"]["downsample_conv"]["kernel"].shape == (1, 1, 1, 64, 128)
    assert "downsample_conv" not in b["params"]["layer1_0"]  # same shape: identity


def test_shortcut_a_subsamples_and_appends_zero_channels():
    x = jnp.arange(2 * 4 * 4 * 4 * 3, dtype=jnp.float32).reshape(2, 4, 4, 4, 3)
    y = residual.shortcut_a(x, 5, 2)
    np.testing.assert_array_equal(y[..., :3], x[:, ::2, ::2, ::2])
    assert y.shape == (2, 2, 2, 2, 5) and not np.any(y[..., 3:])


def test_unknown_depth_and_shortcut_are_clear_errors():
    clips = jnp.zeros((1, 2, 16, 16, 3))
    with pytest.raises(ValueError, match="depth 20 not in"):
        res3d.Res3D(20).init(jax.random.PRNGKey(0), clips, train=False)
    with pytest.raises(ValueError, match="shortcut 'C' not in"):
        res3d.Res3D(18, "C").init(jax.random.PRNGKey(0), clips, train=False)
