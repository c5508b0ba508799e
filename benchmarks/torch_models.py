"""Plain PyTorch twins of mejax's five model families, for ``benchmarks/train_step.py``.

Each module mirrors its Flax counterpart layer for layer -- channel counts, kernel sizes,
strides, padding, BatchNorm (eps, momentum, with or without scale), dropout, heads -- so that
both frameworks run the same network in their own layout (PyTorch: channels first; mejax:
channels last) and the same number of trained parameters (``benchmarks/train_step.py`` prints
both counts; ``tests/test_benchmark_models.py`` checks them at small widths):

* :class:`I3DSTAP`: ``mejax.models.stap.I3DClassifier`` with the STAP head (Carreira &
  Zisserman's I3D with Sonnet's scale-free BatchNorm and TensorFlow "SAME" padding; Li, Huang,
  Zhao, arXiv:1907.05023, Sec. III-B);
* :class:`SCA`: ``mejax.models.sca.SCAClassifier`` (Hara et al.'s Res3D, shortcut A, conv1
  stride (1, 2, 2); GSoP channel attention and the spatial attention of Li, Huang, Zhao,
  Neurocomputing 2021, Sec. 3.2, learned fusion);
* :class:`PartMER`: ``mejax.models.part_mer.PartMER`` (torchvision's ResNet-18, top/bottom
  parts, gradient reversal and the domain discriminator; Liu et al., MEGC2019, Sec. 3);
* :class:`AUGCN`: ``mejax.models.au_gcn.AUGCN`` with the Dual-Inception backbone (Zhou, Mao,
  Dong, Sec. III);
* :class:`MicroAttention`: ``mejax.models.micro_attention.MicroAttentionNet`` (CVGJ's
  pre-activation ResNet-10 with a micro-attention unit per stage; Wang et al. 2020, Sec. 3).

``width`` scales the channels exactly as the Flax modules do (``max(1, round(c * width))``),
so small widths give the same small networks on both sides. Initialisation is PyTorch's
default: the benchmark times steps, not training outcomes. Importing this module needs torch;
the ``mejax`` package never imports it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from mejax.models.i3d import I3D_SPEC  # the Inception table both twins are built from

# --- shared pieces ---------------------------------------------------------------------------


def scaled(channels: int, width: float) -> int:
    """Channels at multiplier ``width``, as the Flax modules round them."""
    return max(1, round(channels * width))


def _same_pads(sizes, kernel, stride) -> list[tuple[int, int]]:
    """TensorFlow's "SAME" padding per dimension, (before, after) with the extra one after."""
    pads = []
    for n, k, s in zip(sizes, kernel, stride, strict=True):
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def _flat_pads(pads) -> list[int]:
    """F.pad's argument (last dimension first) of per-dimension (before, after) pads."""
    return [p for pair in reversed(pads) for p in pair]


class BiasOnlyBatchNorm(nn.Module):
    """BatchNorm without scale (Sonnet v1's, I3D's): a learned offset, running statistics."""

    def __init__(self, features: int, eps: float, momentum: float):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.bias = nn.Parameter(torch.zeros(features))
        self.register_buffer("running_mean", torch.zeros(features))
        self.register_buffer("running_var", torch.ones(features))

    def forward(self, x):
        return F.batch_norm(
            x, self.running_mean, self.running_var, None, self.bias,
            self.training, self.momentum, self.eps,
        )  # fmt: skip


class ReverseGradient(torch.autograd.Function):
    """Identity forward; the gradient times ``-lam`` backward (``mejax.models.grl``)."""

    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.lam * grad, None


# --- I3D + STAP ------------------------------------------------------------------------------


