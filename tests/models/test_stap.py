"""Tests of the STAP head (ROI bands, adaptive spatial and temporal pooling), the I3D head and the
classifier that puts either on the I3D backbone."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mejax.models.stap import I3DClassifier, I3DHead, STAPHead, roi_candidates, temporal_pool

TINY_CLIPS = (2, 8, 64, 64, 3)
# Compiling the tiny network with XLA's CPU optimisations on takes four times as long.
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


def _random(shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _head_params(head, features, seed=0):
    """The head's variables (a Dense kernel and bias), filled with NumPy random numbers."""
    shapes = jax.eval_shape(lambda x: head.init(jax.random.key(0), x, train=False), features)
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda s: rng.normal(size=s.shape).astype(np.float32), shapes)


# --- ROI candidates ------------------------------------------------------------------------------


def test_roi_candidates_average_adjacent_rows_over_the_full_width():
    # One clip, T=2, H=4 rows, W=3 columns, C=2 channels.
    channel_0 = np.array([[1, 2, 3], [5, 7, 0], [4, 4, 4], [9, 0, 6]], np.float32)
    channel_1 = np.array([[0, 0, 0], [6, 0, 0], [0, 0, 0], [0, 0, 12]], np.float32)
    frame_0 = np.stack([channel_0, channel_1], axis=-1)
    frame_1 = np.stack([channel_0 + 1, np.zeros_like(channel_1)], axis=-1)
    features = np.stack([frame_0, frame_1])[None]  # (1, 2, 4, 3, 2)

    # Rows 0-1, 1-2, 2-3: channel 0 sums 18, 24, 27 over 6 pixels; channel 1 sums 6, 6, 12.
    expected = np.array(
        [[[[3.0, 1.0], [4.0, 1.0], [4.5, 2.0]], [[4.0, 0.0], [5.0, 0.0], [5.5, 0.0]]]]
    )
    bands = roi_candidates(jnp.asarray(features))
    assert bands.shape == (1, 2, 3, 2)
    np.testing.assert_allclose(bands, expected, rtol=1e-6)

    # Three-row bands: rows 0-2 and 1-3 over 9 pixels.
    bands = roi_candidates(jnp.asarray(features), rows=3)
    expected = np.array([[[[30 / 9, 6 / 9], [39 / 9, 18 / 9]], [[39 / 9, 0], [48 / 9, 0]]]])
    np.testing.assert_allclose(bands, expected, rtol=1e-6)


def test_roi_candidates_clip_the_band_to_a_single_row_map():
    features = jnp.asarray([1.0, 2.0, 3.0, 6.0]).reshape(1, 1, 1, 4, 1)  # H=1, W=4
    bands = roi_candidates(features)
    assert bands.shape == (1, 1, 1, 1)
    np.testing.assert_allclose(bands, [[[[3.0]]]])


# --- Temporal pooling ----------------------------------------------------------------------------

# Per-step (absent, present) logits of two clips of three steps. Margins z1 - z0: (1, -2, 0) and
# (0, 4, -1), so the clips' evidence peaks at steps 0 and 1.
STEP_LOGITS = np.array([[[0, 1], [2, 0], [1, 1]], [[3, 3], [0, 4], [1, 0]]], np.float32)


def test_temporal_softmax_pooling_weights_steps_by_their_margin():
    # Clip 0: weights w = softmax(1, -2, 0) = (0.70538, 0.03512, 0.25950), pooled logits
    # (2 w1 + w2, w0 + w2). Clip 1: w = softmax(0, 4, -1), pooled (3 w0 + w2, 3 w0 + 4 w1).
    expected = [[0.32973451, 0.96488097], [0.06017721, 3.95583897]]
    np.testing.assert_allclose(temporal_pool(jnp.asarray(STEP_LOGITS)), expected, rtol=1e-6)
    np.testing.assert_allclose(
        temporal_pool(jnp.asarray(STEP_LOGITS), "softmax"), expected, rtol=1e-6
    )


