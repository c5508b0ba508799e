"""Caffe ``.caffemodel`` weights read without Caffe, and CVGJ's ResNet-10 converted for mejax.

The micro-attention network (Wang, Peng, Bi, Chen, Neurocomputing 2020, Sec. 4.2) starts from
CVGJ's ImageNet pre-activation ResNet-10 (cvjena/cnn-models, ``ResNet_preact/ResNet10_cvgj``,
``resnet10_cvgj_iter_320000.caffemodel``, sha256 7291cda3...; Simon, Rodner, Denzler,
arXiv:1612.01452). This module reads such a file with nothing but ``protobuf`` and NumPy and
writes it in mejax's ``.npz`` layout (:mod:`mejax.weights.npz`), which ``init_from`` loads by
name into :class:`mejax.models.micro_attention.MicroAttentionNet`::

    python -m mejax.weights.caffe resnet10_cvgj_iter_320000.caffemodel resnet10_cvgj_grey.npz
    ... --config.init_from=resnet10_cvgj_grey.npz

**Reading.** A ``.caffemodel`` is a binary ``caffe.NetParameter``. The part of Caffe's
``src/caffe/proto/caffe.proto`` that holds weights is declared here at run time
(``descriptor_pb2`` + ``message_factory``, in a private descriptor pool), with caffe.proto's
field numbers: ``NetParameter`` (name = 1, ``layers`` = 2: deprecated ``V1LayerParameter``,
``layer`` = 100: ``LayerParameter``), ``LayerParameter`` (name = 1, type = 2, blobs = 7),
``V1LayerParameter`` (name = 4, type = 5 -- an enum there, read as its integer -- blobs = 6),
``BlobProto`` (num = 1, channels = 2, height = 3, width = 4: the deprecated 4-D shape; data = 5,
packed float; shape = 7: ``BlobShape`` with dim = 1, packed int64; double_data = 8). Fields not
declared (layer parameters, solver state) are skipped by the parser. A blob's shape is its
``shape`` when present, else (num, channels, height, width) as Caffe's ``Blob::FromProto`` reads
old files.

**Converting** (:func:`cvgj_resnet10_params`). Modules of ``MicroAttentionNet`` carry the Caffe
layer names, so the mapping is per layer type:

* Convolution (Cout, Cin, kh, kw) -> Flax kernel (kh, kw, Cin, Cout); ``conv1``'s bias as is;
* BatchNorm (running mean, running variance, normalising factor) + its Scale layer (gamma,
  beta) -> one Flax BatchNorm: ``scale``/``bias`` in ``params``, ``mean``/``var`` in
  ``batch_stats``. Caffe keeps the running sums unnormalised; like Caffe's forward pass, mean and
  variance are divided by the factor (blobs[2][0]), or zeroed when it is 0. The Scale layers
  have Caffe names ``*_scale*`` next to ``*_bn*`` (``data_scale``, ``conv1_scale``,
  ``layer_C_1_scaleK``, ``last_scale``);
* InnerProduct (out, in) -> Dense (in, out). The ImageNet classifier ``score`` (1000 classes) is
  dropped; a Micro-Attention caffemodel's ``classifier-Expressions`` becomes ``fc``, and its
  ``mask_Concat_C_1x1`` convolutions the units' ``conv`` (both optional). The fixed-mean
  ``mask_Concat_C_1x1_one`` convolutions are not parameters of the model and are dropped.

**Greyscale.** CVGJ's network takes 3-channel images (BGR, as Caffe's OpenCV-based ImageData
layer reads them, pixel values 0..255 without mean subtraction: ``data_bn`` normalises them);
Micro-Attention takes one grey channel. How the authors adapted ``conv1`` is not stated. Here
(``grey=True``) a grey image is treated as the colour image R = G = B, for which ``conv1``
computes the sum over its input channels: the grey kernel is the **sum of the three colour
kernels**, and ``data_bn``'s statistics, gamma and beta are **averaged over the channels**. The
fold is exact when the three channels' ``data_bn`` agree; otherwise (the usual ImageNet channel
means, 104/117/123 in BGR order, differ by some 20 grey levels) the grey network starts close
to, not at, the colour network applied to grey images, and the first fine-tuning stage adapts
it. An alternative is the luma-weighted combination 0.114 B + 0.587 G + 0.299 R of the kernels
(Caffe's BGR order), common when colour networks are ported to grey input: it favours the
green kernel and, its weights summing to 1, shrinks the response to a grey image about
threefold unless rescaled, whereas the sum leaves that response unchanged. ``grey=False``
keeps 3 channels.

Errors name the file, the layer and the shapes: not a NetParameter, a missing layer, a blob
count or shape the network cannot take.
"""

