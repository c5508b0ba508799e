"""Tests of MER-auGCN (Zhou, Mao, Dong, Sec. III): output keys and shapes of every ablation, the
heads (AU attention, detectors, GCN layers, fusion) recomputed in NumPy, the unshared u/v
streams of Dual-Inception and its full-size parameter shapes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from mejax import au_graph, models
from mejax.models import au_gcn, dual_inception

TINY = {"filters": (2, 4), "backbone_features": 32, "detector_features": 8, "gcn_features": (16, 8)}
TINY_RESNET = {"backbone": "resnet18", "resnet_depth": 10, "resnet_width": 1 / 16}


def _flow(size, batch=2, seed=0):
    rng = np.random.default_rng(seed)
    return jnp.asarray(rng.normal(size=(batch, size, size, 2)), jnp.float32)


def _shapes(model, size, batch=2):
    """Output and parameter shapes without running the network."""
    outputs, variables = jax.eval_shape(
        lambda x: model.init_with_output(jax.random.key(0), x, train=False),
        jax.ShapeDtypeStruct((batch, size, size, 2), jnp.float32),
    )
    params = traverse_util.flatten_dict(variables["params"], sep="/")
    return outputs, {k: v.shape for k, v in params.items()}


def _variables(model, x, seed=1):
    """NumPy-filled variables (XLA on CPU compiles the initialisers' random draws slowly)."""
    shapes = jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), x)
    rng = np.random.default_rng(seed)

    def fill(path, s):
        if path[-1].key in ("var", "scale"):
            return jnp.asarray(rng.uniform(0.5, 1.5, s.shape), s.dtype)
        return jnp.asarray(rng.normal(0.0, 0.3, s.shape), s.dtype)

    return jax.tree_util.tree_map_with_path(fill, shapes)


# --- outputs of the ablations ----------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, size, nodes",
    [
        ({}, 28, 12),  # MER-auGCN
        ({"attention": "softmax"}, 28, 12),  # SoftmaxAtt
        ({"fusion": "concat"}, 28, 12),  # ConFeat
        ({"features": "au"}, 28, 12),  # AUFeat
        ({"features": "relation"}, 28, 12),  # RelFeat
        ({"graph": "dense"}, 28, 12),  # DenselyG
        ({"graph": "original"}, 28, 17),  # OriginalG
        ({"normalize_graph": True}, 28, 12),
        ({"aus": (1, 2, 4, 9, 12, 14, 17)}, 28, 7),  # the AU-detection nodes
        (TINY_RESNET, 64, 12),  # Resnet18 backbone with the AU branch
    ],
)
def test_output_shapes_of_the_ablations(overrides, size, nodes):
    model = au_gcn.AUGCN(5, **{**TINY, **overrides})
    outputs, params = _shapes(model, size)
    assert set(outputs) == {"logits", "au_logits"}
    assert outputs["logits"].shape == (2, 5) and outputs["au_logits"].shape == (2, nodes)
    assert len(model.nodes()) == nodes
    assert params["attention/kernel"] == (nodes, 32, 32)
    assert params["detector_hidden/kernel"] == (nodes, 32, 8)
    assert params["detector_out/kernel"] == (nodes, 8, 1)
    features = overrides.get("features", "both")
    has_gcn = features in ("both", "relation")
    has_au = features in ("both", "au")
    assert (params.get("gcn1/dense/kernel"), params.get("gcn2/dense/kernel")) == (
        ((32, 16), (16, 8)) if has_gcn else (None, None)
    )
    assert not any(k.startswith("gcn") and k.endswith("bias") for k in params)
    assert params.get("au_projection/kernel") == ((32, 8) if has_au else None)
    fused = 16 if overrides.get("fusion") == "concat" else 8
    assert params["classifier/kernel"] == (fused, 5)
    # No graph in the parameters: G is a constant.
    assert not any("adjacency" in k for k in params)


@pytest.mark.parametrize("overrides, size", [({}, 28), (TINY_RESNET, 64)])
def test_backbone_only(overrides, size):
    model = au_gcn.AUGCN(3, au_branch=False, **{**TINY, **overrides})
    outputs, params = _shapes(model, size)
    assert set(outputs) == {"logits"} and outputs["logits"].shape == (2, 3)
    assert {k.split("/")[0] for k in params} == {"backbone", "classifier"}
    assert params["classifier/kernel"] == (32, 3)


def test_resnet_backbone_has_two_resnet18_paths():
    model = au_gcn.AUGCN(5, backbone="resnet18", resnet_width=1 / 16)
    _, params = _shapes(model, 112)
    for stream in ("u", "v"):
        assert params[f"backbone/{stream}_resnet/conv1/kernel"] == (7, 7, 1, 4)
        blocks = {k.split("/")[2] for k in params if k.startswith(f"backbone/{stream}_resnet/l")}
        assert blocks == {f"layer{i}_{j}" for i in range(1, 5) for j in range(2)}
    assert params["backbone/fc/kernel"] == (2 * 32, 1024)