def test_temporal_softmax_pooling_ignores_a_shift_of_both_logits():
    shifted = STEP_LOGITS + np.array([[[5], [-3], [0.5]]], np.float32)  # per-step shift
    expected = np.einsum(
        "bt,btk->bk",
        jax.nn.softmax(STEP_LOGITS[..., 1] - STEP_LOGITS[..., 0], axis=1),
        shifted,
    )
    np.testing.assert_allclose(temporal_pool(jnp.asarray(shifted)), expected, rtol=1e-6)


def test_temporal_avg_and_max_pooling():
    np.testing.assert_allclose(
        temporal_pool(jnp.asarray(STEP_LOGITS), "avg"), [[1, 2 / 3], [4 / 3, 7 / 3]], rtol=1e-6
    )
    # The steps of the largest margin: step 0 of clip 0, step 1 of clip 1.
    np.testing.assert_array_equal(temporal_pool(jnp.asarray(STEP_LOGITS), "max"), [[0, 1], [0, 4]])


def test_unknown_temporal_pooling_raises():
    with pytest.raises(ValueError, match="temporal pooling"):
        temporal_pool(jnp.asarray(STEP_LOGITS), "median")


# --- STAP head -----------------------------------------------------------------------------------


def _stap_reference(features, kernel, bias, rows, pooling):
    _, _, height, _, _ = features.shape
    rows = min(rows, height)
    bands = np.stack(
        [features[:, :, r : r + rows].mean(axis=(2, 3)) for r in range(height - rows + 1)], axis=2
    )  # (B, T, bands, C)
    step_logits = bands.max(axis=2) @ kernel + bias  # (B, T, 2)
    margin = step_logits[..., 1] - step_logits[..., 0]
    if pooling == "softmax":
        weights = np.exp(margin - margin.max(axis=1, keepdims=True))
        weights /= weights.sum(axis=1, keepdims=True)
    elif pooling == "avg":
        weights = np.full(margin.shape, 1 / margin.shape[1])
    else:
        weights = np.eye(margin.shape[1])[margin.argmax(axis=1)]
    return (weights[..., None] * step_logits).sum(axis=1)


@pytest.mark.parametrize(
    "pooling, rows, shape",
    [
        ("softmax", 2, (2, 3, 4, 5, 6)),
        ("softmax", 3, (2, 3, 5, 4, 6)),
        ("softmax", 2, (2, 2, 1, 3, 6)),  # one row: a single band
        ("avg", 2, (2, 3, 4, 5, 6)),
        ("max", 2, (2, 3, 4, 5, 6)),
    ],
)
def test_stap_head_matches_numpy_reference(pooling, rows, shape):
    features = _random(shape, 1)
    head = STAPHead(roi_rows=rows, temporal_pooling=pooling)
    variables = _head_params(head, features)
    kernel = variables["params"]["Conv3d_0c_1x1"]["kernel"]
    assert kernel.shape == (shape[-1], 2)
    bias = variables["params"]["Conv3d_0c_1x1"]["bias"]

    logits = head.apply(variables, jnp.asarray(features), train=False)
    assert logits.shape == (shape[0], 2)
    expected = _stap_reference(features, kernel, bias, rows, pooling)
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)


def test_stap_head_dropout_only_in_train_mode():
    features = jnp.asarray(_random((2, 3, 4, 5, 6), 2))
    head = STAPHead()
    variables = _head_params(head, features)
    eval_logits = head.apply(variables, features, train=False)
    train = functools.partial(head.apply, variables, features, train=True)
    assert not np.allclose(train(rngs={"dropout": jax.random.key(0)}), eval_logits)
    no_dropout = STAPHead(dropout_rate=0.0).apply(
        variables, features, train=True, rngs={"dropout": jax.random.key(0)}
    )
    np.testing.assert_allclose(no_dropout, eval_logits, rtol=1e-6)