from __future__ import annotations

import argparse
import functools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from mejax.weights import npz

# The published stage widths, which also label the stages' Caffe names (as in
# mejax.models.micro_attention.STAGES; repeated so that this module needs no JAX).
STAGES = (64, 128, 256, 512)
IMAGENET_CLASSIFIER = "score"
MA_CLASSIFIER = "classifier-Expressions"

_F = descriptor_pb2.FieldDescriptorProto


# --- Schema --------------------------------------------------------------------------------------


def _add_field(message, name, number, kind, *, repeated=False, type_name=None, packed=False):
    field = message.field.add()
    field.name, field.number, field.type = name, number, kind
    field.label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
    if type_name:
        field.type_name = type_name
    if packed:
        field.options.packed = True


@functools.cache
def net_parameter_class():
    """The message class of the weight-carrying subset of ``caffe.NetParameter``."""
    file = descriptor_pb2.FileDescriptorProto(
        name="mejax_caffe_subset.proto", package="mejax_caffe", syntax="proto2"
    )
    shape = file.message_type.add(name="BlobShape")
    _add_field(shape, "dim", 1, _F.TYPE_INT64, repeated=True, packed=True)
    blob = file.message_type.add(name="BlobProto")
    _add_field(blob, "num", 1, _F.TYPE_INT64)
    _add_field(blob, "channels", 2, _F.TYPE_INT64)
    _add_field(blob, "height", 3, _F.TYPE_INT64)
    _add_field(blob, "width", 4, _F.TYPE_INT64)
    _add_field(blob, "data", 5, _F.TYPE_FLOAT, repeated=True, packed=True)
    _add_field(blob, "shape", 7, _F.TYPE_MESSAGE, type_name=".mejax_caffe.BlobShape")
    _add_field(blob, "double_data", 8, _F.TYPE_DOUBLE, repeated=True, packed=True)
    layer = file.message_type.add(name="LayerParameter")
    _add_field(layer, "name", 1, _F.TYPE_STRING)
    _add_field(layer, "type", 2, _F.TYPE_STRING)
    _add_field(
        layer, "blobs", 7, _F.TYPE_MESSAGE, repeated=True, type_name=".mejax_caffe.BlobProto"
    )
    v1 = file.message_type.add(name="V1LayerParameter")
    _add_field(v1, "name", 4, _F.TYPE_STRING)
    _add_field(v1, "type", 5, _F.TYPE_INT32)  # enum LayerType in caffe.proto (same wire format)
    _add_field(v1, "blobs", 6, _F.TYPE_MESSAGE, repeated=True, type_name=".mejax_caffe.BlobProto")
    net = file.message_type.add(name="NetParameter")
    _add_field(net, "name", 1, _F.TYPE_STRING)
    _add_field(
        net, "layers", 2, _F.TYPE_MESSAGE, repeated=True, type_name=".mejax_caffe.V1LayerParameter"
    )
    _add_field(
        net, "layer", 100, _F.TYPE_MESSAGE, repeated=True, type_name=".mejax_caffe.LayerParameter"
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("mejax_caffe.NetParameter"))


# --- Reading -------------------------------------------------------------------------------------


MAX_BLOB_AXES = 32  # Caffe's kMaxBlobAxes


