"""Converters of PyTorch checkpoints: parity of mejax's models with reference PyTorch modules
(written here in plain ``torch.nn`` in the layouts of torchvision's ResNet, Hara et al.'s 3D
ResNets and piergiaj's I3D), with random weights and random BatchNorm statistics, in eval mode."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mejax.models.i3d import I3D_SPEC
from mejax.models.res3d import Res3D
from mejax.models.resnet import ResNet
from mejax.models.stap import I3DClassifier
from mejax.weights import npz, torch_convert

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional

torch.set_num_threads(1)


def _randomise(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Random weights, BN scales, biases and running statistics; eval mode."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if not tensor.is_floating_point():
                continue
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            elif name.endswith("weight") and tensor.ndim > 1:
                fan_in = math.prod(tensor.shape[1:])
                tensor.copy_(torch.randn(tensor.shape, generator=generator) / math.sqrt(fan_in))
            elif name.endswith("weight"):  # BatchNorm scale
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            else:
                tensor.copy_(0.1 * torch.randn(tensor.shape, generator=generator))
    return module.eval()


def _variables(flat: dict, model, x) -> dict:
    """Converted flat variables placed in ``model``'s variable tree (all of it must be there)."""
    template = jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), x)
    expected = {k: v.shape for k, v in npz.flatten(template).items()}
    assert {k: v.shape for k, v in flat.items()} == expected
    return npz.unflatten(flat, template)


def _assert_close(ours, theirs, what, tolerance=1e-4):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, what
    difference = float(np.abs(ours - theirs).max())
    scale = float(np.abs(theirs).max())
    print(f"{what}: max |difference| {difference:.3g}, max |value| {scale:.3g}")
    assert difference <= tolerance * scale, what


# --- Reference modules ---------------------------------------------------------------------------


