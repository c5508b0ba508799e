"""One full training step of each mejax model family against the same network in PyTorch.

What is timed: forward pass, backward pass, optimizer update and BatchNorm running-statistics
update of one model on one batch of random inputs, in training mode (dropout on), in one process
on the same CPU. The two sides:

* mejax: the model built from the paper config's ``model`` block by ``mejax.models.build``, the
  optimizer of its ``optimizer`` block by ``mejax.optim.make_optimizer`` (optax), the loss of its
  task (the functions of ``mejax.losses`` / ``mejax.tasks``), in one ``jax.jit`` program with the
  state donated -- the body of ``mejax.train.make_steps``' ``train_one`` (without its vmap over
  stacked models, which is of size one on CPU, its finiteness flag and the uint8 -> float input
  normalisation); JAX on its default CPU backend;
* PyTorch: the same network written in plain ``torch.nn`` (``benchmarks/torch_models.py``; the
  parameter counts of both sides are printed and must agree), ``torch.optim`` with the same
  settings, the same loss, eager mode, ``torch.set_num_threads(os.cpu_count())`` (or
  ``--torch-threads``; on shared cores use 1, see the figures below).

Families and shapes: the paper settings' networks, at the papers' batch sizes where a step stays
within seconds on a CPU, smaller ones for the 3D networks (STAP's batch of 6 and SCA's of 64
would only scale both sides' times):

1. ``i3d``: I3D + STAP head at full published width (STAPF, ``configs/stapf.py:casme2``), one
   binary AU model (mejax trains the K AU models one after another on CPU), focal loss, SGD 0.01
   momentum 0.9; batch 2, 10 frames at 112^2 (``--i3d-size 224`` for the paper's 224^2).
2. ``res3d``: Res3D-18 (shortcut A) + SCA (``configs/sca.py:casme2``), 8 AU logits, summed
   sigmoid cross-entropy, SGD 0.01 momentum 0.9 weight decay 1e-3; batch 4, 10 x 112^2 (the
   paper's crop).
3. ``part_resnet18``: the part-based ResNet-18 with the adversarial discriminator of MEGC2019
   (``configs/neural_mer.py:megc2019``), 3 classes, class + part + domain cross-entropies, Adam
   with the reference's three parameter groups and per-group gradient clipping; batch 32 (the
   paper's), 112^2 HSV flow.
4. ``dual_inception_gcn``: Dual-Inception + AU attention, detectors and GCN
   (``configs/au_gcn.py:megc2018``), 5 classes and 12 AUs, cross-entropy + 0.75 x the balanced
   detection loss, Adam 5e-4; batch 64 (the paper's), 28^2 two-channel flow.
5. ``resnet10_attention``: CVGJ's pre-activation ResNet-10 with micro-attention units
   (``configs/micro_attention.py:casme2``), 5 classes, cross-entropy, SGD 1e-3 momentum 0.9
   weight decay 5e-4; batch 10 (the LOSO setting's), 224^2 greyscale apex frames.

``--quick`` shrinks every family (1/8 of the channels, small frames and batches; the
Dual-Inception network at its full size, batch 16): a smoke test of the script and of the twins,
not a measurement. It took 3 min 15 s on the machine below, 2 min of it XLA compiling the five
steps (I3D's alone 73 s); compilation does not shrink with the shapes.

Timing: after a warm-up (mejax: compile, timed and reported separately, then one step; PyTorch:
two steps), ``--repeats`` rounds, each timing one mejax step and one PyTorch step in alternating
order, after a 50 ms pause (the machine's cores are shared, so both sides see the same load);
medians are reported, and the best step of each side next to them. The ratio is PyTorch time /
mejax time (above 1: mejax is faster). The mejax state starts from NumPy draws in the shapes of
the model's ``init`` (see :func:`host_init`): jitting ``init`` would compile for longer than the
benchmark runs; the PyTorch side keeps its own default initialisation.

  python benchmarks/train_step.py [--families i3d,res3d,...] [--repeats 5] [--i3d-size 112]
                                  [--torch-threads N] [--torch-device auto|cpu|cuda]
                                  [--peak-tflops P] [--quick]

Work per step: each family's row also gives XLA's count of the floating-point operations of the
compiled mejax step (its cost analysis: ``GFLOP``), the rate mejax's median step reaches
(``TFLOP/s``) and, with ``--peak-tflops`` (the device's peak for the step's precision; JAX's
default float32 convolutions and products on recent NVIDIA GPUs use TF32 tensor cores), the
model FLOPs utilisation (``MFU``). On an accelerator: JAX runs there, and PyTorch does too
(``--torch-device auto`` picks CUDA when JAX's backend is a GPU and PyTorch sees one; a PyTorch
without CUDA stays on the CPU, and the header says that the ratios then compare two devices).
On CUDA, PyTorch's float32 matrix products and convolutions are allowed TF32, as JAX's are by
default there.

Both sides use the same cores: PyTorch its default ``torch.set_num_threads(os.cpu_count())``,
XLA its thread pool over every core. Measured on 2 CPU cores with no other job (load average
about 1), JAX 0.10.2 (XLA CPU), torch 2.13.0 (CPU wheel), ``--repeats 5``; median step
times in ms as mejax/PyTorch, then the ratio, at commit b0cd498 (before), after changes 1-3
below (fe0c994) and, in three runs, after changes 1-5 (run 3 on a slower day for both sides):

==================  ==============  ==============  ==============  ==============  ==============
family              before          after 1-3       1-5, run 1      1-5, run 2      1-5, run 3
==================  ==============  ==============  ==============  ==============  ==============
i3d                   803/461 0.57    549/420 0.76    420/371 0.88    405/392 0.97    485/387 0.80
res3d                1584/910 0.57   1102/895 0.81    898/727 0.81    895/761 0.85   1185/923 0.78
part_resnet18         925/699 0.76    792/682 0.86    711/625 0.88    725/695 0.96    750/688 0.92
dual_inception_gcn    312/346 1.11    304/361 1.19    264/260 0.99    269/281 1.04    301/324 1.08
resnet10_attention    774/585 0.76    674/583 0.86    527/485 0.92    613/562 0.92    687/585 0.85
==================  ==============  ==============  ==============  ==============  ==============

A fourth run after changes 1-5, with the FLOP columns added: i3d 395/389 0.98, res3d 1056/759
0.72, part_resnet18 711/602 0.85, dual_inception_gcn 302/317 1.05, resnet10_attention 542/502
0.93. PyTorch's own time moves by up to 27 % between runs (with the same code: res3d 727, 761
and 923 ms, dual_inception_gcn 260 to 361 ms), mejax's too (res3d 895 to 1185 ms): read the
ratios to about +-0.1, and the changes by the one-process A/B figures below. Each change was
measured with both programs compiled in one process and timed alternately (median of 5 to 10 steps):

1. ``mejax.models.compiler``: XLA's default on CPU hands convolutions to YNNPACK; compiled
   without it, res3d 1565 -> 1101 ms, i3d 769 -> 719, part_resnet18 1030 -> 953,
   resnet10_attention 739 -> 704; dual_inception_gcn 300 -> 324 (its 28^2 convolutions suit
   YNNPACK; one rule for every model is kept).
2. ``mejax.models.layers.conv_general_dilated`` folds a 3D kernel's time steps into the input
   channels (one 2D convolution instead of one per time step): res3d 1220 -> 1038 ms, i3d 882 ->
   842.
3. ``mejax.models.layers.max_pool`` routes the gradient one axis at a time and I3D uses it
   (``python benchmarks/max_pool.py --families i3d``): i3d 703 -> 535 ms.
4. ``mejax.models.batch_norm.BatchNorm`` in place of ``flax.linen.BatchNorm`` (hand-written
   gradient, per-channel sums as matrix products; the profile of ResNet-10's step had shown 105
   ms in the windowed reductions XLA makes of Flax's sums): i3d 555 -> 467 ms,
   part_resnet18 782 -> 687, resnet10_attention 627 -> 561, res3d 978 -> 915;
   dual_inception_gcn has no BatchNorm.
5. ``conv_general_dilated`` computes a 1x1 convolution as a matrix product (XLA computes a 1x1
   convolution's kernel gradient as a convolution over transposed copies of both operands, into
   which it fused I3D's 3x3x3 max-pools a second time): i3d 542 -> 483 ms (10 steps each);
   part_resnet18 707 -> 685, resnet10_attention 594 -> 590 and res3d (no 1x1 convolution) 946
   -> 988: unchanged within noise.

Earlier, the pools from strided slices and skipping the kernel time steps that meet only
padding (both in ``mejax.models.layers``) had taken Res3D-18's step from 2729 to 1982 ms on
busy cores. A previous version of this docstring and of the README quoted ratios measured with
PyTorch on one thread (``--torch-threads 1``) against XLA on two: i3d 0.93, res3d 0.90,
part_resnet18 1.35, dual_inception_gcn 1.63, resnet10_attention 1.49. Those compare one core
with two and overstate mejax; on a quiet machine PyTorch's step is 1.3-1.7 times as fast on 2
threads as on 1. ``--torch-threads 1`` stays for machines whose other jobs keep the cores busy,
where PyTorch's threads wait on each other (3 to 10 times slower steps); pin both sides to one
core there (``taskset -c 1 python benchmarks/train_step.py --torch-threads 1``). I3D at the
paper's 224^2: ``--i3d-size 224``. Compilation (mejax only, not in the step times): i3d about
15-20 s, res3d 6-8 s, the 2D families 3-8 s.

Where the time still goes: Res3D-18's step (XLA CPU trace, ``XLA_FLAGS=
--xla_cpu_enable_xprof_traceme=true`` and ``jax.profiler.trace`` over 3 steps, on busy cores)
spends about 60 % in the convolutions and 11 % in transposes and copies around them. One
convolution alone (forward and both gradients, 2 threads each, busy cores): Res3D's 3x3x3 64 ->
64 on 4 x 10 x 28^2 takes mejax 274 ms against PyTorch's (oneDNN's) 159 ms, I3D's 3x3x3 96 ->
128 on 2 x 5 x 28^2 175 against 225 ms. Tried and dropped: XLA's oneDNN and XNNPACK options
(no effect); measured with YNNPACK on only, the strided stems as stride-1 convolutions on
space-to-depth input (1.2-3.9 times slower) and the 3D convolutions as explicit patches times a
matrix (up to 2.5 times slower than folded); the stem over chunks of the batch (with YNNPACK
its forward pass and kernel gradient took 1024 ms whole and 430 ms in chunks of 10 frames; with
XLA's own convolutions 297 ms whole and 317-400 ms in chunks of 5-20 frames).

After changes 1-5, on a quiet machine: XLA's 2D convolutions are as fast as PyTorch's forward
(3x3, 64 -> 64 on 10 x 56^2: 17.6 ms against 28.4 ms channels-first, 13.2 channels-last) but
not backward (forward and both gradients 76 against 60 ms; 3x3 512 -> 512 on 10 x 7^2 58 against
45 ms): XLA computes a kernel gradient as a convolution over transposed copies of the input and
the output gradient, and an input gradient with a transposed copy of the kernel (3 x 3 x 512 x
512: 4.4 ms alone, 8-14 ms inside Res3D's and the part-based ResNet-18's steps, where transposes
and copies still take 100-130 ms of the step). Tried and dropped: the kernel gradient as
explicit patches times a matrix (1.1-1.7 times slower, the stems too); YNNPACK for dots,
elementwise fusions or reductions only, and XLA's concurrency-optimised scheduler (no change).
XLA's matrix kernel is not the limit: 2048^2 products run at 201 GFLOP/s against PyTorch's 193.

Most of the remaining gap is in the stems, strided 7x7(x7) convolutions over 1 to 3 input
channels, whose kernel gradient XLA computes at 0.57 times PyTorch's speed
(``benchmarks/conv3d.py``, forward + kernel gradient: Res3D-18's stem 124 + 154 ms against 97 +
87, I3D's 27 + 38 against 20 + 22). Tried and dropped after changes 1-5 (one-process A/B, 2
CPU cores): the stems on space-to-depth input with XLA's own convolutions (Res3D's stem forward
and kernel gradient 303-320 -> 360-385 ms, I3D's 83-86 -> 87-94); the stem's kernel gradient in
chunks of the batch (150 -> 179-267 ms); the folded stem input built directly in the layout of
the kernel gradient's convolution (356 -> 389 ms); input gradients that flip the activations
rather than the kernel (XLA copies a kernel's flip and transpose at once, 4.0 ms for 3 x 3 x 512
x 512 against 1.3 ms for the transpose alone: one 3x3 512 -> 512 convolution on 4 x 4^2 went
from 12.6 to 9.7 ms, whole steps did not change: res3d 969 -> 977 ms, part_resnet18 725 ->
729); Dual-Inception's convolutions through ``conv_general_dilated`` (294 -> 289 ms, noise);
XLA's 512-bit vectors (``xla_cpu_prefer_vector_width``; no change). Closing the rest needs a
convolution kernel outside XLA (a oneDNN call through XLA's FFI, or a Pallas CPU kernel), a C++
build step that mejax does not have.

Last line (the headline): ``train step pytorch/mejax speed ratio: i3d X, res3d Y,
part_resnet18 Z, dual_inception_gcn W, resnet10_attention V`` (families not run show ``-``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import torch
import torch.nn.functional as F

from mejax import au_graph, config_args, losses, models, optim, tasks
from mejax.models import compiler

try:  # run as a script (benchmarks/ on sys.path) or imported as benchmarks.train_step
    import torch_models
except ImportError:  # pragma: no cover
    from benchmarks import torch_models

REPO = Path(__file__).resolve().parent.parent
FAMILIES = ("i3d", "res3d", "part_resnet18", "dual_inception_gcn", "resnet10_attention")


def load_config(name: str, arg: str):
    """``configs/<name>.py``'s ``get_config(arg)``."""
    return config_args.load_file(REPO / "configs" / f"{name}.py", arg)


