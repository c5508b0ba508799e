"""``mejax.models.layers.max_pool`` against ``flax.linen.max_pool``, the reference, in one process.

1. Pools alone: forward and backward (``jax.grad`` of the summed squares) of the pools the models
   use, each compiled once, timed alternately, best of ``--repeats``; the largest difference
   between the two gradients is printed (float rounding where windows overlap).
2. Whole training steps (``--families``, the families of ``benchmarks/train_step.py``): the same
   step compiled twice, once with every model pool as flax's and once as mejax's (the module
   attribute the models call is swapped while tracing), timed alternately, median of
   ``--repeats``.

  python benchmarks/max_pool.py [--repeats 7] [--families res3d,resnet10_attention,...]

Last line (the headline): ``max_pool: flax/mejax step time ratio: res3d X, ...`` (above 1:
mejax's pools make the step faster). Figures measured with it are in ``mejax/models/layers.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import types
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from mejax.models import layers

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# (name, input shape, window, strides, padding)
POOLS = [
    ("res3d stem 3x3x3/2", (4, 10, 56, 56, 64), (3, 3, 3), (2, 2, 2), ((1, 1),) * 3),
    ("3x3x3/1", (2, 5, 28, 28, 192), (3, 3, 3), (1, 1, 1), "SAME"),
    ("i3d stem 1x3x3/(1,2,2)", (2, 5, 56, 56, 64), (1, 3, 3), (1, 2, 2), "SAME"),
    ("resnet stem 3x3/2", (32, 32, 32, 64), (3, 3), (2, 2), ((1, 1), (1, 1))),
]
FAMILIES = ("i3d", "res3d", "part_resnet18", "dual_inception_gcn", "resnet10_attention")


def _parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--families", default=",".join(FAMILIES))
    args = parser.parse_args()
    args.families = [f for f in args.families.split(",") if f]
    return args


def flax_pool(x, window_shape, strides=None, padding="VALID"):
    return nn.max_pool(x, window_shape, strides, padding)


def _alternate(calls: dict, repeats: int) -> dict:
    """Times of each call, run alternately (the order flips every round)."""
    times = {name: [] for name in calls}
    for index in range(repeats):
        for name in list(calls) if index % 2 == 0 else list(calls)[::-1]:
            start = time.perf_counter()
            calls[name]()
            times[name].append(time.perf_counter() - start)
    return times


def _pool_grad(pool, window, strides, padding):
    """The jitted gradient of the summed squares of ``pool``'s output."""
    return jax.jit(jax.grad(lambda x: (pool(x, window, strides, padding) ** 2).sum()))


def pools(repeats: int) -> None:
    rng = np.random.default_rng(0)
    for name, shape, window, strides, padding in POOLS:
        x = jnp.asarray(np.maximum(rng.standard_normal(shape), 0).astype(np.float32))
        grads = {side: _pool_grad(pool, window, strides, padding)
                 for side, pool in (("flax", flax_pool), ("mejax", layers.max_pool))}  # fmt: skip
        results = {side: np.asarray(grad(x)) for side, grad in grads.items()}  # compiles
        difference = float(np.abs(results["flax"] - results["mejax"]).max())
        calls = {s: (lambda g=g, x=x: g(x).block_until_ready()) for s, g in grads.items()}
        times = _alternate(calls, repeats)
        flax_s, mejax_s = min(times["flax"]), min(times["mejax"])
        print(f"pool {name:<24} {shape}: flax {1e3 * flax_s:7.1f} ms, mejax "
              f"{1e3 * mejax_s:7.1f} ms, ratio {flax_s / mejax_s:5.2f}, gradients {difference:.1e} "
              "apart")  # fmt: skip


def step_ratio(name: str, repeats: int) -> float:
    from benchmarks import train_step

    args = types.SimpleNamespace(i3d_size=112, quick=False)
    family = train_step.BUILDERS[name](np.random.default_rng(0), args)
    batch = {
        "inputs": jnp.asarray(family.inputs),
        "targets": {k: jnp.asarray(v) for k, v in family.targets.items()},
    }
    runs, original = {}, layers.max_pool
    try:
        for side, pool in (("flax", flax_pool), ("mejax", original)):
            layers.max_pool = pool  # read by the models while the step is traced
            state = train_step.host_init(family)
            step = train_step.mejax_step(family)
            compiled = step.lower(state, batch, family.learning_rate, jnp.int32(0)).compile()
            state, loss = compiled(state, batch, family.learning_rate, jnp.int32(0))  # warm-up
            jax.block_until_ready(loss)
            runs[side] = {"step": compiled, "state": state, "index": 1}
    finally:
        layers.max_pool = original

    def call(run):
        run["state"], loss = run["step"](
            run["state"], batch, family.learning_rate, jnp.int32(run["index"])
        )
        run["index"] += 1
        jax.block_until_ready((run["state"], loss))

    times = _alternate({side: lambda r=run: call(r) for side, run in runs.items()}, repeats)
    flax_s, mejax_s = statistics.median(times["flax"]), statistics.median(times["mejax"])
    print(f"step {name:<20} flax {1e3 * flax_s:7.0f} ms, mejax {1e3 * mejax_s:7.0f} ms "
          f"(median of {repeats}), ratio {flax_s / mejax_s:5.2f}", flush=True)  # fmt: skip
    return flax_s / mejax_s


def main():
    args = _parse_args()
    print(f"jax {jax.__version__} ({jax.default_backend()})")
    pools(args.repeats)
    ratios = {name: step_ratio(name, args.repeats) for name in args.families}
    print("max_pool: flax/mejax step time ratio: "
          + ", ".join(f"{n} {r:.2f}" for n, r in ratios.items()))  # fmt: skip


if __name__ == "__main__":
    main()