def test_registry_and_build():
    model = models.build({"name": "au_gcn_tiny"}, num_outputs=5)
    assert isinstance(model, au_gcn.AUGCN)
    outputs, params = _shapes(model, 28)
    assert outputs["logits"].shape == (2, 5) and outputs["au_logits"].shape == (2, 12)
    assert params["backbone/fc/kernel"][1] < 1024
    assert models.MODELS["au_gcn"] is au_gcn.AUGCN


def test_invalid_fields():
    x = jax.ShapeDtypeStruct((1, 28, 28, 2), jnp.float32)
    for overrides, match in (
        ({"fusion": "concat", "features": "au"}, "fusion='concat'"),
        ({"backbone": "vgg"}, "backbone"),
        ({"attention": "tanh"}, "attention"),
        ({"graph": "sparse"}, "graph"),
        ({"features": "all"}, "features"),
    ):
        model = au_gcn.AUGCN(5, **{**TINY, **overrides})
        with pytest.raises(ValueError, match=match):
            jax.eval_shape(lambda x, m=model: m.init(jax.random.key(0), x, train=False), x)
    with pytest.raises(ValueError, match="u, 1 = v"):
        jax.eval_shape(
            lambda x: au_gcn.AUGCN(5, **TINY).init(jax.random.key(0), x, train=False),
            jax.ShapeDtypeStruct((1, 28, 28, 3), jnp.float32),
        )


# --- the heads against NumPy -----------------------------------------------------------------


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize(
    "overrides",
    [{}, {"attention": "softmax", "fusion": "concat", "normalize_graph": True, "graph": "dense"}],
)
def test_heads_and_gcn_layers_match_numpy(overrides):
    model = au_gcn.AUGCN(5, **{**TINY, **overrides})
    x = _flow(28, batch=3)
    variables = _variables(model, x)
    outputs, state = jax.jit(
        lambda v, x: model.apply(v, x, train=False, mutable=["intermediates"])
    )(variables, x)
    inter = {k: np.asarray(v[0], np.float64) for k, v in state["intermediates"].items()}
    p = {
        k: np.asarray(v, np.float64)
        for k, v in traverse_util.flatten_dict(variables["params"], sep="/").items()
    }
    z = inter["z"]
    assert z.shape == (3, 32) and (z > 0).any()

    # AU attention: one Dense 32 -> 32 per node, gating z.
    gates = np.einsum("bf,kfo->bko", z, p["attention/kernel"]) + p["attention/bias"]
    gates = _softmax(gates) if overrides.get("attention") == "softmax" else _sigmoid(gates)
    attended = gates * z[:, None, :]
    np.testing.assert_allclose(inter["attended"], attended, rtol=1e-4, atol=1e-6)

    # AU detectors: per-node MLP 32 -> 8 -> ReLU -> 1.
    h = np.maximum(
        np.einsum("bkf,kfo->bko", attended, p["detector_hidden/kernel"])
        + p["detector_hidden/bias"],
        0,
    )
    au_logits = (np.einsum("bkf,kfo->bko", h, p["detector_out/kernel"]) + p["detector_out/bias"])[
        ..., 0
    ]
    np.testing.assert_allclose(outputs["au_logits"], au_logits, rtol=1e-4, atol=1e-5)

    # GCN: Z^{l+1} = ReLU(G Z^l W^l), no bias, with G from au_graph.
    g = au_graph.adjacency(model.nodes(), model.graph, normalize=model.normalize_graph).astype(
        np.float64
    )
    layer = attended
    for i in (1, 2):
        layer = np.maximum(np.einsum("kj,bjf,fo->bko", g, layer, p[f"gcn{i}/dense/kernel"]), 0)
        np.testing.assert_allclose(inter[f"gcn{i}_out"], layer, rtol=1e-4, atol=1e-5)
    assert (layer > 0).any()
    relation = layer.sum(axis=1)
    np.testing.assert_allclose(inter["relation_features"], relation, rtol=1e-4, atol=1e-5)

    # Fusion and classifier.
    au = attended.sum(axis=1) @ p["au_projection/kernel"] + p["au_projection/bias"]
    np.testing.assert_allclose(inter["au_features"], au, rtol=1e-4, atol=1e-5)
    fused = np.concatenate([au, relation], -1) if model.fusion == "concat" else au + relation
    logits = fused @ p["classifier/kernel"] + p["classifier/bias"]
    np.testing.assert_allclose(outputs["logits"], logits, rtol=1e-4, atol=1e-4)


def test_graph_convolution_layer_against_numpy():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(2, 12, 6)).astype(np.float32)
    g = au_graph.adjacency(au_graph.FINAL_NODES)
    layer = au_gcn.GraphConvolution(4)
    variables = layer.init(jax.random.key(0), z, g)
    assert set(traverse_util.flatten_dict(variables["params"], sep="/")) == {"dense/kernel"}
    w = np.asarray(variables["params"]["dense"]["kernel"])
    expected = np.maximum(np.einsum("kj,bjf,fo->bko", g, z, w), 0)
    np.testing.assert_allclose(layer.apply(variables, z, g), expected, rtol=1e-5, atol=1e-6)