class TorchBasic(nn.Module):
    expansion = 1

    def __init__(self, conv, bn, inplanes, planes, stride, downsample):
        super().__init__()
        self.conv1 = conv(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = bn(planes)
        self.conv2 = conv(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = bn(planes)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


class TorchBottleneck(nn.Module):
    expansion = 4

    def __init__(self, conv, bn, inplanes, planes, stride, downsample):
        super().__init__()
        self.conv1 = conv(inplanes, planes, 1, 1, 0, bias=False)
        self.bn1 = bn(planes)
        self.conv2 = conv(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = bn(planes)
        self.conv3 = conv(planes, planes * 4, 1, 1, 0, bias=False)
        self.bn3 = bn(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


def _shortcut_a(x, planes, stride):
    """Hara et al.'s ``_downsample_basic_block``."""
    out = F.avg_pool3d(x, kernel_size=1, stride=stride)
    zeros = torch.zeros(out.size(0), planes - out.size(1), *out.shape[2:])
    return torch.cat([out, zeros], dim=1)


class TorchResNet(nn.Module):
    """torchvision's ResNet (dims=2) or Hara et al.'s 3D ResNet (dims=3), channels scaled."""

    def __init__(self, dims, bottleneck, blocks, base, num_classes, shortcut="B"):
        super().__init__()
        conv, bn = (nn.Conv2d, nn.BatchNorm2d) if dims == 2 else (nn.Conv3d, nn.BatchNorm3d)
        block = TorchBottleneck if bottleneck else TorchBasic
        self.inplanes = base
        if dims == 2:
            self.conv1 = conv(3, base, 7, 2, 3, bias=False)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        else:
            self.conv1 = conv(3, base, (7, 7, 7), (1, 2, 2), (3, 3, 3), bias=False)
            self.maxpool = nn.MaxPool3d(3, 2, 1)
        self.bn1 = bn(base)
        for index, count in enumerate(blocks, start=1):
            planes, stride = base * 2 ** (index - 1), 1 if index == 1 else 2
            downsample = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                if shortcut == "A":
                    downsample = functools.partial(
                        _shortcut_a, planes=planes * block.expansion, stride=stride
                    )
                else:
                    downsample = nn.Sequential(
                        conv(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                        bn(planes * block.expansion),
                    )
            layers = [block(conv, bn, self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * block.expansion
            layers += [block(conv, bn, self.inplanes, planes, 1, None) for _ in range(1, count)]
            setattr(self, f"layer{index}", nn.Sequential(*layers))
        self.fc = nn.Linear(self.inplanes, num_classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        for index in range(1, 5):
            x = getattr(self, f"layer{index}")(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool3d(x, 1) if x.ndim == 5 else
                                     F.adaptive_avg_pool2d(x, 1), 1))  # fmt: skip


def _same_pad(x, kernel, stride):
    """piergiaj's dynamic TF-"SAME" padding (zeros; the extra pixel after)."""
    pads = []
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride), strict=True):
        total = max(k - s, 0) if size % s == 0 else max(k - size % s, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class TorchUnit3D(nn.Module):
    def __init__(self, cin, cout, kernel=(1, 1, 1), stride=(1, 1, 1), bn=True, bias=False):
        super().__init__()
        self.kernel, self.stride, self.use_bn = kernel, stride, bn
        self.conv3d = nn.Conv3d(cin, cout, kernel, stride, padding=0, bias=bias)
        if bn:
            self.bn = nn.BatchNorm3d(cout, eps=0.001, momentum=0.01)

    def forward(self, x):
        x = self.conv3d(_same_pad(x, self.kernel, self.stride))
        return F.relu(self.bn(x)) if self.use_bn else x


class TorchMaxPoolSame(nn.Module):
    def __init__(self, kernel, stride):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x):
        return F.max_pool3d(_same_pad(x, self.kernel, self.stride), self.kernel, self.stride)


class TorchInception(nn.Module):
    def __init__(self, cin, c):
        super().__init__()
        self.b0 = TorchUnit3D(cin, c[0])
        self.b1a = TorchUnit3D(cin, c[1])
        self.b1b = TorchUnit3D(c[1], c[2], (3, 3, 3))
        self.b2a = TorchUnit3D(cin, c[3])
        self.b2b = TorchUnit3D(c[3], c[4], (3, 3, 3))
        self.b3a = TorchMaxPoolSame((3, 3, 3), (1, 1, 1))
        self.b3b = TorchUnit3D(cin, c[5])

    def forward(self, x):
        branches = [self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))]
        return torch.cat(branches, dim=1)


class TorchI3D(nn.Module):
    """piergiaj's ``InceptionI3d`` (names, padding, logits) with channels scaled by ``width``."""

    def __init__(self, width, num_classes):
        super().__init__()
        self.order = []
        channels = 3
        for name, *spec in I3D_SPEC:
            if name.startswith("MaxPool"):
                module = TorchMaxPoolSame(*spec)
            elif name.startswith("Conv"):
                features, kernel, stride = spec
                module = TorchUnit3D(channels, round(features * width), kernel, stride)
                channels = round(features * width)
            else:
                b0, (b1a, b1b), (b2a, b2b), b3 = spec
                c = [round(v * width) for v in (b0, b1a, b1b, b2a, b2b, b3)]
                module = TorchInception(channels, c)
                channels = c[0] + c[2] + c[4] + c[5]
            self.add_module(name, module)
            self.order.append(name)
        self.logits = TorchUnit3D(channels, num_classes, bn=False, bias=True)

    def forward(self, x):
        for name in self.order:
            x = self._modules[name](x)
        x = self.logits(F.avg_pool3d(x, (2, 7, 7), stride=1))
        return x.squeeze(3).squeeze(3)  # (B, classes, T): piergiaj leaves the time mean to you


# --- torchvision ResNet --------------------------------------------------------------------------


@pytest.mark.parametrize("depth, bottleneck, blocks", [(18, False, (2, 2, 2, 2))])
def test_torchvision_resnet_parity(depth, bottleneck, blocks, tmp_path):
    reference = _randomise(TorchResNet(2, bottleneck, blocks, 16, 10), seed=0)
    images = np.random.default_rng(0).normal(size=(2, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(images)).numpy()

    path = tmp_path / "resnet18.pth"
    torch.save(reference.state_dict(), path)
    state = torch_convert.load_state_dict(path)
    assert torch_convert.detect_layout(state) == "torchvision_resnet"
    flat, unused, _ = torch_convert.convert(state)
    assert unused == []
    model = ResNet(depth=depth, width=0.25, num_classes=10)
    x = jnp.asarray(images.transpose(0, 2, 3, 1))
    variables = _variables(flat, model, x)
    logits = jax.jit(lambda v, x: model.apply(v, x, train=False))(variables, x)["logits"]
    _assert_close(logits, expected, f"torchvision ResNet-{depth} logits")


# --- Hara et al. 3D ResNets ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "depth, bottleneck, blocks, shortcut",
    [(18, False, (2, 2, 2, 2), "A"), (18, False, (2, 2, 2, 2), "B"), (50, True, (3, 4, 6, 3), "B")],
)
def test_hara_res3d_parity(depth, bottleneck, blocks, shortcut, tmp_path):
    reference = _randomise(TorchResNet(3, bottleneck, blocks, 8, 5, shortcut), seed=depth)
    clips = np.random.default_rng(1).normal(size=(1, 3, 8, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(clips)).numpy()

    # As Hara et al.'s training script saves it: wrapped, with DataParallel's prefix.
    wrapped = {
        "epoch": 200,
        "arch": f"resnet-{depth}",
        "state_dict": {f"module.{k}": v for k, v in reference.state_dict().items()},
    }
    path = tmp_path / "save_200.pth"
    torch.save(wrapped, path)
    state = torch_convert.load_state_dict(path)
    assert torch_convert.detect_layout(state) == "hara_res3d"
    assert any(k.startswith("layer2.0.downsample") for k in state) == (shortcut == "B")
    flat, unused, _ = torch_convert.convert(state)
    assert unused == []
    model = Res3D(depth=depth, shortcut=shortcut, width=1 / 8, num_classes=5)
    x = jnp.asarray(clips.transpose(0, 2, 3, 4, 1))
    variables = _variables(flat, model, x)
    logits = jax.jit(lambda v, x: model.apply(v, x, train=False))(variables, x)["logits"]
    _assert_close(logits, expected, f"Hara Res3D-{depth}{shortcut} logits")


@pytest.mark.parametrize("depth, shortcut", [(101, "B"), (101, "A")])
def test_hara_res3d_101_names_and_shapes(depth, shortcut):
    """Full-size ResNet-101 (no forward pass): every tensor lands on a Res3D variable."""
    with torch.device("meta"):  # names and shapes only
        reference = TorchResNet(3, True, (3, 4, 23, 3), 64, 400, shortcut)
    state = {k: np.zeros(v.shape, np.float32) for k, v in reference.state_dict().items()}
    flat, unused, _ = torch_convert.convert(state, "hara_res3d")
    assert unused == []
    _variables(flat, Res3D(depth=depth, shortcut=shortcut, num_classes=400),
               jax.ShapeDtypeStruct((1, 16, 112, 112, 3), jnp.float32))  # fmt: skip


# --- piergiaj I3D --------------------------------------------------------------------------------


def test_piergiaj_i3d_parity(tmp_path):
    width = 1 / 16
    reference = _randomise(TorchI3D(width, 7), seed=3)
    # 224^2 so that piergiaj's (2, 7, 7) average pool covers the Mixed_5c map, as in I3D.
    clips = np.random.default_rng(2).uniform(-1, 1, (1, 3, 10, 224, 224)).astype(np.float32)
    features = {}
    reference.Mixed_5c.register_forward_hook(lambda m, i, o: features.update(Mixed_5c=o))
    with torch.no_grad():
        expected = reference(torch.from_numpy(clips)).numpy().mean(axis=2)
    names = set(reference.state_dict())
    assert {"Conv3d_1a_7x7.bn.weight", "Mixed_3b.b1b.conv3d.weight", "logits.conv3d.bias"} <= names

    path = tmp_path / "rgb_imagenet.pt"
    torch.save(reference.state_dict(), path)
    state = torch_convert.load_state_dict(path)
    assert torch_convert.detect_layout(state) == "piergiaj_i3d"
    flat, unused, notes = torch_convert.convert(state)
    assert unused == []
    assert "folded 57 BatchNorm scales" in notes[0] and "(57 differed from 1)" in notes[0]
    model = I3DClassifier(head="i3d", num_outputs=7, width=width)
    x = jnp.asarray(clips.transpose(0, 2, 3, 4, 1))
    variables = _variables(flat, model, x)
    logits, state = jax.jit(
        lambda v, x: model.apply(
            v, x, train=False, capture_intermediates=True, mutable=["intermediates"]
        )
    )(variables, x)
    mixed_5c = state["intermediates"]["I3D"]["__call__"][0]["Mixed_5c"]
    _assert_close(mixed_5c, features["Mixed_5c"].numpy().transpose(0, 2, 3, 4, 1), "Mixed_5c")
    _assert_close(logits, expected, "piergiaj I3D logits")


# --- Reading -------------------------------------------------------------------------------------


def test_npz_export_reads_like_the_checkpoint(tmp_path):
    reference = TorchResNet(2, False, (1, 1, 1, 1), 4, 3)
    state = reference.state_dict()
    torch.save(state, tmp_path / "r.pth")
    np.savez(tmp_path / "r.npz", **{k: v.numpy() for k, v in state.items()})
    from_torch = torch_convert.load_state_dict(tmp_path / "r.pth")
    from_npz = torch_convert.load_state_dict(tmp_path / "r.npz")
    assert set(from_torch) == set(from_npz)
    for key, value in from_torch.items():
        np.testing.assert_array_equal(value, from_npz[key])


def test_checkpoints_with_code_are_refused(tmp_path):
    path = tmp_path / "model.pth"
    torch.save({"state_dict": {"conv1.weight": torch.zeros(1)}, "net": nn.ReLU()}, path)
    with pytest.raises(ValueError, match="weights_only=True"):
        torch_convert.load_state_dict(path)


def test_unknown_layouts_and_missing_files_are_explained(tmp_path):
    with pytest.raises(ValueError, match="unrecognised state dict layout.*encoder.weight"):
        torch_convert.convert({"encoder.weight": np.zeros((2, 2))})
    with pytest.raises(FileNotFoundError, match="nothing.pth does not exist"):
        torch_convert.load_state_dict(tmp_path / "nothing.pth")
