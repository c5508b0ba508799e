"""Times ``mejax.models.layers.conv_general_dilated`` against lax's on I3D's 3D convolutions.

Two convolutions of I3D on a (batch, frames, size, size, 3) clip (defaults: the STAP input of
10 frames, at 112^2 so that it runs in seconds on a CPU):

- the stem, Conv3d_1a_7x7: 7x7x7, stride 2, 3 -> ``channels`` (64 in the published network);
- a mid-level 3x3x3 convolution, stride 1, shaped like Mixed_3b's Branch_1: on the map after
  MaxPool3d_3a (frames/2, size/8, size/8), 1.5 * ``channels`` -> 2 * ``channels`` (96 -> 128).

For each it times, after a warm-up call that compiles, the forward pass and the gradient with
respect to the kernel (a first-layer training step needs no input gradient), and for the
mid-level convolution also the forward pass with both gradients (what a training step runs).
Both sides compile with the models' options (``mejax.models.compiler``). Reported times are
the best of ``--repeats`` jitted calls; the ratio is lax time / mejax time
(above 1: mejax is faster). On backends other than CPU mejax defers to lax, so the ratios
are 1 up to noise.

  python benchmarks/conv3d.py [--batch 2] [--frames 10] [--size 112] [--channels 64] [--repeats 5]

Last line (the headline):
``conv3d: lax/mejax speed ratio X (stem kernel grad), Y (3x3x3 fwd+grad) on <backend>``.
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per measurement")
    return parser.parse_args()


def _best_time(fn, args, repeats):
    jax.block_until_ready(fn(*args))  # warm-up: compiles
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - start)
    return best


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
    cases = {
        # name: (input shape, kernel shape, strides, operations timed)
        "stem 7x7x7/2": (
            (args.batch, args.frames, args.size, args.size, 3),
            (7, 7, 7, 3, channels),
            (2, 2, 2),
            ("fwd", "kernel grad"),
        ),
        "3x3x3": (
            (args.batch, mid_frames, mid_size, mid_size, 3 * channels // 2),
            (3, 3, 3, 3 * channels // 2, 2 * channels),
            (1, 1, 1),
            ("fwd", "kernel grad", "fwd+grad"),
        ),
    }
    backend = jax.default_backend()
    print(f"backend {backend}, {jax.device_count()} device(s); best of {args.repeats} calls")
    header = f"{'convolution':<14} {'input':<22} {'operation':<12} {'lax ms':>9} "
    print(header + f"{'mejax ms':>11} {'ratio':>6}")
    ratios = {}
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
        for operation in operations:
            t_lax = _best_time(reference[operation], (x, kernel, cotangent), args.repeats)
            t_ours = _best_time(ours[operation], (x, kernel, cotangent), args.repeats)
            ratios[name, operation] = t_lax / t_ours
            shape = "x".join(map(str, x_shape))
            print(
                f"{name:<14} {shape:<22} {operation:<12} {1e3 * t_lax:>9.1f} "
                f"{1e3 * t_ours:>11.1f} {t_lax / t_ours:>6.2f}"
            )
    print(
        f"conv3d: lax/mejax speed ratio {ratios['stem 7x7x7/2', 'kernel grad']:.2f} "
        f"(stem kernel grad), {ratios['3x3x3', 'fwd+grad']:.2f} (3x3x3 fwd+grad) on {backend}"
    )


if __name__ == "__main__":
    main()