def _blob_array(blob, layer: str, index: int, description: str) -> np.ndarray:
    if len(blob.double_data) and not len(blob.data):
        values = np.fromiter(blob.double_data, np.float64, count=len(blob.double_data))
    else:
        values = np.fromiter(blob.data, np.float32, count=len(blob.data))
    if blob.HasField("shape"):
        shape = tuple(int(d) for d in blob.shape.dim)
    elif any(blob.HasField(f) for f in ("num", "channels", "height", "width")):
        shape = (int(blob.num), int(blob.channels), int(blob.height), int(blob.width))
    else:
        shape = ()
    if len(shape) > MAX_BLOB_AXES or any(d <= 0 for d in shape):
        raise ValueError(
            f"{description}: layer {layer!r}, blob {index} has the shape {shape[:8]}"
            f"{'...' if len(shape) > 8 else ''} ({len(shape)} axes): a blob has at most "
            f"{MAX_BLOB_AXES} axes, each of at least one value"
        )
    if math.prod(shape) != values.size:
        raise ValueError(
            f"{description}: layer {layer!r}, blob {index} holds {values.size} values for its "
            f"shape {shape}"
        )
    return values.reshape(shape)


def parse_net(data: bytes, description: str = "caffemodel") -> dict[str, list[np.ndarray]]:
    """{layer name: its blobs as arrays} of a serialised ``NetParameter``, in the file's order
    (layers without weights, e.g. ReLU or pooling, map to ``[]``).

    Raises:
      ValueError: the bytes are not a NetParameter, hold no layer with weights, or two layers of
        the same name both have weights.
    """
    net = net_parameter_class()()
    try:
        net.ParseFromString(data)
    except (DecodeError, RuntimeError) as error:
        raise ValueError(
            f"{description} is not a binary Caffe NetParameter (.caffemodel): {error}. A "
            ".prototxt describes the network but holds no weights."
        ) from None
    out: dict[str, list[np.ndarray]] = {}
    for layer in [*net.layer, *net.layers]:
        blobs = [_blob_array(b, layer.name, i, description) for i, b in enumerate(layer.blobs)]
        if out.get(layer.name) and blobs:
            raise ValueError(f"{description}: two layers named {layer.name!r} have weights")
        if blobs or layer.name not in out:
            out[layer.name] = blobs
    if not any(out.values()):
        raise ValueError(
            f"{description} holds no Caffe layer with weights: not a .caffemodel (a binary "
            "NetParameter)"
        )
    return out


def read_caffemodel(path: str | Path) -> dict[str, list[np.ndarray]]:
    """{layer name: [blobs]} of a ``.caffemodel`` file (see :func:`parse_net`).

    Raises:
      FileNotFoundError: no such file.
      ValueError: the file is not a Caffe NetParameter with weights.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"caffemodel {path} does not exist")
    return parse_net(path.read_bytes(), str(path))


def serialize_net(layers: Mapping[str, Sequence[np.ndarray]], name: str = "") -> bytes:
    """A ``NetParameter`` (new-style ``layer`` entries) holding ``layers``' blobs with their
    shapes: the inverse of :func:`parse_net`, for tests and small hand-made models."""
    net = net_parameter_class()(name=name)
    for layer_name, blobs in layers.items():
        layer = net.layer.add(name=layer_name)
        for array in blobs:
            blob = layer.blobs.add()
            blob.shape.dim.extend(np.shape(array))
            blob.data.extend(np.asarray(array, np.float32).ravel().tolist())
    return net.SerializeToString()


# --- Converting ----------------------------------------------------------------------------------


def _bn_layers() -> dict[str, str]:
    """{Caffe BatchNorm layer (= Flax BatchNorm module): its Scale layer}."""
    pairs = {"data_bn": "data_scale", "conv1_bn": "conv1_scale"}
    pairs[f"layer_{STAGES[0]}_1_bn2"] = f"layer_{STAGES[0]}_1_scale2"
    for label in STAGES[1:]:
        for k in (1, 2):
            pairs[f"layer_{label}_1_bn{k}"] = f"layer_{label}_1_scale{k}"
    pairs["last_bn"] = "last_scale"
    return pairs


def backbone_layers() -> list[str]:
    """Caffe layers with weights of CVGJ's ResNet-10 that the conversion needs."""
    convs = ["conv1", f"layer_{STAGES[0]}_1_conv1", f"layer_{STAGES[0]}_1_conv2"]
    for label in STAGES[1:]:
        convs += [f"layer_{label}_1_{c}" for c in ("conv1", "conv2", "conv_expand")]
    return [*convs, *(n for pair in _bn_layers().items() for n in pair)]