class Unit3D(nn.Module):
    """Conv3d ("SAME", no bias) -> scale-free BatchNorm (eps 1e-3, decay 0.999) -> ReLU.

    Symmetric "SAME" padding goes to the convolution itself; an asymmetric one (even kernels
    or strides) is an explicit ``F.pad`` first, as piergiaj's PyTorch I3D does.
    """

    def __init__(self, cin, cout, kernel=(1, 1, 1), stride=(1, 1, 1), bn_decay=0.999):
        super().__init__()
        self.kernel, self.stride = tuple(kernel), tuple(stride)
        self.conv = nn.Conv3d(cin, cout, self.kernel, self.stride, bias=False)
        self.bn = BiasOnlyBatchNorm(cout, eps=1e-3, momentum=1 - bn_decay)

    def forward(self, x):
        pads = _same_pads(x.shape[2:], self.kernel, self.stride)
        if all(a == b for a, b in pads):
            x = F.conv3d(x, self.conv.weight, None, self.stride, [a for a, _ in pads])
        else:
            x = self.conv(F.pad(x, _flat_pads(pads)))
        return F.relu(self.bn(x))


def max_pool_same(x, kernel, stride):
    """3D max-pool with TensorFlow "SAME" padding (inputs are post-ReLU: zero pads suffice
    where the padding is asymmetric; symmetric padding is the pool's own, -inf)."""
    pads = _same_pads(x.shape[2:], kernel, stride)
    symmetric = all(a == b for a, b in pads)
    if symmetric and all(a <= k // 2 for (a, _), k in zip(pads, kernel, strict=True)):
        return F.max_pool3d(x, kernel, stride, [a for a, _ in pads])
    return F.max_pool3d(F.pad(x, _flat_pads(pads)), kernel, stride)


class Inception3D(nn.Module):
    def __init__(self, cin, b0, b1, b2, b3, bn_decay):
        super().__init__()
        self.b0 = Unit3D(cin, b0, bn_decay=bn_decay)
        self.b1a = Unit3D(cin, b1[0], bn_decay=bn_decay)
        self.b1b = Unit3D(b1[0], b1[1], (3, 3, 3), bn_decay=bn_decay)
        self.b2a = Unit3D(cin, b2[0], bn_decay=bn_decay)
        self.b2b = Unit3D(b2[0], b2[1], (3, 3, 3), bn_decay=bn_decay)
        self.b3b = Unit3D(cin, b3, bn_decay=bn_decay)

    def forward(self, x):
        b3 = self.b3b(max_pool_same(x, (3, 3, 3), (1, 1, 1)))
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), b3], 1)


class I3DSTAP(nn.Module):
    """I3D (up to Mixed_5c) + the STAP head: (B, 3, T, H, W) clips -> (B, num_outputs)."""

    def __init__(self, num_outputs=2, width=1.0, dropout_rate=0.5, bn_decay=0.999):
        super().__init__()
        self.steps = []
        channels = 3
        for name, *spec in I3D_SPEC:
            if name.startswith("MaxPool"):
                self.steps.append(("pool", spec))
                continue
            if name.startswith("Conv"):
                features, kernel, stride = spec
                module = Unit3D(channels, scaled(features, width), kernel, stride, bn_decay)
                channels = scaled(features, width)
            else:
                b0, b1, b2, b3 = spec
                s = lambda c: scaled(c, width)  # noqa: E731
                module = Inception3D(
                    channels, s(b0), (s(b1[0]), s(b1[1])), (s(b2[0]), s(b2[1])), s(b3), bn_decay
                )
                channels = s(b0) + s(b1[1]) + s(b2[1]) + s(b3)
            self.add_module(name, module)
            self.steps.append(("module", name))
        self.dropout = nn.Dropout(dropout_rate)
        self.logits = nn.Linear(channels, num_outputs)

    def forward(self, x):
        for kind, spec in self.steps:
            x = max_pool_same(x, *spec) if kind == "pool" else getattr(self, spec)(x)
        # STAP: 2-row x full-width band averages (stride 1), max over bands, per time step.
        rows = min(2, x.shape[3])
        bands = F.avg_pool3d(x, (1, rows, x.shape[4]), stride=1)[..., 0]  # (B, C, T, R)
        steps = bands.amax(dim=3).transpose(1, 2)  # (B, T, C)
        step_logits = self.logits(self.dropout(steps))  # (B, T, 2)
        weights = torch.softmax(step_logits[..., 1] - step_logits[..., 0], dim=1)
        return torch.einsum("bt,btk->bk", weights, step_logits)


