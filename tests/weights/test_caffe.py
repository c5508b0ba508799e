"""The caffemodel reader and CVGJ ResNet-10 converter: a synthetic caffemodel with CVGJ's and
Micro-Attention's layer names at the tiny width (random blobs, non-unit BatchNorm factors) is
serialised, read back, converted, loaded with ``init_from`` and compared with a NumPy forward pass
of the Caffe network with Caffe's semantics (NCHW, cross-correlation, ceil-mode pooling)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from mejax.models import micro_attention
from mejax.models.micro_attention import MicroAttentionNet
from mejax.weights import caffe, init_from, npz

WIDTH = 1 / 16
SIZE = 32
FACTOR = 7.5  # BatchNorm's normalising factor: Caffe stores running sums
EPS = 1e-5


@pytest.fixture(autouse=True)
def _fresh_sources():
    init_from.clear_cache()
    yield
    init_from.clear_cache()


def _model_shapes(channels: int, attention=True, classes=5):
    model = MicroAttentionNet(classes, attention=attention, width=WIDTH)
    x = jax.ShapeDtypeStruct((1, SIZE, SIZE, channels), jnp.float32)
    return jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), x)


def _synthetic_blobs(seed=0, classes=5) -> dict[str, list[np.ndarray]]:
    """Caffe blobs of the tiny network, 3 input channels, named and shaped as in CVGJ's
    ResNet-10 and Micro-Attention's prototxt (shapes from the model's ``eval_shape``)."""
    rng = np.random.default_rng(seed)
    shapes = _model_shapes(3, classes=classes)
    layers: dict[str, list[np.ndarray]] = {"data": [], "conv1_relu": []}
    for name, module in shapes["params"].items():
        if "mean" in shapes["batch_stats"].get(name, {}):
            c = module["scale"].shape[0]
            if name == "data_bn":  # raw 0..255 pixels
                mean, var = rng.uniform(100, 130, c), rng.uniform(3000, 3500, c)
            else:
                mean, var = rng.normal(0, 0.2, c), rng.uniform(0.5, 1.5, c)
            layers[name] = [mean * FACTOR, var * FACTOR, np.array([FACTOR])]
            layers[name.replace("_bn", "_scale")] = [
                rng.uniform(0.5, 1.5, c),
                rng.normal(0, 0.1, c),
            ]
        elif name.startswith("mask_Concat_"):
            kh, kw, cin, cout = module["conv"]["kernel"].shape
            layers[f"{name}_1x1"] = [rng.normal(0, 1 / math.sqrt(cin), (cout, cin, kh, kw))]
            layers[f"{name}_1x1_one"] = [np.full((1, cout, 1, 1), 1 / cout)]  # fixed mean
        elif name == "fc":
            cin, cout = module["kernel"].shape
            layers["classifier-Expressions"] = [
                rng.normal(0, 1 / math.sqrt(cin), (cout, cin)),
                rng.normal(0, 0.1, cout),
            ]
        else:
            kh, kw, cin, cout = module["kernel"].shape
            layers[name] = [rng.normal(0, math.sqrt(2 / (cin * kh * kw)), (cout, cin, kh, kw))]
            if "bias" in module:
                layers[name].append(rng.normal(0, 0.1, cout))
    layers["score"] = [
        rng.normal(size=(10, shapes["params"]["fc"]["kernel"].shape[0])),
        np.zeros(10),
    ]
    return {k: [np.asarray(b, np.float32) for b in v] for k, v in layers.items()}


def _write(tmp_path, layers, name="synthetic.caffemodel"):
    path = tmp_path / name
    path.write_bytes(caffe.serialize_net(layers, name="tiny"))
    return path


# --- NumPy forward pass with Caffe's semantics ---------------------------------------------------


def _conv(x, weight, stride, pad, bias=None):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(x, weight.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    out = np.einsum("nchwij,ocij->nohw", windows, weight)
    return out if bias is None else out + bias[None, :, None, None]


def _bn(x, layers, name):
    mean, var, factor = layers[name]
    gamma, beta = layers[name.replace("_bn", "_scale")]
    mean, var = mean / factor[0], var / factor[0]
    shape = (1, -1, 1, 1)
    normalised = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + EPS)
    return normalised * gamma.reshape(shape) + beta.reshape(shape)


def _ceil_max_pool(x, k=3, s=2):
    h, w = x.shape[2:]
    ho, wo = math.ceil((h - k) / s) + 1, math.ceil((w - k) / s) + 1
    out = np.empty(x.shape[:2] + (ho, wo), x.dtype)
    for i in range(ho):
        for j in range(wo):
            out[:, :, i, j] = x[:, :, i * s : min(i * s + k, h), j * s : min(j * s + k, w)].max(
                axis=(2, 3)
            )
    return out


def _caffe_forward(layers, x, attention=True):
    """train_test.prototxt (test phase) on NCHW input ``x``."""
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    h = _bn(x, layers, "data_bn")
    h = relu(_bn(_conv(h, *layers["conv1"][:1], 2, 3, layers["conv1"][1]), layers, "conv1_bn"))
    h = _ceil_max_pool(h)
    for label in micro_attention.STAGES:
        p = f"layer_{label}_1_"
        if label == 64:
            a1 = relu(_bn(_conv(h, layers[p + "conv1"][0], 1, 1), layers, p + "bn2"))
            shortcut = h
        else:
            pre = relu(_bn(h, layers, p + "bn1"))
            a1 = relu(_bn(_conv(pre, layers[p + "conv1"][0], 2, 1), layers, p + "bn2"))
            shortcut = _conv(pre, layers[p + "conv_expand"][0], 2, 0)
        r = _conv(a1, layers[p + "conv2"][0], 1, 1)
        summed = r + shortcut
        if attention:
            concat = np.concatenate([shortcut, a1, r], axis=1)
            m = _conv(concat, layers[f"mask_Concat_{label}_1x1"][0], 1, 0)
            m = _conv(m, layers[f"mask_Concat_{label}_1x1_one"][0], 1, 0)  # constant 1/C
            m = 1 / (1 + np.exp(-m))
            h = np.tile(m, (1, summed.shape[1], 1, 1)) * summed + summed
        else:
            h = summed
    h = relu(_bn(h, layers, "last_bn")).mean(axis=(2, 3))
    weight, bias = layers["classifier-Expressions"]
    return h @ weight.T + bias


def _pixels(batch=2, channels=3, seed=3):
    return np.random.default_rng(seed).uniform(0, 255, (batch, channels, SIZE, SIZE))


def _assert_close(ours, theirs, tolerance=1e-4):
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() <= tolerance * np.abs(theirs).max()


# --- Reading -------------------------------------------------------------------------------------


def test_serialised_caffemodel_reads_back(tmp_path):
    layers = _synthetic_blobs()
    read = caffe.read_caffemodel(_write(tmp_path, layers))
    assert list(read) == list(layers)
    for name, blobs in layers.items():
        assert [b.shape for b in read[name]] == [b.shape for b in blobs], name
        for ours, theirs in zip(read[name], blobs, strict=True):
            np.testing.assert_array_equal(ours, theirs)


def test_reads_old_v1_layers_with_4d_blob_shapes():
    """V1LayerParameter (``layers`` = 2, name = 4, blobs = 6) with num/channels/height/width."""
    net = caffe.net_parameter_class()()
    layer = net.layers.add(name="conv1", type=4)
    weight = layer.blobs.add(num=2, channels=3, height=1, width=1)
    weight.data.extend([1, 2, 3, 4, 5, 6])
    bias = layer.blobs.add(num=1, channels=1, height=1, width=2)
    bias.double_data.extend([0.5, -0.5])
    read = caffe.parse_net(net.SerializeToString())
    np.testing.assert_array_equal(read["conv1"][0], np.arange(1, 7).reshape(2, 3, 1, 1))
    np.testing.assert_array_equal(read["conv1"][1], [[[[0.5, -0.5]]]])


@pytest.mark.parametrize("dims", [(-2, -3), (0, 4), (1,) * 40])
def test_a_blob_of_negative_zero_or_too_many_axes_names_file_and_layer(tmp_path, dims):
    net = caffe.net_parameter_class()()
    layer = net.layer.add(name="conv1")
    blob = layer.blobs.add()
    blob.shape.dim.extend(dims)
    blob.data.extend([1.0] * 6)
    path = tmp_path / "hostile.caffemodel"
    path.write_bytes(net.SerializeToString())
    with pytest.raises(ValueError, match=r"hostile\.caffemodel: layer 'conv1', blob 0 has"):
        caffe.read_caffemodel(path)


# --- Converting ----------------------------------------------------------------------------------


def test_rgb_conversion_matches_caffe_forward_pass():
    layers = _synthetic_blobs()
    params, stats = caffe.cvgj_resnet10_params(layers, grey=False)
    expected = jax.tree.map(lambda s: s.shape, _model_shapes(3))
    assert jax.tree.map(np.shape, {"params": params, "batch_stats": stats}) == expected
    x = _pixels()
    model = MicroAttentionNet(5, width=WIDTH)
    variables = {"params": params, "batch_stats": stats}
    ours = model.apply(variables, jnp.asarray(x.transpose(0, 2, 3, 1), jnp.float32), train=False)
    _assert_close(ours["logits"], _caffe_forward(layers, x))
    assert sorted(caffe.unused_layers(layers)) == sorted(
        ["score"] + [f"mask_Concat_{c}_1x1_one" for c in micro_attention.STAGES]
    )


def test_grey_fold_sums_conv1_over_rgb_and_averages_data_bn():
    layers = _synthetic_blobs()
    params, stats = caffe.cvgj_resnet10_params(layers)  # grey by default
    rgb = layers["conv1"][0]  # (C, 3, 7, 7)
    np.testing.assert_allclose(
        params["conv1"]["kernel"], rgb.sum(axis=1, keepdims=True).transpose(2, 3, 1, 0), rtol=1e-6
    )
    assert params["conv1"]["kernel"].shape == (7, 7, 1, rgb.shape[0])
    mean, var, _ = layers["data_bn"]
    np.testing.assert_allclose(stats["data_bn"]["mean"], [mean.mean() / FACTOR], rtol=1e-6)
    np.testing.assert_allclose(stats["data_bn"]["var"], [var.mean() / FACTOR], rtol=1e-6)
    np.testing.assert_allclose(params["data_bn"]["scale"], [layers["data_scale"][0].mean()])
    assert jax.tree.map(np.shape, {"params": params, "batch_stats": stats}) == jax.tree.map(
        lambda s: s.shape, _model_shapes(1)
    )


def test_grey_fold_is_exact_when_the_colour_channels_agree():
    """A grey image through the folded network = the colour network on R = G = B."""
    layers = _synthetic_blobs()
    layers["data_bn"] = [np.repeat(b[:1], len(b)) if len(b) == 3 else b for b in layers["data_bn"]]
    layers["data_scale"] = [np.repeat(b[:1], 3) for b in layers["data_scale"]]
    grey = caffe.cvgj_resnet10_params(layers, grey=True)
    grey_image = _pixels(channels=1)
    model = MicroAttentionNet(5, width=WIDTH)
    ours = model.apply(
        dict(zip(("params", "batch_stats"), grey, strict=True)),
        jnp.asarray(grey_image.transpose(0, 2, 3, 1), jnp.float32),
        train=False,
    )
    _assert_close(ours["logits"], _caffe_forward(layers, np.repeat(grey_image, 3, axis=1)))


def test_zero_normalising_factor_zeroes_the_statistics_as_caffe_does():
    layers = _synthetic_blobs()
    layers["last_bn"][2] = np.zeros(1, np.float32)
    _, stats = caffe.cvgj_resnet10_params(layers)
    assert not np.any(stats["last_bn"]["mean"]) and not np.any(stats["last_bn"]["var"])


# --- init_from and the command line --------------------------------------------------------------


def test_converted_npz_loads_with_init_from(tmp_path, capsys):
    layers = {
        k: v
        for k, v in _synthetic_blobs().items()
        if not k.startswith("mask_") and k != "classifier-Expressions"
    }  # CVGJ's ImageNet model: backbone + score
    out = tmp_path / "resnet10_cvgj_grey.npz"
    caffe.main([str(_write(tmp_path, layers)), str(out)])
    printed = capsys.readouterr().out
    assert "not converted: score" in printed
    flat = npz.load_flat(out)
    assert all(k.split("/", 1)[0] in ("params", "batch_stats") for k in flat)
    model = MicroAttentionNet(3, width=WIDTH)
    x = jax.ShapeDtypeStruct((1, SIZE, SIZE, 1), jnp.float32)
    shapes = jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), x)
    variables = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
    loaded, report = init_from.initialize(variables, str(out))
    assert report.layout == "mejax" and not report.unused and not report.skipped
    assert sorted(report.left_at_init) == sorted(
        [f"params/mask_Concat_{c}/conv/kernel" for c in micro_attention.STAGES]
        + ["params/fc/kernel", "params/fc/bias"]
    )
    np.testing.assert_array_equal(
        loaded["params"]["conv1"]["kernel"],
        layers["conv1"][0].sum(axis=1, keepdims=True).transpose(2, 3, 1, 0),
    )
    np.testing.assert_allclose(
        loaded["batch_stats"]["layer_256_1_bn2"]["var"],
        layers["layer_256_1_bn2"][1] / FACTOR,
        rtol=1e-6,
    )


# --- Errors --------------------------------------------------------------------------------------


def test_corrupt_or_text_files_are_refused_naming_the_file(tmp_path):
    corrupt = tmp_path / "corrupt.caffemodel"
    corrupt.write_bytes(b"\xff\xff\xff\xff\x0f" + bytes(range(256)))
    with pytest.raises(ValueError, match=r"corrupt\.caffemodel is not a binary Caffe NetParameter"):
        caffe.read_caffemodel(corrupt)
    text = tmp_path / "deploy.prototxt"
    text.write_text('name: ""\nlayer {\n  name: "data"\n  type: "Input"\n}\n')
    with pytest.raises(ValueError, match=r"deploy\.prototxt"):
        caffe.read_caffemodel(text)
    empty = tmp_path / "empty.caffemodel"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.caffemodel holds no Caffe layer with weights"):
        caffe.read_caffemodel(empty)
    with pytest.raises(FileNotFoundError, match="absent.caffemodel"):
        caffe.read_caffemodel(tmp_path / "absent.caffemodel")


def test_missing_layers_are_named(tmp_path):
    layers = _synthetic_blobs()
    del layers["layer_256_1_conv2"], layers["last_scale"]
    path = _write(tmp_path, layers, "partial.caffemodel")
    with pytest.raises(
        ValueError, match=r"partial\.caffemodel: missing .*layer_256_1_conv2, last_scale$"
    ):
        caffe.convert_file(path, tmp_path / "out.npz")
    assert not (tmp_path / "out.npz").exists()


def test_shape_mismatches_name_layer_and_shapes(tmp_path):
    layers = _synthetic_blobs()
    c = layers["layer_128_1_conv2"][0].shape[0]
    layers["layer_128_1_conv2"] = [np.zeros((c, c + 1, 3, 3), np.float32)]
    with pytest.raises(
        ValueError,
        match=rf"'layer_128_1_conv2', blob 0: shape \({c}, {c + 1}, 3, 3\), but the network "
        rf"needs \({c}, {c}, 3, 3\)",
    ):
        caffe.cvgj_resnet10_params(layers)
    layers = _synthetic_blobs()
    layers["conv1_scale"] = layers["conv1_scale"][:1]
    with pytest.raises(ValueError, match="'conv1_scale' has 1 blobs; the network needs 2"):
        caffe.cvgj_resnet10_params(layers)