def _squeeze_to(array: np.ndarray, ndim: int) -> np.ndarray:
    """Drops leading singleton axes of old 4-D blobs (a bias stored as (1, 1, 1, C))."""
    while array.ndim > ndim and array.shape[0] == 1:
        array = array[0]
    return array


def _take(blobs, layer: str, shapes: Sequence[tuple | None]) -> list[np.ndarray]:
    """``layer``'s blobs as float32, checked against ``shapes`` (None: checked by the caller);
    errors name the layer, the blob and both shapes."""
    found = blobs[layer]
    if len(found) != len(shapes):
        raise ValueError(f"layer {layer!r} has {len(found)} blobs; the network needs {len(shapes)}")
    out = []
    for index, (blob, shape) in enumerate(zip(found, shapes, strict=True)):
        blob = np.asarray(blob, np.float32)
        if shape is not None:
            blob = _squeeze_to(blob, len(shape))
            if blob.shape != shape:
                raise ValueError(
                    f"layer {layer!r}, blob {index}: shape {blob.shape}, but the network needs "
                    f"{shape}"
                )
        out.append(blob)
    return out


def _out_channels(blobs, layer: str) -> int:
    shape = np.shape(blobs[layer][0])
    if len(shape) != 4:
        raise ValueError(f"layer {layer!r}: a convolution weight (Cout, Cin, kh, kw), got {shape}")
    return int(shape[0])


def cvgj_resnet10_params(
    blobs: Mapping[str, Sequence[np.ndarray]], *, grey: bool = True
) -> tuple[dict, dict]:
    """(params, batch_stats) of :class:`~mejax.models.micro_attention.MicroAttentionNet` from
    CVGJ's ResNet-10 blobs (:func:`read_caffemodel`).

    Channel counts are read from the blobs (any ``width``), and every blob is checked against
    the shape the network needs. The micro-attention units' ``mask_Concat_C_1x1`` and the
    Micro-Attention classifier ``classifier-Expressions`` are converted when present (a trained
    Micro-Attention caffemodel); the ImageNet ``score`` classifier is dropped.

    Args:
      blobs: {Caffe layer name: [blobs]}.
      grey: fold the 3-channel ``conv1`` and ``data_bn`` to one grey channel (see the module
        docstring); False keeps the input channels.

    Returns:
      Nested dicts of float32 arrays, shaped like the model's variables.

    Raises:
      ValueError: layers the network needs are missing (all of them named), a layer has too
        few blobs or a blob has another shape (layer and shapes named), or ``conv1`` has
        neither 1 nor 3 input channels with ``grey``.
    """
    missing = [name for name in backbone_layers() if not blobs.get(name)]
    if missing:
        raise ValueError(f"missing layers (with weights) of CVGJ's ResNet-10: {', '.join(missing)}")
    params: dict = {}
    stats: dict = {}

    def conv(name, cin, cout, kernel, bias=False, fold=False):
        shapes = [(cout, cin, kernel, kernel)] + ([(cout,)] if bias else [])
        weight, *rest = _take(blobs, name, shapes)
        if fold:
            weight = weight.sum(axis=1, keepdims=True)
        params[name] = {"kernel": np.transpose(weight, (2, 3, 1, 0))}
        if bias:
            params[name]["bias"] = rest[0]

    def bn(name, channels, fold=False):
        mean, var, factor = _take(blobs, name, [(channels,), (channels,), None])
        if np.size(factor) != 1:
            raise ValueError(
                f"layer {name!r}, blob 2: shape {np.shape(factor)}, but the network needs (1,) "
                "(BatchNorm's normalising factor)"
            )
        factor = float(np.ravel(factor)[0])
        scale = 0.0 if factor == 0 else 1.0 / factor  # Caffe's BatchNormLayer::Forward_cpu
        gamma, beta = _take(blobs, _bn_layers()[name], [(channels,), (channels,)])
        arrays = {"mean": mean * scale, "var": var * scale, "scale": gamma, "bias": beta}
        if fold:
            arrays = {k: v.mean(keepdims=True) for k, v in arrays.items()}
        params[name] = {"scale": arrays["scale"], "bias": arrays["bias"]}
        stats[name] = {"mean": arrays["mean"], "var": arrays["var"]}

    width = _out_channels(blobs, "conv1")
    in_channels = int(np.shape(blobs["conv1"][0])[1])
    fold = grey and in_channels != 1
    if fold and in_channels != 3:
        raise ValueError(f"layer 'conv1' has {in_channels} input channels; grey needs 1 or 3")
    bn("data_bn", in_channels, fold)
    conv("conv1", in_channels, width, 7, bias=True, fold=fold)
    bn("conv1_bn", width)
    previous = width
    for label in STAGES:
        prefix = f"layer_{label}_1_"
        channels = _out_channels(blobs, prefix + "conv1")
        if label == STAGES[0]:
            if channels != previous:
                raise ValueError(
                    f"layer {prefix + 'conv1'!r} has {channels} outputs; the identity shortcut "
                    f"of the first stage needs {previous} (conv1's)"
                )
        else:
            bn(prefix + "bn1", previous)
            conv(prefix + "conv_expand", previous, channels, 1)
        conv(prefix + "conv1", previous, channels, 3)
        bn(prefix + "bn2", channels)
        conv(prefix + "conv2", channels, channels, 3)
        mask = f"mask_Concat_{label}_1x1"
        if blobs.get(mask):
            (weight,) = _take(blobs, mask, [(channels, 3 * channels, 1, 1)])
            params[f"mask_Concat_{label}"] = {
                "conv": {"kernel": np.transpose(weight, (2, 3, 1, 0))}
            }
        previous = channels
    bn("last_bn", previous)
    if blobs.get(MA_CLASSIFIER):
        classes = int(np.shape(blobs[MA_CLASSIFIER][0])[0])
        weight, bias = _take(blobs, MA_CLASSIFIER, [(classes, previous), (classes,)])
        params["fc"] = {"kernel": weight.T.copy(), "bias": bias}
    return params, stats


