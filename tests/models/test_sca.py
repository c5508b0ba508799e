"""SCA's second-order attention against a NumPy reference, its gradients, and the variants."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from mejax import models
from mejax.models import sca

EPS = 1e-5  # Flax BatchNorm's default epsilon


def random_stats(variables, rng):
    """Gives every BatchNorm random running statistics, so the reference sees them used."""
    return jax.tree.map(
        lambda x: jnp.asarray(rng.uniform(0.5, 2.0, x.shape), x.dtype), variables["batch_stats"]
    )


def bn(x, stats, params, axis):
    shape = [1] * x.ndim
    shape[axis] = -1
    scale = np.asarray(params["scale"]).reshape(shape)
    bias = np.asarray(params["bias"]).reshape(shape)
    mean = np.asarray(stats["mean"]).reshape(shape)
    var = np.asarray(stats["var"]).reshape(shape)
    return (x - mean) / np.sqrt(var + EPS) * scale + bias


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_cov(samples):
    """Covariance of the columns of (n, d) samples, normalised by n (np.cov's bias=True)."""
    return np.cov(samples, rowvar=False, bias=True)


def relu(x):
    return np.maximum(x, 0)


def numpy_channel_weights(flat, p, s, mode, channel_rows):
    """Channel attention of one clip's (N, C) features (eq. 1, GSoP's or the row-group reading).

    GSoP (its authors' ``chan_att``): 1x1 conv C -> c' + BN + ReLU, covariance, BN over rows,
    ``Conv2d(c', 4c', (c', 1), groups=c')`` (row r of the covariance -> 4 values), 1x1 conv
    4c' -> C, sigmoid."""
    c = flat.shape[1]
    if "reduce" in p:
        flat = flat @ np.asarray(p["reduce"]["kernel"])
        flat = relu(bn(flat, s["reduce_bn"], p["reduce_bn"], axis=1))
    cov = bn(numpy_cov(flat), s["cov_bn"], p["cov_bn"], axis=0)
    kernel, bias = np.asarray(p["row_conv"]["kernel"]), np.asarray(p["row_conv"]["bias"])
    if mode == "gsop":
        # PyTorch's grouped-conv weight (4c', 1, c', 1): output 4r + k reads row r with
        # weight[4r + k, 0, :, 0]; ours is kernel[r, :, k].
        torch_weight = np.stack([kernel[r, :, k] for r in range(len(cov)) for k in range(4)])
        z = np.asarray([torch_weight[o] @ cov[o // 4] for o in range(4 * len(cov))])
        z = z + bias.reshape(-1)
        z = z @ np.asarray(p["expand"]["kernel"]) + np.asarray(p["expand"]["bias"])
        return sigmoid(z)
    z = []
    for g in range(len(cov) // channel_rows):
        rows = cov[g * channel_rows : (g + 1) * channel_rows].reshape(-1)
        z.extend(rows @ kernel[g] + bias[g])
    z = np.array(z)
    if len(z) != c:
        z = relu(z) @ np.asarray(p["expand"]["kernel"]) + np.asarray(p["expand"]["bias"])
    return sigmoid(z)


def numpy_attention(x, params, stats, mode, channel_rows):
    """SCA attention (eq. 1-3) written out plainly: loops over clips, rows and groups."""
    b, t, h, w, c = x.shape
    out = np.zeros_like(x)
    for i in range(b):
        flat = x[i].reshape(t * h * w, c)
        channel_weights = numpy_channel_weights(
            flat, params["channel"], stats["channel"], mode, channel_rows
        )
        # Spatial attention: N x N covariance over channels, BN, row-wise conv, ReLU, 1x1 conv.
        p, s = params["spatial"], stats["spatial"]
        cov = bn(numpy_cov(flat.T), s["cov_bn"], p["cov_bn"], axis=0)
        kernel, bias = np.asarray(p["row_conv"]["kernel"]), np.asarray(p["row_conv"]["bias"])
        z = np.concatenate([cov[n] @ kernel[n] + bias[n] for n in range(len(cov))])
        z = relu(z) @ np.asarray(p["conv_1x1"]["kernel"]) + p["conv_1x1"]["bias"]
        position_weights = sigmoid(z)
        fusion = np.asarray(params["fusion_weights"])
        out[i] = fusion[0] * x[i] * channel_weights + fusion[1] * x[i] * position_weights.reshape(
            t, h, w, 1
        )
    return out


@pytest.mark.parametrize(
    "mode, reduction, channel_rows",
    [("gsop", 8, 4), ("gsop", None, 4), ("gsop", 64, 4), ("row_groups", None, 1),
     ("row_groups", None, 4), ("row_groups", 8, 2)],
)  # fmt: skip
def test_attention_matches_numpy_reference(mode, reduction, channel_rows):
    rng = np.random.default_rng(channel_rows)
    x = rng.normal(size=(2, 1, 4, 4, 16)).astype(np.float32)
    module = sca.SecondOrderAttention(
        "sca",
        "learned",
        channel_reduction=reduction,
        channel_rows=channel_rows,
        channel_attention=mode,
    )
    variables = module.init(jax.random.PRNGKey(0), x, train=False)
    # Flax's initial values (scaled by fan-in), perturbed: random enough to catch a transposed
    # kernel, small enough that no sigmoid saturates.
    params = jax.tree.map(
        lambda p: jnp.asarray(
            np.asarray(p) * rng.uniform(0.5, 1.5, p.shape) + 0.1 * rng.normal(size=p.shape),
            p.dtype,
        ),
        variables["params"],
    )
    stats = random_stats(variables, rng)
    got, state = module.apply(
        {"params": params, "batch_stats": stats}, x, train=False, mutable=["intermediates"]
    )
    expected = numpy_attention(x.astype(np.float64), params, stats, mode, channel_rows)
    np.testing.assert_allclose(got, expected, rtol=2e-4, atol=2e-5)
    weights = np.asarray(state["intermediates"]["channel_attention"][0])
    unsaturated = (weights > 1e-3) & (weights < 1 - 1e-3)
    assert unsaturated.mean() > 0.9, "saturated sigmoids: the check would be weak"


def test_gsop_channel_attention_shapes():
    """GSoP: C -> c' (capped at C), c' groups of 4 outputs, 4c' -> C."""
    x = jnp.zeros((2, 9, 16))
    for reduction, c_prime in ((8, 8), (64, 16), (None, 16)):
        module = sca.ChannelAttention(reduction)
        params = module.init(jax.random.PRNGKey(0), x, train=False)["params"]
        assert ("reduce" in params) == (reduction is not None)
        assert params["row_conv"]["kernel"].shape == (c_prime, c_prime, 4)
        assert params["expand"]["kernel"].shape == (4 * c_prime, 16)
        assert module.apply(
            module.init(jax.random.PRNGKey(0), x, train=False), x, train=False
        ).shape == (2, 16)
    with pytest.raises(ValueError, match="channel_attention 'se' not in"):
        sca.ChannelAttention(mode="se").init(jax.random.PRNGKey(0), x, train=False)


def test_covariances_match_numpy():
    x = np.random.default_rng(0).normal(size=(3, 12, 5)).astype(np.float32)
    for clip in range(3):
        np.testing.assert_allclose(
            sca.channel_covariance(x)[clip], numpy_cov(x[clip]), rtol=1e-5, atol=1e-6
        )
        np.testing.assert_allclose(
            sca.position_covariance(x)[clip], numpy_cov(x[clip].T), rtol=1e-5, atol=1e-6
        )


def test_attention_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 1, 3, 3, 8))
    with jax.enable_x64(True):
        x = jnp.asarray(x, jnp.float64)
        module = sca.SecondOrderAttention("sca", "learned", channel_reduction=4)
        variables = module.init(jax.random.PRNGKey(0), x, train=False)
        variables = jax.tree.map(lambda v: v.astype(jnp.float64), variables)

        @jax.jit
        def f(params, features):
            out = module.apply({**variables, "params": params}, features, train=False)
            return jnp.sum(jnp.sin(out))

        check_grads(f, (variables["params"], x), order=1, modes=("rev",), eps=1e-5)


def test_covariance_stays_float32_under_bfloat16():
    x = jnp.asarray(np.random.default_rng(2).normal(size=(2, 1, 4, 4, 8)), jnp.bfloat16)
    module = sca.SecondOrderAttention("sca", "learned")
    variables = module.init(jax.random.PRNGKey(0), x, train=False)
    _, state = module.apply(variables, x, train=False, mutable=["intermediates"])
    assert sca.channel_covariance(x.reshape(2, 16, 8)).dtype == jnp.float32
    assert state["intermediates"]["channel_attention"][0].dtype == jnp.float32
    assert state["intermediates"]["spatial_attention"][0].dtype == jnp.float32


@pytest.mark.parametrize(
    "attention, fusion, channels",
    [("none", "learned", 8), ("sa", "learned", 8), ("ca", "learned", 8),
     ("sca", "learned", 8), ("sca", "max", 8), ("sca", "avg", 8), ("sca", "concat", 16)],
)  # fmt: skip
def test_variants(attention, fusion, channels):
    x = jnp.asarray(np.random.default_rng(3).normal(size=(2, 1, 4, 4, 8)), jnp.float32)
    module = sca.SecondOrderAttention(attention, fusion)
    variables = module.init(jax.random.PRNGKey(0), x, train=False)
    out = module.apply(variables, x, train=False)
    assert out.shape == (2, 1, 4, 4, channels)
    names = set(variables.get("params", {}))
    assert ("channel" in names) == (attention in ("ca", "sca"))
    assert ("spatial" in names) == (attention in ("sa", "sca"))
    if attention == "sca" and fusion == "max":
        by_channel = module.apply(variables, x, train=False, mutable=["intermediates"])[1]
        weights = by_channel["intermediates"]["channel_attention"][0]
        assert np.all(np.asarray(out) >= np.asarray(x * weights[:, None, None, None, :]) - 1e-6)


def test_unknown_attention_is_a_clear_error():
    x = jnp.zeros((1, 1, 2, 2, 4))
    with pytest.raises(ValueError, match="attention 'cbam' not in"):
        sca.SecondOrderAttention("cbam").init(jax.random.PRNGKey(0), x, train=False)


def test_paper_shapes_res3d18_on_10x112():
    model = models.build({"name": "sca_classifier", "depth": 18, "attention": "sca"}, 8)
    clips = jnp.zeros((1, 10, 112, 112, 3))
    variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), clips, train=False))
    attention = variables["params"]["attention"]
    # GSoP: 512 -> 128 channels, 128 x 128 covariance, 128 row groups of 4 outputs, 512 -> 512;
    # spatial: 16 x 16 covariance -> 64 -> 16.
    assert attention["channel"]["reduce"]["kernel"].shape == (512, 128)
    assert attention["channel"]["row_conv"]["kernel"].shape == (128, 128, 4)
    assert attention["channel"]["expand"]["kernel"].shape == (512, 512)
    assert attention["spatial"]["row_conv"]["kernel"].shape == (16, 16, 4)
    assert attention["spatial"]["conv_1x1"]["kernel"].shape == (64, 16)
    logits = jax.eval_shape(lambda v: model.apply(v, clips, train=False), variables)
    assert logits.shape == (1, 8)
    # The earlier reading: no reduction, the 512 x 512 covariance read 4 rows per group.
    old = models.build(
        {"name": "sca_classifier", "depth": 18, "channel_attention": "row_groups",
         "channel_reduction": None},
        8,
    )  # fmt: skip
    variables = jax.eval_shape(lambda: old.init(jax.random.PRNGKey(0), clips, train=False))
    channel = variables["params"]["attention"]["channel"]
    assert set(channel) == {"cov_bn", "row_conv"}
    assert channel["row_conv"]["kernel"].shape == (128, 4 * 512, 4)
