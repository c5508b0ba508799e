"""``mejax.models.batch_norm.BatchNorm`` against ``flax.linen.BatchNorm`` (and PyTorch's
``BatchNorm2d``) in one process.

What is timed: a training-mode BatchNorm + ReLU, forward and backward (the gradient of the
summed output times a fixed cotangent with respect to the input, the scale and the bias), on a
channels-last (N, H, W, C) batch, each JAX side compiled once with the models' options
(``mejax.models.compiler``); where PyTorch is installed, ``BatchNorm2d`` + ReLU on a
channels-first copy, ``torch.set_num_threads(os.cpu_count())``. Best of ``--repeats`` calls
after a warm-up call. The largest difference between mejax's and Flax's input gradients is
printed (float rounding: mejax sums in another order).

  python benchmarks/batch_norm.py [--shape 10,112,112,64] [--repeats 7]

Last line (the headline): ``batch_norm: flax/mejax speed ratio X; pytorch/mejax Y on
<backend>`` (above 1: mejax is faster; without PyTorch, the part after ";" is left out).
Figures measured with it are in ``mejax/models/batch_norm.py``.
"""

from __future__ import annotations

import argparse
import os
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from mejax.models import compiler
from mejax.models.batch_norm import BatchNorm


def _parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shape",
        type=lambda s: tuple(int(n) for n in s.split(",")),
        default=(10, 112, 112, 64),
        help="N,H,W,C of the batch (default: ResNet-10's stem output on 10 apex frames)",
    )
    parser.add_argument("--repeats", type=int, default=7, help="timed calls per side")
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


def _jax_program(module, x):
    """Jitted forward and backward of ``relu(module(x))`` in training mode."""
    variables = module.init(jax.random.key(0), x)

    def loss(params, x, cotangent):
        y, _ = module.apply(
            {"params": params, "batch_stats": variables["batch_stats"]},
            x,
            mutable=["batch_stats"],
        )
        return jnp.vdot(jax.nn.relu(y), cotangent)

    step = compiler.jit(jax.grad(loss, argnums=(0, 1)))
    return variables["params"], step


def _torch_call(torch, x, cotangent):
    """PyTorch's BatchNorm2d + ReLU forward and backward on channels-first copies."""
    x = torch.from_numpy(np.array(x)).permute(0, 3, 1, 2).contiguous().requires_grad_()
    cotangent = torch.from_numpy(np.array(cotangent)).permute(0, 3, 1, 2).contiguous()
    norm = torch.nn.BatchNorm2d(x.shape[1]).train()

    def call():
        torch.relu(norm(x)).backward(cotangent)

    return call


def main():
    args = _parse_args()
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=args.shape), jnp.float32)
    cotangent = jnp.asarray(rng.normal(size=args.shape), jnp.float32)
    try:
        import torch
    except ImportError:
        torch = None
    else:
        torch.set_num_threads(os.cpu_count())
    backend = jax.default_backend()
    print(f"backend {backend}, {jax.device_count()} device(s); best of {args.repeats} calls")
    print(f"BatchNorm + ReLU forward and backward of {'x'.join(map(str, args.shape))}")
    times, gradients = {}, {}
    for name, module in (
        ("flax", nn.BatchNorm(use_running_average=False, momentum=0.9)),
        ("mejax", BatchNorm(use_running_average=False, momentum=0.9)),
    ):
        params, step = _jax_program(module, x)
        times[name] = _best_time(
            lambda step=step, params=params: jax.block_until_ready(step(params, x, cotangent)),
            args.repeats,
        )
        gradients[name] = step(params, x, cotangent)[1]
    if torch:
        times["pytorch"] = _best_time(_torch_call(torch, x, cotangent), args.repeats)
    for name, seconds in times.items():
        ratio = f"   {name}/mejax {seconds / times['mejax']:.2f}" if name != "mejax" else ""
        print(f"{name:<8} {1e3 * seconds:8.1f} ms{ratio}")
    difference = float(jnp.max(jnp.abs(gradients["mejax"] - gradients["flax"])))
    print(f"largest difference of the input gradients, mejax - flax: {difference:.1e}")
    headline = f"batch_norm: flax/mejax speed ratio {times['flax'] / times['mejax']:.2f}"
    if torch:
        headline += f"; pytorch/mejax {times['pytorch'] / times['mejax']:.2f}"
    print(f"{headline} on {backend}")


if __name__ == "__main__":
    main()
