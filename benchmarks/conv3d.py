"""Times ``mejax.models.layers.conv_general_dilated`` against lax's (and PyTorch's) on I3D's and
Res3D's 3D convolutions.

Two convolutions on a (batch, frames, size, size, 3) clip (defaults: I3D's STAP input of 10
frames, at 112^2 so that it runs in seconds on a CPU):

- the stem: 7x7x7, stride 2, 3 -> ``channels`` (64 in the published networks): I3D's
  Conv3d_1a_7x7; with ``--stem-time-stride 1 --batch 4`` shaped like Res3D-18's ``conv1`` in
  ``benchmarks/train_step.py`` (whose spatial padding is (3, 3), where "SAME" pads (2, 3));
- a mid-level 3x3x3 convolution, stride 1, shaped like Mixed_3b's Branch_1: on the map after
  MaxPool3d_3a (frames/2, size/8, size/8), 1.5 * ``channels`` -> 2 * ``channels`` (96 -> 128).

For each it times, after a warm-up call that compiles, the forward pass and the gradient with
respect to the kernel (a first-layer training step needs no input gradient), and for the
mid-level convolution also the forward pass with both gradients (what a training step runs).
Both JAX sides compile with the models' options (``mejax.models.compiler``). Where PyTorch is
installed, the same operations run in PyTorch too (``torch.nn.functional.conv3d`` and
``torch.ops.aten.convolution_backward``, channels-first, ``torch.set_num_threads(os.cpu_count())``),
as the reference of ``benchmarks/train_step.py``. Reported times are the best of ``--repeats``
calls; the ratios are lax time / mejax time and PyTorch time / mejax time (above 1: mejax is
faster). On backends other than CPU mejax defers to lax, so the first ratio is 1 up to noise.

On 2 CPU cores with no other job (JAX 0.10.2, torch 2.13.0), best of 5, ms as lax / mejax /
PyTorch, then PyTorch/mejax; the Res3D-18 column is ``--batch 4 --stem-time-stride 1``:

====================  ===========  =========================  ===========================
convolution           operation    defaults (I3D)             Res3D-18
====================  ===========  =========================  ===========================
stem 7x7x7            fwd          151.1 / 27.1 / 20.2  0.75  650.1 / 123.6 / 97.3  0.79
stem 7x7x7            kernel grad  330.7 / 37.5 / 21.5  0.57  1479.9 / 154.0 / 87.4  0.57
3x3x3, 5 x 14^2 x 96  fwd+grad     51.2 / 21.2 / 19.0  0.90   112.3 / 50.8 / 43.5  0.86
====================  ===========  =========================  ===========================

The folded convolutions run at 2 to 10 times lax's speed, and the mid-level one at 0.86-0.90
of PyTorch's; the strided stems over 3 input channels do not: Res3D-18's stem takes 93 ms more
than PyTorch's (forward and kernel gradient, ratios 0.79 and 0.57), most of that family's gap
in ``benchmarks/train_step.py``.

  python benchmarks/conv3d.py [--batch 2] [--frames 10] [--size 112] [--channels 64]
                              [--stem-time-stride 2] [--repeats 5]

Last line (the headline): ``conv3d: lax/mejax speed ratio X (stem kernel grad), Y (3x3x3
fwd+grad); pytorch/mejax X', Y' on <backend>`` (without PyTorch, the part after ";" is left out).
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from mejax.models import compiler
from mejax.models.layers import conv_general_dilated

DIMENSION_NUMBERS = ("NDHWC", "DHWIO", "NDHWC")


def _parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=2, help="clips per batch")
    parser.add_argument("--frames", type=int, default=10, help="frames per clip")
    parser.add_argument("--size", type=int, default=112, help="frame height and width")
    parser.add_argument("--channels", type=int, default=64, help="stem output channels")
    parser.add_argument(
        "--stem-time-stride", type=int, default=2, help="temporal stride of the stem (Res3D: 1)"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per measurement")
    return parser.parse_args()


def _best_time(call, repeats):
    """Best of ``repeats`` calls of ``call()``, after one warm-up call (which compiles)."""
    call()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def _blocking(program, *args):
    """A call of the jitted ``program`` on ``args`` that waits for its result."""
    return lambda: jax.block_until_ready(program(*args))


def _torch_programs(torch, x, kernel, cotangent, strides):
    """PyTorch's forward, kernel gradient and forward-with-both-gradients of the same
    convolution (channels-first copies; TensorFlow's "SAME" padding applied beforehand)."""
    functional = torch.nn.functional
    pads = lax.padtype_to_pads(x.shape[1:4], kernel.shape[:3], strides, "SAME")
    padding = [p for pair in reversed(pads) for p in pair]  # F.pad: last dimension first
    x = functional.pad(torch.from_numpy(np.array(x)).permute(0, 4, 1, 2, 3), padding).contiguous()
    kernel = torch.from_numpy(np.array(kernel)).permute(4, 3, 0, 1, 2).contiguous()
    cotangent = torch.from_numpy(np.array(cotangent)).permute(0, 4, 1, 2, 3).contiguous()

    def backward(mask):
        return torch.ops.aten.convolution_backward(
            cotangent, x, kernel, None, strides, [0] * 3, [1] * 3, False, [0] * 3, 1, mask
        )

    def forward_and_gradients():
        functional.conv3d(x, kernel, stride=strides)
        return backward([True, True, False])

    return {
        "fwd": lambda: functional.conv3d(x, kernel, stride=strides),
        "kernel grad": lambda: backward([False, True, False]),
        "fwd+grad": forward_and_gradients,
    }


def _programs(conv, strides):
    """Jitted forward, kernel gradient and forward-with-both-gradients of ``conv``."""

    def forward(x, kernel):
        return conv(x, kernel, strides, "SAME", dimension_numbers=DIMENSION_NUMBERS)

    def loss(x, kernel, cotangent):
        return jnp.vdot(forward(x, kernel), cotangent)

    return {
        "fwd": compiler.jit(lambda x, k, ct: forward(x, k)),
        "kernel grad": compiler.jit(jax.grad(loss, argnums=1)),
        "fwd+grad": compiler.jit(jax.value_and_grad(loss, argnums=(0, 1))),
    }


def main():
    args = _parse_args()
    rng = np.random.default_rng(0)
    channels = args.channels
    mid_frames, mid_size = -(-args.frames // 2), -(-args.size // 8)
    stem = f"stem 7x7x7/{args.stem_time_stride}x2x2"
    cases = {
        # name: (input shape, kernel shape, strides, operations timed)
        stem: (
            (args.batch, args.frames, args.size, args.size, 3),
            (7, 7, 7, 3, channels),
            (args.stem_time_stride, 2, 2),
            ("fwd", "kernel grad"),
        ),
        "3x3x3": (
            (args.batch, mid_frames, mid_size, mid_size, 3 * channels // 2),
            (3, 3, 3, 3 * channels // 2, 2 * channels),
            (1, 1, 1),
            ("fwd", "kernel grad", "fwd+grad"),
        ),
    }
    try:
        import torch
    except ImportError:
        torch = None
    else:
        torch.set_num_threads(os.cpu_count())
    backend = jax.default_backend()
    print(f"backend {backend}, {jax.device_count()} device(s); best of {args.repeats} calls")
    header = f"{'convolution':<18} {'input':<22} {'operation':<12} {'lax ms':>9} "
    print(
        header
        + f"{'mejax ms':>11} {'ratio':>6}"
        + (f" {'torch ms':>9} {'ratio':>6}" if torch else "")
    )
    ratios, torch_ratios = {}, {}
    for name, (x_shape, k_shape, strides, operations) in cases.items():
        x = jnp.asarray(rng.normal(size=x_shape), jnp.float32)
        kernel = jnp.asarray(rng.normal(size=k_shape) / np.sqrt(np.prod(k_shape[:-1])), jnp.float32)
        out_shape = jax.eval_shape(
            lambda x, k, s=strides: lax.conv_general_dilated(
                x, k, s, "SAME", dimension_numbers=DIMENSION_NUMBERS
            ),
            x,
            kernel,
        ).shape
        cotangent = jnp.asarray(rng.normal(size=out_shape), jnp.float32)
        reference = _programs(lax.conv_general_dilated, strides)
        ours = _programs(conv_general_dilated, strides)
        if torch:
            theirs = _torch_programs(torch, x, kernel, cotangent, strides)
        for operation in operations:
            t_lax, t_ours = (
                _best_time(_blocking(program, x, kernel, cotangent), args.repeats)
                for program in (reference[operation], ours[operation])
            )
            ratios[name, operation] = t_lax / t_ours
            shape = "x".join(map(str, x_shape))
            line = (
                f"{name:<18} {shape:<22} {operation:<12} {1e3 * t_lax:>9.1f} "
                f"{1e3 * t_ours:>11.1f} {t_lax / t_ours:>6.2f}"
            )
            if torch:
                t_torch = _best_time(theirs[operation], args.repeats)
                torch_ratios[name, operation] = t_torch / t_ours
                line += f" {1e3 * t_torch:>9.1f} {t_torch / t_ours:>6.2f}"
            print(line)
    headline = (
        f"conv3d: lax/mejax speed ratio {ratios[stem, 'kernel grad']:.2f} (stem kernel grad), "
        f"{ratios['3x3x3', 'fwd+grad']:.2f} (3x3x3 fwd+grad)"
    )
    if torch:
        headline += (
            f"; pytorch/mejax {torch_ratios[stem, 'kernel grad']:.2f}, "
            f"{torch_ratios['3x3x3', 'fwd+grad']:.2f}"
        )
    print(f"{headline} on {backend}")


if __name__ == "__main__":
    main()