@dataclasses.dataclass
class Family:
    """One model family: both networks, their inputs, targets, losses and optimizers."""

    name: str
    description: str
    flax_model: object
    tx: optax.GradientTransformation
    learning_rate: object  # scalar, or dict group -> scalar (optimizer groups)
    inputs: np.ndarray  # channels last (mejax's layout)
    targets: dict  # name -> np.ndarray
    jax_loss: Callable  # (outputs, targets) -> scalar
    torch_model: torch.nn.Module
    torch_optimizer: Callable  # model -> (torch optimizer, clip groups [(params, max_norm)])
    torch_loss: Callable  # (outputs, targets) -> scalar
    model_kwargs: dict = dataclasses.field(default_factory=dict)
    torch_main: Callable = lambda outputs: outputs  # the main logits of the torch outputs


def _channels_first(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(x, -1, 1))


def _focal_torch(logits, labels, alpha, gamma):
    """``mejax.losses.focal_loss`` (optax's sigmoid focal loss on the logit margin), mean."""
    margin = logits[:, 1] - logits[:, 0]
    y = labels.float()
    p = torch.sigmoid(margin)
    ce = F.binary_cross_entropy_with_logits(margin, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    alpha_t = alpha * y + (1 - alpha) * (1 - y)
    return (alpha_t * ce * (1 - p_t) ** gamma).mean()


def _balanced_detection_torch(logits, labels, gamma=2.0, offset=0.05):
    """``mejax.losses.balanced_detection_loss`` without a mask."""
    y = labels.float()
    alpha = y.mean(dim=0)
    p = torch.sigmoid(logits)
    positive = alpha * (1 - p) ** gamma * y * torch.log((p + offset) / (1 + offset))
    negative = (1 - alpha) * p**gamma * (1 - y) * torch.log((1 + offset - p) / (1 + offset))
    return -(positive + negative).sum() / (logits.shape[0] * logits.shape[1])


def _sgd(config):
    def make(model):
        opt = torch.optim.SGD(
            model.parameters(),
            lr=config.learning_rate,
            momentum=config.momentum,
            weight_decay=config.weight_decay,
        )
        return opt, []

    return make


def _adam(config):
    def make(model):
        return torch.optim.Adam(
            model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        ), []

    return make


def _scalar_lr(config):
    return jnp.float32(config.learning_rate)


def i3d_family(rng, quick: bool, size: int) -> Family:
    config = load_config("stapf", "casme2")
    model_config = dict(config.model)
    batch, frames, width = (2, 8, 0.125) if quick else (2, 10, model_config["width"])
    size = 32 if quick else size
    model_config["width"] = width
    flax_model = models.build(model_config, num_outputs=2)
    kwargs = dict(config.task.loss_kwargs)

    def jax_loss(outputs, targets):
        return jnp.mean(losses.focal_loss(outputs, targets["labels"], **kwargs))

    def torch_loss(outputs, targets):
        return _focal_torch(outputs, targets["labels"], kwargs["alpha"], kwargs["gamma"])

    return Family(
        "i3d",
        f"I3D+STAP width {width}, batch {batch}, {frames}x{size}^2x3",
        flax_model,
        optim.make_optimizer(config.optimizer),
        _scalar_lr(config.optimizer),
        rng.uniform(-1, 1, (batch, frames, size, size, 3)).astype(np.float32),
        {"labels": rng.integers(0, 2, batch)},
        jax_loss,
        torch_models.I3DSTAP(2, width, config.model.dropout_rate, config.model.bn_momentum),
        _sgd(config.optimizer),
        torch_loss,
    )


def res3d_family(rng, quick: bool) -> Family:
    config = load_config("sca", "casme2")
    model_config = dict(config.model)
    batch, frames, size, width = (4, 8, 32, 0.125) if quick else (4, 10, 112, model_config["width"])
    model_config["width"] = width
    if quick:
        model_config["channel_reduction"] = 16
    num_aus = len(config.task.aus)
    flax_model = models.build(model_config, num_outputs=num_aus)
    # layer4 positions: conv1 keeps T, max-pool and layers 2-4 halve T, H, W (ceil).
    t, s = frames, -(-size // 2)
    for _ in range(4):
        t, s = -(-t // 2), -(-s // 2)

    def jax_loss(outputs, targets):
        per_au = optax.sigmoid_binary_cross_entropy(outputs, targets["labels"])
        return jnp.mean(jnp.sum(per_au, axis=-1))

    def torch_loss(outputs, targets):
        per_au = F.binary_cross_entropy_with_logits(outputs, targets["labels"], reduction="none")
        return per_au.sum(dim=-1).mean()

    torch_model = torch_models.SCA(
        num_aus,
        t * s * s,
        model_config["depth"],
        width,
        model_config["channel_reduction"],
        model_config["channel_outputs_per_row"],
        model_config["dropout_rate"],
    )
    return Family(
        "res3d",
        f"Res3D-{model_config['depth']}+SCA width {width}, batch {batch}, {frames}x{size}^2x3",
        flax_model,
        optim.make_optimizer(config.optimizer),
        _scalar_lr(config.optimizer),
        rng.uniform(-1, 1, (batch, frames, size, size, 3)).astype(np.float32),
        {"labels": rng.integers(0, 2, (batch, num_aus)).astype(np.float32)},
        jax_loss,
        torch_model,
        _sgd(config.optimizer),
        torch_loss,
    )


def part_family(rng, quick: bool) -> Family:
    config = load_config("neural_mer", "megc2019")
    model_config = dict(config.model)
    batch, size, width = (8, 64, 0.125) if quick else (config.train.batch_size, 112, 1.0)
    model_config["width"] = width
    classes = 3  # MEGC2019's negative, positive, surprise
    flax_model = models.build(model_config, num_outputs=classes)
    tx = optim.make_optimizer(config.optimizer)
    groups = config.optimizer.groups
    learning_rate = {name: jnp.float32(g["learning_rate"]) for name, g in groups.items()}

    def jax_loss(outputs, targets):
        loss = tasks.Recognition.class_loss(outputs["logits"], targets["classes"], {})
        for logits in outputs["aux_logits"]:
            loss = loss + tasks.Recognition.class_loss(logits, targets["classes"], {})
        domain = optax.sigmoid_binary_cross_entropy(
            outputs["domain_logits"].reshape(-1), targets["domain"]
        )
        return loss + jnp.mean(domain)

    def torch_loss(outputs, targets):
        logits, aux, domain = outputs
        loss = F.cross_entropy(logits, targets["classes"])
        for part in aux:
            loss = loss + F.cross_entropy(part, targets["classes"])
        return loss + F.binary_cross_entropy_with_logits(domain.reshape(-1), targets["domain"])

    def torch_optimizer(model):
        by_group = {"backbone": [], "heads": [], "discriminator": []}
        for name, param in model.named_parameters():
            top = name.split(".")[0]
            group = "backbone" if top == "backbone" else (
                "discriminator" if top == "discriminator" else "heads"
            )  # fmt: skip
            by_group[group].append(param)
        opt = torch.optim.Adam(
            [{"params": p, "lr": groups[g]["learning_rate"]} for g, p in by_group.items()],
            weight_decay=config.optimizer.weight_decay,
        )
        clips = [(by_group[g], groups[g]["clip_norm"]) for g in by_group if groups[g]["clip_norm"]]
        return opt, clips

    return Family(
        "part_resnet18",
        f"part ResNet-18 + discriminator width {width}, batch {batch}, {size}^2x3",
        flax_model,
        tx,
        learning_rate,
        rng.uniform(0, 1, (batch, size, size, 3)).astype(np.float32),
        {
            "classes": rng.integers(0, classes, batch),
            "domain": rng.integers(0, 2, batch).astype(np.float32),
        },
        jax_loss,
        torch_models.PartMER(classes, model_config["depth"], width),
        torch_optimizer,
        torch_loss,
        model_kwargs={"grl_lambda": jnp.float32(0.5)},
        torch_main=lambda outputs: outputs[0],
    )


def au_gcn_family(rng, quick: bool) -> Family:
    config = load_config("au_gcn", "megc2018")
    model_config = dict(config.model)
    batch = 16 if quick else config.train.batch_size
    classes = 5  # objective classes I-V
    aus = tuple(model_config["aus"])
    flax_model = models.build(model_config, num_outputs=classes)
    weight = config.task.detection_weight
    adjacency = au_graph.adjacency(aus, model_config["graph"])

    def jax_loss(outputs, targets):
        loss = tasks.Recognition.class_loss(outputs["logits"], targets["classes"], {})
        return loss + weight * losses.balanced_detection_loss(outputs["au_logits"], targets["aus"])

    def torch_loss(outputs, targets):
        logits, au_logits = outputs
        loss = F.cross_entropy(logits, targets["classes"])
        return loss + weight * _balanced_detection_torch(au_logits, targets["aus"])

    torch_model = torch_models.AUGCN(
        classes, adjacency, features=model_config["backbone_features"], size=28
    )
    return Family(
        "dual_inception_gcn",
        f"Dual-Inception + AU-GCN ({len(aus)} AUs), batch {batch}, 28^2x2",
        flax_model,
        optim.make_optimizer(config.optimizer),
        _scalar_lr(config.optimizer),
        rng.normal(0, 1, (batch, 28, 28, 2)).astype(np.float32),
        {
            "classes": rng.integers(0, classes, batch),
            "aus": rng.integers(0, 2, (batch, len(aus))).astype(np.float32),
        },
        jax_loss,
        torch_model,
        _adam(config.optimizer),
        torch_loss,
        torch_main=lambda outputs: outputs[0],
    )


def micro_attention_family(rng, quick: bool) -> Family:
    config = load_config("micro_attention", "casme2")
    model_config = dict(config.model)
    batch, size, width = (4, 64, 0.125) if quick else (config.train.batch_size, 224, 1.0)
    model_config["width"] = width
    classes = 5
    flax_model = models.build(model_config, num_outputs=classes)

    def jax_loss(outputs, targets):
        return tasks.Recognition.class_loss(outputs["logits"], targets["classes"], {})

    def torch_loss(outputs, targets):
        return F.cross_entropy(outputs, targets["classes"])

    return Family(
        "resnet10_attention",
        f"ResNet-10 + micro-attention width {width}, batch {batch}, {size}^2x1",
        flax_model,
        optim.make_optimizer(config.optimizer),
        _scalar_lr(config.optimizer),
        rng.uniform(0, 255, (batch, size, size, 1)).astype(np.float32),
        {"classes": rng.integers(0, classes, batch)},
        jax_loss,
        torch_models.MicroAttention(classes, width, 1, model_config["attention"]),
        _sgd(config.optimizer),
        torch_loss,
    )


BUILDERS = {
    "i3d": lambda rng, args: i3d_family(rng, args.quick, args.i3d_size),
    "res3d": lambda rng, args: res3d_family(rng, args.quick),
    "part_resnet18": lambda rng, args: part_family(rng, args.quick),
    "dual_inception_gcn": lambda rng, args: au_gcn_family(rng, args.quick),
    "resnet10_attention": lambda rng, args: micro_attention_family(rng, args.quick),
}


# --- the two steps ---------------------------------------------------------------------------


def host_init(family: Family, seed: int = 0) -> dict:
    """Initial state of ``family``'s Flax model drawn with NumPy in the shapes of its
    ``init``: kernels N(0, 1/fan_in), BatchNorm scales 1, biases and running means 0, running
    variances 1. XLA on CPU compiles ``init``'s random draws of 4-D and 5-D shapes for tens of
    seconds per network; the values only have to keep the step finite."""
    rng = np.random.default_rng(seed)
    shapes = flax_shapes(family)

    def draw(path, leaf):
        name = jax.tree_util.keystr(path)
        if "scale" in name or "var" in name or "fusion_weights" in name:
            return jnp.ones(leaf.shape, leaf.dtype)
        if len(leaf.shape) < 2 or "bias" in name or "mean" in name:
            return jnp.zeros(leaf.shape, leaf.dtype)
        fan_in = int(np.prod(leaf.shape[:-1]))
        return jnp.asarray(rng.normal(0, 1 / np.sqrt(fan_in), leaf.shape), leaf.dtype)

    params = jax.tree_util.tree_map_with_path(draw, shapes["params"])
    return {
        "params": params,
        "batch_stats": jax.tree_util.tree_map_with_path(draw, shapes.get("batch_stats", {})),
        "opt_state": jax.jit(family.tx.init)(params),
        "rng": jax.random.key(seed),
    }


def mejax_step(family: Family):
    """The jitted step of ``family``'s Flax model: step(state, batch, lr, index) -> (state,
    loss), the state donated (as ``mejax.train.make_steps``' ``train_one``)."""
    model, tx = family.flax_model, family.tx

    def step(state, batch, learning_rate, index):
        def loss_fn(params):
            outputs, updates = model.apply(
                {"params": params, "batch_stats": state["batch_stats"]},
                batch["inputs"],
                train=True,
                rngs={"dropout": jax.random.fold_in(state["rng"], index)},
                mutable=["batch_stats"],
                **family.model_kwargs,
            )
            return family.jax_loss(outputs, batch["targets"]), updates.get("batch_stats", {})

        (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(state["params"])
        opt_state = state["opt_state"]
        optim.set_learning_rates(opt_state, learning_rate)
        updates, opt_state = tx.update(grads, opt_state, state["params"])
        params = optax.apply_updates(state["params"], updates)
        return {"params": params, "batch_stats": batch_stats, "opt_state": opt_state,
                "rng": state["rng"]}, loss  # fmt: skip

    return compiler.jit(step, donate_argnums=0)


def torch_step(family: Family, device: str = "cpu"):
    """A closure running one PyTorch training step of ``family`` on ``device`` (the model is
    moved there); returns the loss once the step has finished on the device."""
    device = torch.device(device)
    model = family.torch_model.to(device).train()
    opt, clips = family.torch_optimizer(model)
    x = torch.from_numpy(_channels_first(family.inputs)).to(device)
    targets = {
        k: torch.from_numpy(v).to(device, torch.float32 if v.dtype.kind == "f" else torch.long)
        for k, v in family.targets.items()
    }
    kwargs = {k: float(v) for k, v in family.model_kwargs.items()}

    def step():
        opt.zero_grad(set_to_none=True)
        loss = family.torch_loss(model(x, **kwargs), targets)
        loss.backward()
        for params, max_norm in clips:
            torch.nn.utils.clip_grad_norm_(params, max_norm)
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return loss.detach()

    return step


def count_flax(params) -> int:
    return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(params))


def count_torch(model) -> int:
    return sum(p.numel() for p in model.parameters())


def flax_shapes(family: Family) -> dict:
    """Shapes of the Flax model's variables (``params``, ``batch_stats``), without computing."""
    key = jax.random.key(0)
    return jax.eval_shape(
        lambda: family.flax_model.init(
            {"params": key, "dropout": key},
            jnp.asarray(family.inputs),
            train=False,
            **family.model_kwargs,
        )
    )


def output_shapes(family: Family, variables) -> tuple:
    """Main logits' shapes of both networks (``variables``: arrays or their shapes; the Flax
    side is only traced, the PyTorch side runs once in eval mode)."""
    outputs = jax.eval_shape(
        lambda v, x: family.flax_model.apply(v, x, train=False, **family.model_kwargs),
        {"params": variables["params"], "batch_stats": variables.get("batch_stats", {})},
        jax.ShapeDtypeStruct(family.inputs.shape, jnp.float32),
    )
    ours = tasks.main_output(outputs).shape
    model = family.torch_model.eval()
    with torch.no_grad():
        theirs = family.torch_main(model(torch.from_numpy(_channels_first(family.inputs))))
    model.train()
    return tuple(ours), tuple(theirs.shape)


def step_flops(compiled) -> float:
    """Floating-point operations of one compiled mejax step, as XLA counts them (its cost
    analysis of the optimised program; NaN where the backend gives no count)."""
    costs = compiled.cost_analysis()
    if isinstance(costs, list | tuple):  # older jaxlibs: one dict per program
        costs = costs[0] if costs else {}
    return float((costs or {}).get("flops", float("nan")))


def measure(family: Family, repeats: int, torch_device: str = "cpu") -> dict:
    """Compile time, parameter counts, XLA's FLOP count of the mejax step and median step
    times of both sides (interleaved)."""
    state, step = host_init(family), mejax_step(family)
    batch = {
        "inputs": jnp.asarray(family.inputs),
        "targets": {k: jnp.asarray(v) for k, v in family.targets.items()},
    }
    n_flax, n_torch = count_flax(state["params"]), count_torch(family.torch_model)
    shapes = output_shapes(family, state)
    if n_flax != n_torch or shapes[0] != shapes[1]:
        raise AssertionError(
            f"{family.name}: the PyTorch twin is not the same network: {n_flax} vs {n_torch} "
            f"parameters, output shapes {shapes[0]} vs {shapes[1]} (benchmarks/torch_models.py)"
        )
    lr = family.learning_rate
    start = time.perf_counter()
    compiled = step.lower(state, batch, lr, jnp.int32(0)).compile()
    compile_s = time.perf_counter() - start
    flops = step_flops(compiled)
    state, loss = compiled(state, batch, lr, jnp.int32(0))  # warm-up
    jax.block_until_ready(loss)
    run_torch = torch_step(family, torch_device)
    for _ in range(2):  # warm-up (oneDNN primitive caches, allocator)
        run_torch()
    times = {"mejax": [], "pytorch": []}
    for index in range(repeats):
        for side in ("mejax", "pytorch") if index % 2 == 0 else ("pytorch", "mejax"):
            time.sleep(0.05)  # lets the other side's idle worker threads stop spinning
            start = time.perf_counter()
            if side == "mejax":
                state, loss = compiled(state, batch, lr, jnp.int32(index + 1))
                jax.block_until_ready((state, loss))
            else:
                run_torch()
            times[side].append(time.perf_counter() - start)
    return {
        "params": n_flax,
        "shape": shapes[0],
        "compile_s": compile_s,
        "flops": flops,
        "mejax_s": statistics.median(times["mejax"]),
        "pytorch_s": statistics.median(times["pytorch"]),
        "mejax_best_s": min(times["mejax"]),
        "pytorch_best_s": min(times["pytorch"]),
    }


def _parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", default=",".join(FAMILIES),
                        help=f"comma-separated subset of {','.join(FAMILIES)}")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per side")
    parser.add_argument("--i3d-size", type=int, default=112, help="I3D frame side (224: paper)")
    parser.add_argument("--quick", action="store_true", help="small shapes (a smoke test)")
    parser.add_argument("--torch-threads", type=int, default=os.cpu_count() or 1,
                        help="torch.set_num_threads (default: the CPU count)")  # fmt: skip
    parser.add_argument("--torch-device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="PyTorch's device (auto: cuda where JAX runs on a GPU)")  # fmt: skip
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="the device's peak TFLOP/s, for the MFU column")  # fmt: skip
    args = parser.parse_args()
    args.families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = sorted(set(args.families) - set(FAMILIES))
    if unknown:
        parser.error(f"--families: {unknown} not in {FAMILIES}")
    if args.torch_device == "auto":
        on_gpu = jax.default_backend() == "gpu" and torch.cuda.is_available()
        args.torch_device = "cuda" if on_gpu else "cpu"
    elif args.torch_device == "cuda" and not torch.cuda.is_available():
        parser.error("--torch-device cuda: this PyTorch build sees no CUDA device")
    return args


def main():
    args = _parse_args()
    threads = os.cpu_count() or 1
    torch.set_num_threads(args.torch_threads)
    if args.torch_device == "cuda":  # float32 products and convolutions in TF32, as JAX's default
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    rng = np.random.default_rng(0)
    torch_on = args.torch_device
    if torch_on == "cpu":
        torch_on = f"cpu, {torch.get_num_threads()} threads"
    print(
        f"jax {jax.__version__} ({jax.devices()[0].device_kind}), torch {torch.__version__} "
        f"({torch_on}), {threads} CPU(s); median of {args.repeats} interleaved steps"
    )
    if jax.default_backend() != "cpu" and args.torch_device == "cpu":
        print("note: JAX and PyTorch run on different devices; the ratios compare those")
    print(f"{'family':<20} {'params':>10} {'compile s':>9} {'mejax ms':>9} {'torch ms':>9} "
          f"{'ratio':>6} {'best: mejax':>11} {'torch':>7} {'GFLOP':>7} {'TFLOP/s':>7} "
          f"{'MFU':>6}  network")  # fmt: skip
    ratios = {}
    for name in args.families:
        family = BUILDERS[name](rng, args)
        result = measure(family, args.repeats, args.torch_device)
        ratio = result["pytorch_s"] / result["mejax_s"]
        ratios[name] = ratio
        tflops = result["flops"] / result["mejax_s"] / 1e12
        mfu = f"{100 * tflops / args.peak_tflops:.1f}%" if args.peak_tflops else "-"
        print(
            f"{name:<20} {result['params']:>10,} {result['compile_s']:>9.1f} "
            f"{1e3 * result['mejax_s']:>9.1f} {1e3 * result['pytorch_s']:>9.1f} {ratio:>6.2f} "
            f"{1e3 * result['mejax_best_s']:>11.1f} {1e3 * result['pytorch_best_s']:>7.1f} "
            f"{result['flops'] / 1e9:>7.1f} {tflops:>7.3f} {mfu:>6}  {family.description}",
            flush=True,
        )
    headline = ", ".join(
        f"{name} {ratios[name]:.2f}" if name in ratios else f"{name} -" for name in FAMILIES
    )
    print(f"train step pytorch/mejax speed ratio: {headline}")


if __name__ == "__main__":
    main()
