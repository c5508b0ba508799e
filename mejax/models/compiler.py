"""XLA options of the jitted programs that run mejax's models.

On a CPU, XLA (jaxlib 0.10) hands convolutions and dots to YNNPACK by default ("YNN
fusions"). On the models' training steps XLA's own convolutions are faster: with YNNPACK
off, ``python benchmarks/train_step.py`` (2 CPU cores, each step compiled both ways in one
process and timed alternately, median of 5) went from 1565 to 1101 ms for Res3D-18 + SCA,
769 -> 719 ms for I3D + STAP, 1030 -> 953 ms for the part-based ResNet-18 and 739 -> 704 ms
for ResNet-10 + micro-attention; Dual-Inception + GCN, whose inputs are 28^2, went from 300
to 324 ms. mejax compiles its training, evaluation and prediction programs with
:func:`compiler_options`; a JAX project that imports the models gets the same programs with
``jax.jit(fn, compiler_options=mejax.models.compiler.compiler_options())`` (or :func:`jit`).

The option changes which library computes the convolutions, so float rounding differs from
XLA's default, not the results' meaning. Other backends and an XLA without the option (older
jaxlibs have no YNNPACK) compile with their defaults.
"""

from __future__ import annotations

import functools

import jax

CPU_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": ""}  # no YNNPACK fusions


@functools.cache
def compiler_options() -> dict:
    """:data:`CPU_OPTIONS` on a CPU backend whose XLA knows them, else ``{}``."""
    if jax.default_backend() != "cpu":
        return {}
    try:
        jax.jit(lambda x: x + 1, compiler_options=CPU_OPTIONS).lower(0.0).compile()
    except jax.errors.JaxRuntimeError:  # "No such compile option": an XLA without YNNPACK
        return {}
    return dict(CPU_OPTIONS)


def jit(fun=None, **kwargs):
    """``jax.jit`` with :func:`compiler_options`; also a decorator, with or without arguments."""
    if fun is None:
        return functools.partial(jit, **kwargs)
    return jax.jit(fun, compiler_options=compiler_options(), **kwargs)