# --- ResNets (2D torchvision, 3D Hara et al.) --------------------------------------------------


class BasicBlock(nn.Module):
    def __init__(self, dims, inplanes, planes, stride, shortcut):
        super().__init__()
        conv, bn = (nn.Conv2d, nn.BatchNorm2d) if dims == 2 else (nn.Conv3d, nn.BatchNorm3d)
        self.conv1 = conv(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = bn(planes)
        self.conv2 = conv(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = bn(planes)
        self.planes, self.stride, self.shortcut = planes, stride, None
        if stride != 1 or inplanes != planes:
            if shortcut == "A":
                self.shortcut = "A"
            else:
                self.downsample = nn.Sequential(
                    conv(inplanes, planes, 1, stride, bias=False), bn(planes)
                )
                self.shortcut = "B"

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.shortcut == "A":  # Hara et al.'s _downsample_basic_block
            subsample = (slice(None, None, self.stride),) * (x.ndim - 2)
            residual = x[(slice(None), slice(None), *subsample)]
            extra = self.planes - residual.shape[1]
            if extra:
                residual = F.pad(residual, [0, 0] * (x.ndim - 2) + [0, extra])
        elif self.shortcut == "B":
            residual = self.downsample(x)
        else:
            residual = x
        return F.relu(out + residual)


class ResNet(nn.Module):
    """Basic-block ResNet backbone up to ``layer4``: torchvision's 2D one (``dims=2``, shortcut
    B, conv1 7x7/2) or Hara et al.'s 3D one (``dims=3``, conv1 7x7x7 stride (1, 2, 2))."""

    DEPTHS = {10: (1, 1, 1, 1), 18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}

    def __init__(self, dims=2, depth=18, width=1.0, shortcut="B", in_channels=3, max_pool=True):
        super().__init__()
        conv, bn = (nn.Conv2d, nn.BatchNorm2d) if dims == 2 else (nn.Conv3d, nn.BatchNorm3d)
        planes = [scaled(p, width) for p in (64, 128, 256, 512)]
        stride = 2 if dims == 2 else (1, 2, 2)
        self.conv1 = conv(in_channels, planes[0], 7, stride, 3, bias=False)
        self.bn1 = bn(planes[0])
        self.max_pool, self.dims = max_pool, dims
        inplanes = planes[0]
        for index, (p, count) in enumerate(zip(planes, self.DEPTHS[depth], strict=True), start=1):
            blocks = []
            for j in range(count):
                blocks.append(BasicBlock(dims, inplanes, p, 2 if index > 1 and j == 0 else 1,
                                         shortcut))  # fmt: skip
                inplanes = p
            setattr(self, f"layer{index}", nn.Sequential(*blocks))
        self.out_channels = inplanes

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        if self.max_pool:
            x = (F.max_pool2d if self.dims == 2 else F.max_pool3d)(x, 3, 2, 1)
        for index in range(1, 5):
            x = getattr(self, f"layer{index}")(x)
        return x


# --- Res3D + SCA -----------------------------------------------------------------------------


class RowWiseConv(nn.Module):
    """``mejax.models.sca.RowWiseConv``: n / rows groups of rows, each to ``outputs`` values."""

    def __init__(self, n, m, rows_per_group=1, outputs_per_group=1):
        super().__init__()
        self.groups, fan_in = n // rows_per_group, rows_per_group * m
        bound = 1 / math.sqrt(fan_in)
        self.kernel = nn.Parameter(torch.empty(self.groups, fan_in, outputs_per_group)
                                   .uniform_(-bound, bound))  # fmt: skip
        self.bias = nn.Parameter(torch.zeros(self.groups, outputs_per_group))

    def forward(self, matrix):
        grouped = matrix.reshape(matrix.shape[0], self.groups, -1)
        out = torch.einsum("bgi,gio->bgo", grouped, self.kernel) + self.bias
        return out.reshape(matrix.shape[0], -1)


def _covariance(x, over):
    """(B, N, C) -> channel covariance over positions (over=1) or position covariance over
    channels (over=2), normalised by the count (GSoP's 1/N)."""
    centred = x - x.mean(dim=over, keepdim=True)
    if over == 1:
        return torch.einsum("bnc,bnd->bcd", centred, centred) / x.shape[1]
    return torch.einsum("bnc,bmc->bnm", centred, centred) / x.shape[2]


class SCA(nn.Module):
    """Res3D (shortcut A) -> GSoP channel + spatial attention, learned fusion -> mean ->
    dropout -> fc: (B, 3, T, H, W) clips -> (B, num_outputs) logits.

    ``positions`` is T' x H' x W' of the ``layer4`` map (16 for 10 x 112^2 clips)."""

    def __init__(self, num_outputs, positions, depth=18, width=1.0, reduction=128,
                 outputs_per_row=4, dropout_rate=0.5):  # fmt: skip
        super().__init__()
        self.backbone = ResNet(3, depth, width, "A")
        c = self.backbone.out_channels
        r = min(reduction, c)
        # Channel attention (GSoP): reduce + BN + ReLU, covariance, row BN, row conv, expand.
        self.reduce = nn.Linear(c, r, bias=False)
        self.reduce_bn = nn.BatchNorm1d(r)
        self.channel_cov_bn = nn.BatchNorm1d(r)
        self.channel_row_conv = RowWiseConv(r, r, 1, outputs_per_row)
        self.expand = nn.Linear(r * outputs_per_row, c)
        # Spatial attention: covariance, row BN, row conv, ReLU, 1x1 conv.
        self.spatial_cov_bn = nn.BatchNorm1d(positions)
        self.spatial_row_conv = RowWiseConv(positions, positions, 1, outputs_per_row)
        self.spatial_conv = nn.Linear(positions * outputs_per_row, positions)
        self.fusion_weights = nn.Parameter(torch.full((2,), 0.5))
        self.dropout = nn.Dropout(dropout_rate)
        self.fc = nn.Linear(c, num_outputs)

    def forward(self, x):
        features = self.backbone(x)  # (B, C, T, H, W)
        b, c = features.shape[:2]
        flat = features.flatten(2).transpose(1, 2)  # (B, N, C)
        h = self.reduce(flat)
        h = F.relu(self.reduce_bn(h.reshape(-1, h.shape[-1])).reshape(h.shape))
        cov = self.channel_cov_bn(_covariance(h, over=1))
        channel = torch.sigmoid(self.expand(self.channel_row_conv(cov)))  # (B, C)
        cov = self.spatial_cov_bn(_covariance(flat, over=2))
        spatial = torch.sigmoid(self.spatial_conv(F.relu(self.spatial_row_conv(cov))))  # (B, N)
        by_channel = features * channel[:, :, None, None, None]
        by_position = features * spatial.reshape(b, 1, *features.shape[2:])
        fused = self.fusion_weights[0] * by_channel + self.fusion_weights[1] * by_position
        return self.fc(self.dropout(fused.mean(dim=(2, 3, 4))))


# --- Part-based ResNet-18 (MEGC2019) ---------------------------------------------------------


class PartMER(nn.Module):
    """ResNet-18 -> top/bottom part features -> classifiers; GRL -> domain discriminator.

    Returns (logits, (top logits, bottom logits), domain logits) of (B, C, H, W) inputs."""

    def __init__(self, num_outputs, depth=18, width=1.0, in_channels=3, max_pool=True):
        super().__init__()
        self.backbone = ResNet(2, depth, width, "B", in_channels, max_pool)
        c = self.backbone.out_channels
        self.top_embed, self.bottom_embed = nn.Linear(c, 64), nn.Linear(c, 64)
        self.top_classifier = nn.Linear(64, num_outputs)
        self.bottom_classifier = nn.Linear(64, num_outputs)
        self.classifier = nn.Linear(128, num_outputs)
        self.part_dropout = nn.Dropout(0.1)
        self.discriminator = nn.Sequential(
            nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(32, 1),
        )  # fmt: skip

    def forward(self, x, grl_lambda=0.0):
        layer4 = self.backbone(x)
        height = layer4.shape[2]
        r = min(max(round(3 * height / 7), 1), height - 1)  # mejax.models.part_mer.split_row
        top = self.part_dropout(torch.tanh(self.top_embed(layer4[:, :, :r].mean(dim=(2, 3)))))
        bottom = self.part_dropout(torch.tanh(self.bottom_embed(layer4[:, :, r:].mean(dim=(2, 3)))))
        features = torch.cat([top, bottom], dim=1)
        aux = (self.top_classifier(top), self.bottom_classifier(bottom))
        domain = self.discriminator(ReverseGradient.apply(features, grl_lambda))
        return self.classifier(features), aux, domain


# --- Dual-Inception + AU-GCN -----------------------------------------------------------------


class Inception2D(nn.Module):
    """Dual-Inception's module: 1x1; 1x1 -> 3x3; 1x1 -> 5x5; 3x3 max-pool -> 1x1 (bias, ReLU)."""

    def __init__(self, cin, filters):
        super().__init__()
        self.branch1x1 = nn.Conv2d(cin, filters, 1)
        self.branch3x3_reduce = nn.Conv2d(cin, filters, 1)
        self.branch3x3 = nn.Conv2d(filters, filters, 3, padding=1)
        self.branch5x5_reduce = nn.Conv2d(cin, filters, 1)
        self.branch5x5 = nn.Conv2d(filters, filters, 5, padding=2)
        self.branch_pool = nn.Conv2d(cin, filters, 1)

    def forward(self, x):
        b1 = F.relu(self.branch1x1(x))
        b3 = F.relu(self.branch3x3(F.relu(self.branch3x3_reduce(x))))
        b5 = F.relu(self.branch5x5(F.relu(self.branch5x5_reduce(x))))
        bp = F.relu(self.branch_pool(F.max_pool2d(x, 3, 1, 1)))
        return torch.cat([b1, b3, b5, bp], dim=1)


class NodeDense(nn.Module):
    """One Linear per node, as one (K, Fin, Fout) kernel (``mejax.models.au_gcn.NodeDense``)."""

    def __init__(self, nodes, fin, fout):
        super().__init__()
        bound = math.sqrt(6 / (fin + fout))
        self.kernel = nn.Parameter(torch.empty(nodes, fin, fout).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(nodes, fout))

    def forward(self, x):
        if x.ndim == 2:
            return torch.einsum("bf,kfo->bko", x, self.kernel) + self.bias
        return torch.einsum("bkf,kfo->bko", x, self.kernel) + self.bias


class AUGCN(nn.Module):
    """Dual-Inception (u and v streams, 28^2) -> z -> AU attention, detectors, GCN -> logits.

    Returns (logits, au_logits) of (B, 2, 28, 28) flow. ``adjacency`` is the (K, K) AU graph
    with self-loops (``mejax.au_graph.adjacency``), a constant buffer."""

    def __init__(self, num_outputs, adjacency, filters=(6, 16), features=1024,
                 detector_features=64, gcn_features=(256, 64), size=28):  # fmt: skip
        super().__init__()
        self.register_buffer("adjacency", torch.as_tensor(adjacency, dtype=torch.float32))
        k = self.adjacency.shape[0]
        self.streams = nn.ModuleList()
        for _ in range(2):
            cin, modules = 1, []
            for f in filters:
                modules.append(Inception2D(cin, f))
                cin = 4 * f
            self.streams.append(nn.ModuleList(modules))
        side = size // 2 ** len(filters)
        self.fc = nn.Linear(2 * cin * side * side, features)
        self.attention = NodeDense(k, features, features)
        self.detector_hidden = NodeDense(k, features, detector_features)
        self.detector_out = NodeDense(k, detector_features, 1)
        self.au_projection = nn.Linear(features, gcn_features[-1])
        widths = (features, *gcn_features)
        self.gcn = nn.ModuleList(
            nn.Linear(a, b, bias=False) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )  # fmt: skip
        self.classifier = nn.Linear(gcn_features[-1], num_outputs)

    def forward(self, x):
        flat = []
        for c, stream in enumerate(self.streams):
            h = x[:, c : c + 1]
            for module in stream:
                h = F.max_pool2d(module(h), 2, 2)
            flat.append(h.flatten(1))
        z = F.relu(self.fc(torch.cat(flat, dim=1)))
        attended = torch.sigmoid(self.attention(z)) * z[:, None, :]  # (B, K, F)
        au_logits = self.detector_out(F.relu(self.detector_hidden(attended)))[..., 0]
        au_features = self.au_projection(attended.sum(dim=1))
        h = attended
        for layer in self.gcn:
            h = F.relu(torch.einsum("kj,bjd->bkd", self.adjacency, layer(h)))
        return self.classifier(au_features + h.sum(dim=1)), au_logits


# --- Micro-attention ResNet-10 ---------------------------------------------------------------


class MicroAttention(nn.Module):
    """CVGJ's pre-activation ResNet-10 with a micro-attention unit per stage (Caffe's layers:
    ``data_bn``, conv1 with bias, ceil-mode max-pool, ``conv_expand`` shortcuts, O = S + M S).

    (B, C, H, W) images -> (B, num_outputs) logits."""

    def __init__(self, num_outputs, width=1.0, in_channels=1, attention=True):
        super().__init__()
        channels = [scaled(c, width) for c in (64, 128, 256, 512)]
        self.attention = attention
        self.data_bn = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, channels[0], 7, 2, 3, bias=True)
        self.conv1_bn = nn.BatchNorm2d(channels[0])
        cin = channels[0]
        self.stages = nn.ModuleList()
        for index, c in enumerate(channels):
            stage = nn.Module()
            stride = 1 if index == 0 else 2
            if index:
                stage.bn1 = nn.BatchNorm2d(cin)
                stage.conv_expand = nn.Conv2d(cin, c, 1, 2, bias=False)
            stage.conv1 = nn.Conv2d(cin, c, 3, stride, 1, bias=False)
            stage.bn2 = nn.BatchNorm2d(c)
            stage.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
            if attention:
                stage.mask_conv = nn.Conv2d(3 * c, c, 1, bias=False)
            self.stages.append(stage)
            cin = c
        self.last_bn = nn.BatchNorm2d(cin)
        self.fc = nn.Linear(cin, num_outputs)

    def forward(self, x):
        x = F.relu(self.conv1_bn(self.conv1(self.data_bn(x))))
        x = F.max_pool2d(x, 3, 2, ceil_mode=True)
        for index, stage in enumerate(self.stages):
            if index == 0:
                a1 = F.relu(stage.bn2(stage.conv1(x)))
                shortcut = x
            else:
                p = F.relu(stage.bn1(x))
                a1 = F.relu(stage.bn2(stage.conv1(p)))
                shortcut = stage.conv_expand(p)
            r = stage.conv2(a1)
            summed = r + shortcut
            if self.attention:
                h = stage.mask_conv(torch.cat([shortcut, a1, r], dim=1))
                mask = torch.sigmoid(h.mean(dim=1, keepdim=True))  # the fixed C -> 1 mean
                x = summed + mask * summed
            else:
                x = summed
        x = F.relu(self.last_bn(x))
        return self.fc(x.mean(dim=(2, 3)))
