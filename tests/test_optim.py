"""Tests of mejax.optim: parameter groups (per-group learning rates, coupled weight decay and
per-group or per-module gradient clipping, as the MEGC2019 recogniser's reference code trains),
the "halve while above" schedule, and the single-rate optimizer without groups."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from mejax import optim, presets

WEIGHT_DECAY = 1e-6


def _params():
    return {
        "backbone": {"conv": {"kernel": jnp.array([[0.5, -1.0], [2.0, 0.25]])}},
        "head_fc": {"kernel": jnp.array([1.0, -2.0, 3.0]), "bias": jnp.array([0.1])},
        "head_out": {"bias": jnp.array([-0.3, 0.7])},
    }


def _grads(scale_head=1.0):
    params = _params()
    grads = jax.tree.map(lambda p: 0.1 * jnp.ones_like(p) - 0.05 * p, params)
    grads["head_fc"] = jax.tree.map(lambda g: scale_head * g, grads["head_fc"])
    grads["head_out"] = jax.tree.map(lambda g: scale_head * g, grads["head_out"])
    return grads


def _config(backbone_clip=0.0, head_clip=0.0):
    config = presets.sgd_optimizer(name="adam", learning_rate=0.5, weight_decay=WEIGHT_DECAY)
    config.groups = {
        "backbone": {"params": ("backbone",), "learning_rate": 1e-5, "clip_norm": backbone_clip},
        "heads": {
            "params": ("head",),
            "learning_rate": 1e-3,
            "schedule": "step",
            "decay_every_epochs": 10,
            "decay_factor": 0.5,
            "min_learning_rate": 1e-5,
            "clip_norm": head_clip,
        },
    }
    return config


def _adam_first_step(grad, param, lr, eps=1e-8):
    """Adam's first update by hand, with PyTorch's coupled weight decay (L2 in the gradient)."""
    g = np.asarray(grad, np.float64) + WEIGHT_DECAY * np.asarray(param, np.float64)
    m, v = 0.1 * g, 0.001 * g**2  # (1 - b1) g, (1 - b2) g^2
    m_hat, v_hat = m / 0.1, v / 0.001
    return -lr * m_hat / (np.sqrt(v_hat) + eps)


def _step(config, grads, learning_rate):
    tx = optim.make_optimizer(config)
    params = _params()

    @jax.jit
    def update(grads, learning_rate):
        state = tx.init(params)
        optim.set_learning_rates(state, learning_rate)
        updates, _ = tx.update(grads, state, params)
        return updates

    return update(grads, learning_rate)


def _global_norm(tree):
    return float(jnp.sqrt(sum(jnp.sum(x**2) for x in jax.tree.leaves(tree))))


def test_groups_step_at_their_own_rates_with_coupled_weight_decay():
    config = _config()
    rates = optim.make_learning_rates(config, num_steps=100, steps_per_epoch=1)(0)
    assert rates == {"backbone": np.float32(1e-5), "heads": np.float32(1e-3)}
    # Rates injected at run time (traced), not the ones the optimizer was built with.
    rates = {"backbone": np.float32(2e-5), "heads": np.float32(3e-3)}
    grads, params = _grads(), _params()
    updates = _step(config, grads, rates)
    for name, lr in (("backbone", 2e-5), ("head_fc", 3e-3), ("head_out", 3e-3)):
        got, want = (
            jax.tree.leaves(updates[name]),
            jax.tree.leaves(
                jax.tree.map(
                    lambda g, p, lr=lr: _adam_first_step(g, p, lr), grads[name], params[name]
                )
            ),
        )
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-12)
    # The first Adam step is +-lr wherever the gradient is non-zero: the groups' rates differ.
    assert abs(float(updates["backbone"]["conv"]["kernel"][0, 0])) == pytest.approx(2e-5, 1e-4)
    assert abs(float(updates["head_fc"]["kernel"][0])) == pytest.approx(3e-3, 1e-4)


def test_clipping_is_per_group():
    """A group with a huge gradient is clipped to norm 1 by its own norm; the other is not,
    nor is a group whose ``clip_norm`` is 0."""
    grads = _grads(scale_head=1e4)
    heads = {k: grads[k] for k in ("head_fc", "head_out")}
    assert _global_norm(heads) > 1e3
    assert _global_norm(grads["backbone"]) < 1.0
    # Adam's first update is sign-like: test with SGD (lr 1, no decay, no momentum), whose
    # update is minus the clipped gradient.
    sgd = _config(backbone_clip=1.0, head_clip=1.0)
    sgd.name, sgd.momentum, sgd.weight_decay = "sgd", 0.0, 0.0
    rates = {"backbone": np.float32(1.0), "heads": np.float32(1.0)}
    updates = _step(sgd, grads, rates)
    head_updates = {k: updates[k] for k in ("head_fc", "head_out")}
    assert _global_norm(head_updates) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(  # the direction is kept
        updates["head_fc"]["kernel"],
        -heads["head_fc"]["kernel"] / _global_norm(heads),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        updates["backbone"]["conv"]["kernel"], -grads["backbone"]["conv"]["kernel"], rtol=1e-6
    )
    sgd.groups.heads.clip_norm = 0.0  # not clipped
    updates = _step(sgd, grads, rates)
    np.testing.assert_allclose(updates["head_fc"]["kernel"], -grads["head_fc"]["kernel"], rtol=1e-6)


def test_clipping_per_module_clips_each_module_by_its_own_norm():
    """``clip_per_module``: each top-level module of a group is clipped to the norm on its own
    (the reference's ``clip_grad_norm_`` per module), not the group's modules jointly."""
    grads = _grads(scale_head=1e4)
    sgd = _config(backbone_clip=1.0, head_clip=1.0)
    sgd.name, sgd.momentum, sgd.weight_decay = "sgd", 0.0, 0.0
    sgd.groups.heads.clip_per_module = True
    rates = {"backbone": np.float32(1.0), "heads": np.float32(1.0)}
    updates = _step(sgd, grads, rates)
    for name in ("head_fc", "head_out"):
        assert _global_norm(updates[name]) == pytest.approx(1.0, rel=1e-5), name
        np.testing.assert_allclose(  # the direction is kept
            updates[name]["bias"], -grads[name]["bias"] / _global_norm(grads[name]), rtol=1e-5
        )
    np.testing.assert_allclose(
        updates["backbone"]["conv"]["kernel"], -grads["backbone"]["conv"]["kernel"], rtol=1e-6
    )


def test_nmer_groups_clip_every_module_but_the_discriminator_on_its_own():
    """The reference (``Train/main.py``) clips resnet, fc_top, fc_bottom, classifier,
    classifier_top and classifier_bottom each to norm 1; the discriminator is not clipped."""
    from mejax.models import part_mer

    model = part_mer.PartMER(num_outputs=3, depth=10, width=1 / 16, discriminator=True)
    shapes = jax.eval_shape(
        lambda x: model.init({"params": jax.random.PRNGKey(0)}, x, train=False),
        jnp.zeros((1, 64, 64, 3)),
    )["params"]
    grads = jax.tree.map(lambda s: jnp.full(s.shape, 10.0, s.dtype), shapes)
    params = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
    config = presets.sgd_optimizer(name="sgd", learning_rate=1.0, momentum=0.0, weight_decay=0.0)
    config.groups = {
        name: {**group, "learning_rate": 1.0, "schedule": "constant", "weight_decay": 0.0}
        for name, group in optim.NMER_GROUPS.items()
    }
    tx = optim.make_optimizer(config)
    state = tx.init(params)
    optim.set_learning_rates(state, optim.make_learning_rates(config, 10)(0))
    updates, _ = jax.jit(tx.update)(grads, state, params)
    modules = ("backbone", "top_embed", "bottom_embed", "classifier", "top_classifier",
               "bottom_classifier")  # fmt: skip
    for name in modules:
        assert _global_norm(updates[name]) == pytest.approx(1.0, rel=1e-5), name
    for name in ("discriminator_fc1", "discriminator_fc2", "discriminator_out"):
        assert _global_norm(updates[name]) == pytest.approx(_global_norm(grads[name]), rel=1e-6)


def test_halving_while_above_the_floor():
    """1e-3 halved every 10 epochs while above 1e-5: 1.5625e-5 at epoch 60 is still above, so
    epoch 70 halves once more to 7.8125e-6 (below the floor), which then stays."""
    config = _config()
    steps_per_epoch = 3
    rates = optim.make_learning_rates(config, 100 * steps_per_epoch, steps_per_epoch)
    want = {
        0: 1e-3, 9: 1e-3, 10: 5e-4, 20: 2.5e-4, 50: 3.125e-5, 60: 1.5625e-5, 69: 1.5625e-5,
        70: 7.8125e-6, 80: 7.8125e-6, 99: 7.8125e-6,
    }  # fmt: skip
    for epoch, lr in want.items():
        for step in (epoch * steps_per_epoch, epoch * steps_per_epoch + steps_per_epoch - 1):
            got = rates(step)
            assert got["heads"] == np.float32(lr), (epoch, got)
            assert got["backbone"] == np.float32(1e-5)
    # The rule itself, step by step as the reference applies it.
    lr, by_rule = 1e-3, []
    for epoch in range(100):
        if epoch and epoch % 10 == 0 and lr > 1e-5:
            lr /= 2
        by_rule.append(np.float32(lr))
    assert [rates(e * steps_per_epoch)["heads"] for e in range(100)] == by_rule
    # A floor reached exactly stops there; no floor: halving goes on.
    config.groups.heads.min_learning_rate = 1.25e-4
    assert optim.make_learning_rates(config, 300, 3)(99 * 3)["heads"] == np.float32(1.25e-4)
    config.groups.heads.min_learning_rate = 0.0
    assert optim.make_learning_rates(config, 300, 3)(70 * 3)["heads"] == np.float32(1e-3 / 2**7)
    assert optim.make_learning_rates(config, 300, 3)(90 * 3)["heads"] == np.float32(1e-3 / 2**9)


def test_unmatched_and_ambiguous_parameters_are_errors():
    config = _config()
    del config.groups["heads"]
    with pytest.raises(ValueError, match=r"in no group: \['head_fc', 'head_out'\]"):
        optim.make_optimizer(config).init(_params())
    config = _config()
    config.groups.backbone.params = ("backbone", "head_f")
    with pytest.raises(ValueError, match=r"in several: \['head_fc \(backbone, heads\)'\]"):
        optim.make_optimizer(config).init(_params())
    config = _config()
    config.groups.heads.learning_rte = 1.0
    with pytest.raises(ValueError, match="learning_rte"):
        optim.make_optimizer(config)


def test_nmer_groups_cover_the_recogniser():
    from mejax.models import part_mer

    model = part_mer.PartMER(num_outputs=3, depth=18, discriminator=True)
    shapes = jax.eval_shape(
        lambda x: model.init({"params": jax.random.PRNGKey(0)}, x, train=False),
        jnp.zeros((1, 64, 64, 3)),
    )["params"]
    labels = optim.group_labels(optim.NMER_GROUPS, shapes.keys())
    assert labels["backbone"] == "backbone"
    assert {labels[k] for k in ("classifier", "top_embed", "bottom_classifier")} == {"heads"}
    assert labels["discriminator_out"] == "discriminator"
    assert optim.NMER_GROUPS["discriminator"]["clip_norm"] == 0.0


@pytest.mark.parametrize("weight_decay", [0.0, 1e-4])
def test_no_groups_is_the_single_rate_optimizer(weight_decay):
    """Without groups: one injected rate, the same update as the plain optax chain."""
    import optax

    config = presets.sgd_optimizer(learning_rate=0.05, weight_decay=weight_decay)
    rates = optim.make_learning_rates(config, 10)
    assert isinstance(rates(3), np.float32) and rates(3) == np.float32(0.05)
    grads, params = _grads(), _params()
    updates = _step(config, grads, np.float32(0.02))
    plain = optax.sgd(0.02, momentum=0.9)
    if weight_decay:
        plain = optax.chain(optax.add_decayed_weights(weight_decay), plain)
    want, _ = plain.update(grads, plain.init(params), params)
    for g, w in zip(jax.tree.leaves(updates), jax.tree.leaves(want), strict=True):
        np.testing.assert_array_equal(g, w)
    state = optim.make_optimizer(config).init(params)
    assert set(state.hyperparams) == {"learning_rate"}


def test_config_roundtrip_keeps_groups():
    config = ml_collections.ConfigDict({"optimizer": _config()})
    assert set(optim.make_learning_rates(config.optimizer, 10)(0)) == {"backbone", "heads"}