# --- Dual-Inception --------------------------------------------------------------------------


def test_streams_are_unshared_and_each_sees_its_own_component():
    backbone = dual_inception.DualInception(filters=(2, 4), features=16)
    x = _flow(28, batch=1)
    variables = _variables(backbone, x)
    params = variables["params"]
    assert set(params) == {"u_stream", "v_stream", "fc"}
    u_leaves = jax.tree.leaves(params["u_stream"])
    v_leaves = jax.tree.leaves(params["v_stream"])
    assert [a.shape for a in u_leaves] == [a.shape for a in v_leaves]
    assert not any(np.array_equal(a, b) for a, b in zip(u_leaves, v_leaves, strict=True))

    @jax.jit
    def streams(x):
        _, state = backbone.apply(
            variables,
            x,
            capture_intermediates=lambda mdl, _: mdl.name in ("u_stream", "v_stream"),
            mutable=["intermediates"],
        )
        inter = state["intermediates"]
        return inter["u_stream"]["__call__"][0], inter["v_stream"]["__call__"][0]

    u, v = streams(x)
    assert u.shape == v.shape == (1, 7, 7, 16)
    u2, v2 = streams(x.at[..., 1].multiply(-2.0))  # only the v component changes
    np.testing.assert_array_equal(u2, u)
    assert not np.allclose(v2, v)
    u3, v3 = streams(x.at[..., 0].multiply(-2.0))  # only the u component changes
    np.testing.assert_array_equal(v3, v)
    assert not np.allclose(u3, u)


def test_full_size_dual_inception_parameters():
    x = jax.ShapeDtypeStruct((1, 28, 28, 2), jnp.float32)
    z, variables = jax.eval_shape(
        lambda x: dual_inception.DualInception().init_with_output(jax.random.key(0), x), x
    )
    assert z.shape == (1, 1024)
    params = {
        k: v.shape for k, v in traverse_util.flatten_dict(variables["params"], sep="/").items()
    }
    assert params["fc/kernel"] == (6272, 1024) and params["fc/bias"] == (1024,)
    for stream in ("u", "v"):
        first, second = f"{stream}_stream/inception1", f"{stream}_stream/inception2"
        assert params[f"{first}/branch1x1/kernel"] == (1, 1, 1, 6)
        assert params[f"{first}/branch3x3_reduce/kernel"] == (1, 1, 1, 6)
        assert params[f"{first}/branch3x3/kernel"] == (3, 3, 6, 6)
        assert params[f"{first}/branch5x5/kernel"] == (5, 5, 6, 6)
        assert params[f"{first}/branch_pool/kernel"] == (1, 1, 1, 6)
        assert params[f"{second}/branch1x1/kernel"] == (1, 1, 24, 16)
        assert params[f"{second}/branch3x3/kernel"] == (3, 3, 16, 16)
        assert params[f"{second}/branch5x5/kernel"] == (5, 5, 16, 16)
        assert params[f"{second}/branch_pool/kernel"] == (1, 1, 24, 16)
    # 2 streams x 2 modules x 6 convs, each with a bias; and the Dense.
    assert len(params) == 2 * 2 * 6 * 2 + 2
    stream_out = jax.eval_shape(
        lambda x: dual_inception.InceptionStream().init_with_output(jax.random.key(0), x)[0],
        jax.ShapeDtypeStruct((1, 28, 28, 1), jnp.float32),
    )
    assert stream_out.shape == (1, 7, 7, 64)


def test_full_size_au_gcn_parameters():
    _, params = _shapes(au_gcn.AUGCN(5), 28, batch=1)
    assert params["backbone/fc/kernel"] == (6272, 1024)
    assert params["attention/kernel"] == (12, 1024, 1024)
    assert params["detector_hidden/kernel"] == (12, 1024, 64)
    assert params["detector_out/kernel"] == (12, 64, 1)
    assert params["gcn1/dense/kernel"] == (1024, 256)
    assert params["gcn2/dense/kernel"] == (256, 64)
    assert params["au_projection/kernel"] == (1024, 64)
    assert params["classifier/kernel"] == (64, 5)


def test_resnet_backbone_runs_in_training_mode():
    model = au_gcn.AUGCN(5, **{**TINY, **TINY_RESNET})
    x = _flow(32)
    variables = _variables(model, x)
    outputs, state = jax.jit(lambda v, x: model.apply(v, x, train=True, mutable=["batch_stats"]))(
        variables, x
    )
    assert outputs["logits"].shape == (2, 5) and outputs["au_logits"].shape == (2, 12)
    assert np.all(np.isfinite(outputs["logits"]))
    assert set(state["batch_stats"]["backbone"]) == {"u_resnet", "v_resnet"}
