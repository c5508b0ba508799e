"""Optimisers from configs, with optax.

The papers train with SGD with momentum (STAP: lr 0.01, momentum 0.9; SCA adds weight decay and a
step schedule). ``make_optimizer`` maps a config to the optax chain; a schedule is a function of
the step, evaluated on the host and handed to the jitted step (``optax.inject_hyperparams``),
so one compiled step serves rounds of different lengths and a resumed run continues on the same
curve.
"""

from __future__ import annotations

import ml_collections
import optax


def make_schedule(
    config: ml_collections.ConfigDict, num_steps: int, steps_per_epoch: int = 1
) -> optax.Schedule:
    """Learning-rate schedule: ``constant``, ``step`` (x``decay_factor`` every
    ``decay_every`` steps, or every ``decay_every_epochs`` epochs of ``steps_per_epoch``
    steps when that is set) or ``cosine`` (to 0 at ``num_steps``), with optional linear
    warm-up."""
    lr = config.learning_rate
    if config.schedule == "constant":
        schedule = optax.constant_schedule(lr)
    elif config.schedule == "step":
        every = config.get("decay_every_epochs", 0) * steps_per_epoch or config.decay_every
        schedule = optax.exponential_decay(lr, every, config.decay_factor, staircase=True)
    elif config.schedule == "cosine":
        schedule = optax.cosine_decay_schedule(lr, max(1, num_steps - config.warmup_steps))
    else:
        raise ValueError(
            f"optimizer.schedule {config.schedule!r} not in ('constant', 'step', 'cosine')"
        )
    if config.warmup_steps:
        warmup = optax.linear_schedule(0.0, lr, config.warmup_steps)
        schedule = optax.join_schedules([warmup, schedule], [config.warmup_steps])
    return schedule


def make_optimizer(config: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """optax transformation of ``config`` (the ``optimizer`` block of a config).

    The learning rate is an injected hyperparameter: set
    ``opt_state.hyperparams["learning_rate"]`` to the schedule's value before each update.

    Args:
      config: fields ``name`` (``sgd`` or ``adam``), ``learning_rate``, ``momentum``,
        ``weight_decay`` (and the schedule fields read by :func:`make_schedule`).

    Returns:
      The optax transformation.
    """
    if config.name not in ("sgd", "adam"):
        raise ValueError(f"optimizer.name {config.name!r} not in ('sgd', 'adam')")

    def build(learning_rate):
        if config.name == "sgd":
            base = optax.sgd(learning_rate, momentum=config.momentum or None)
        else:
            base = optax.adam(learning_rate)
        if config.weight_decay:
            return optax.chain(optax.add_decayed_weights(config.weight_decay), base)
        return base

    return optax.inject_hyperparams(build)(learning_rate=config.learning_rate)