# --- I3D head ------------------------------------------------------------------------------------


def _i3d_head_reference(features, kernel, bias):
    frames = min(2, features.shape[1])
    windows = features.shape[1] - frames + 1  # stride 1, VALID
    pooled = np.stack(
        [features[:, t : t + frames].mean(axis=(1, 2, 3)) for t in range(windows)], axis=1
    )
    return (pooled @ kernel + bias).mean(axis=1)


@pytest.mark.parametrize(
    "time, height, width",
    [
        (2, 3, 4),  # T'=2: one window
        (1, 3, 4),  # T'=1: the window shrinks to one step
        (2, 1, 1),  # H'=W'=1
        (1, 1, 1),
        (4, 2, 2),  # three overlapping windows: the ends count half as much as the middle
    ],
)
def test_i3d_head_matches_numpy_reference(time, height, width):
    features = _random((2, time, height, width, 8), 3)
    head = I3DHead()
    variables = _head_params(head, features)
    kernel = variables["params"]["Conv3d_0c_1x1"]["kernel"]
    bias = variables["params"]["Conv3d_0c_1x1"]["bias"]
    logits = head.apply(variables, jnp.asarray(features), train=False)
    assert logits.shape == (2, 2)
    np.testing.assert_allclose(
        logits, _i3d_head_reference(features, kernel, bias), rtol=1e-5, atol=1e-5
    )


# --- Classifier ----------------------------------------------------------------------------------


@pytest.mark.parametrize("head", ["stap", "i3d"])
def test_tiny_classifier_is_its_head_on_the_last_endpoint(head):
    model = I3DClassifier(head=head, width=1 / 16)
    clips = jnp.asarray(np.random.default_rng(4).uniform(-1, 1, TINY_CLIPS), jnp.float32)
    shapes = jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), clips)
    rng = np.random.default_rng(5)
    variables = jax.tree_util.tree_map_with_path(
        lambda path, s: jnp.asarray(
            rng.uniform(0.5, 1.5, s.shape) if path[-1].key == "var" else rng.normal(size=s.shape),
            s.dtype,
        ),
        shapes,
    )
    assert variables["params"]["Logits"]["Conv3d_0c_1x1"]["kernel"].shape == (64, 2)

    @functools.partial(jax.jit, compiler_options=FAST_COMPILE)
    def forward(variables, clips):
        return model.apply(
            variables,
            clips,
            train=False,
            capture_intermediates=lambda module, _: module.name == "I3D",
            mutable=["intermediates"],
        )

    logits, state = forward(variables, clips)
    assert logits.shape == (2, 2)
    assert np.isfinite(logits).all()
    features = state["intermediates"]["I3D"]["__call__"][0]["Mixed_5c"]
    assert features.shape == (2, 1, 2, 2, 64)
    head_module = (STAPHead if head == "stap" else I3DHead)(name="Logits")
    expected = head_module.apply({"params": variables["params"]["Logits"]}, features, train=False)
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)


def test_classifier_reads_the_configured_endpoint():
    model = I3DClassifier(head="i3d", width=1 / 16, final_endpoint="Mixed_4f")
    logits, variables = jax.eval_shape(
        lambda x: model.init_with_output(jax.random.key(0), x, train=False),
        jax.ShapeDtypeStruct(TINY_CLIPS, jnp.float32),
    )
    assert logits.shape == (2, 2)
    assert variables["params"]["Logits"]["Conv3d_0c_1x1"]["kernel"].shape == (52, 2)  # 832 / 16
    assert "Mixed_5b" not in variables["params"]["I3D"]


def test_unknown_head_raises():
    with pytest.raises(ValueError, match="head"):
        jax.eval_shape(
            lambda x: I3DClassifier(head="lstm").init(jax.random.key(0), x, train=False),
            jax.ShapeDtypeStruct(TINY_CLIPS, jnp.float32),
        )
