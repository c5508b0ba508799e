"""``benchmarks/train_step.py`` compares mejax's models with PyTorch twins
(``benchmarks/torch_models.py``): each twin must be the same network. At the benchmark's
``--quick`` sizes (small widths and inputs, the paper configs otherwise), both sides must have
the same number of trained parameters and the same logits shape. Skipped without torch."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

# The tests share a module fixture: one process under pytest -n runs them (and it) once.
pytestmark = pytest.mark.xdist_group("benchmark_train_step")

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def train_step():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("train_step")
    finally:
        sys.path.remove(str(BENCHMARKS))


class _Quick:
    quick = True
    i3d_size = 112


@pytest.mark.parametrize(
    "name", ["i3d", "res3d", "part_resnet18", "dual_inception_gcn", "resnet10_attention"]
)
def test_torch_twin_is_the_same_network(train_step, name):
    torch.manual_seed(0)
    family = train_step.BUILDERS[name](np.random.default_rng(0), _Quick)
    variables = train_step.flax_shapes(family)
    n_flax = train_step.count_flax(variables["params"])
    n_torch = train_step.count_torch(family.torch_model)
    assert n_flax > 1000
    assert n_torch == n_flax, f"{name}: {n_torch} PyTorch vs {n_flax} Flax parameters"
    ours, theirs = train_step.output_shapes(family, variables)
    assert ours == theirs, name
    assert ours[0] == family.inputs.shape[0]


def test_torch_step_updates_weights_and_statistics(train_step):
    """One PyTorch step of the benchmark is a full training step: a finite loss, every
    parameter with a gradient moved by the optimizer, the BatchNorm running statistics
    updated."""
    torch.manual_seed(0)
    family = train_step.BUILDERS["resnet10_attention"](np.random.default_rng(0), _Quick)
    model = family.torch_model
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    loss = float(train_step.torch_step(family)())
    after = model.state_dict()
    assert np.isfinite(loss)
    assert not torch.equal(before["conv1.weight"], after["conv1.weight"])
    assert not torch.equal(before["fc.bias"], after["fc.bias"])
    assert not torch.equal(before["last_bn.running_mean"], after["last_bn.running_mean"])
    assert int(after["last_bn.num_batches_tracked"]) == 1


def test_step_flops_is_xla_count_of_the_compiled_program(train_step):
    compiled = jax.jit(lambda a, b: a @ b).lower(jnp.ones((8, 16)), jnp.ones((16, 4))).compile()
    assert train_step.step_flops(compiled) == 2 * 8 * 16 * 4