def unused_layers(blobs: Mapping[str, Sequence[np.ndarray]]) -> list[str]:
    """Layers with weights that :func:`cvgj_resnet10_params` does not convert (``score``, the
    fixed-mean ``mask_Concat_C_1x1_one``, anything foreign)."""
    used = set(backbone_layers()) | {MA_CLASSIFIER}
    used |= {f"mask_Concat_{label}_1x1" for label in STAGES}
    return [name for name, layer in blobs.items() if layer and name not in used]


def convert_file(caffemodel: str | Path, destination: str | Path, *, grey: bool = True) -> Path:
    """Reads a CVGJ ResNet-10 ``.caffemodel`` and writes the ``.npz`` that ``init_from`` loads
    (keys ``params/...`` and ``batch_stats/...``, :mod:`mejax.weights.npz`).

    Raises:
      FileNotFoundError, ValueError: as :func:`read_caffemodel` and
        :func:`cvgj_resnet10_params`, with the file named.
    """
    return _convert(read_caffemodel(caffemodel), caffemodel, destination, grey)


def _convert(blobs, caffemodel, destination, grey: bool) -> Path:
    try:
        params, stats = cvgj_resnet10_params(blobs, grey=grey)
    except ValueError as error:
        raise ValueError(f"{caffemodel}: {error}") from None
    return npz.save(destination, {"params": params, "batch_stats": stats})


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m mejax.weights.caffe",
        description="Convert CVGJ's ResNet-10 .caffemodel to the .npz that init_from loads "
        "into the micro-attention network.",
    )
    parser.add_argument("caffemodel", help="e.g. resnet10_cvgj_iter_320000.caffemodel")
    parser.add_argument("destination", help="the .npz to write")
    parser.add_argument(
        "--rgb", action="store_true", help="keep conv1's 3 input channels (default: fold to grey)"
    )
    args = parser.parse_args(argv)
    blobs = read_caffemodel(args.caffemodel)
    path = _convert(blobs, args.caffemodel, args.destination, not args.rgb)
    flat = npz.load_flat(path)
    print(f"wrote {path}: {len(flat)} arrays, {sum(v.size for v in flat.values()):,} values")
    print(f"not converted: {', '.join(unused_layers(blobs)) or 'nothing'}")


if __name__ == "__main__":
    main()
