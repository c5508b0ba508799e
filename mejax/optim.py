"""Optimisers from configs, with optax.

The papers train with SGD with momentum (STAP: lr 0.01, momentum 0.9; SCA adds weight decay and a
step schedule). ``make_optimizer`` maps a config to the optax chain; a schedule is a function of
the step, evaluated on the host and handed to the jitted step (``optax.inject_hyperparams``),
so one compiled step serves rounds of different lengths and a resumed run continues on the same
curve.

Parameter groups (``optimizer.groups``) give parts of the model their own learning rate,
schedule and gradient clipping, as the public PyTorch code of Liu, Du, Zheng, Gedeon, "A Neural
Micro-Expression Recognizer" (MEGC2019, FG 2019) trains it (:data:`NMER_GROUPS`): Adam with
coupled weight decay 1e-6 (L2 added to the gradient before Adam, as PyTorch's
``Adam(weight_decay=...)``), the backbone at 1e-5 constant, the heads and the domain
discriminator at 1e-3 halved every 10 epochs while above 1e-5, the gradient norm clipped to 1 per
module except the discriminator's (``Train/main.py`` clips the resnet, fc_top, fc_bottom,
classifier, classifier_top and classifier_bottom modules one by one, each to norm 1). Each group
is an ``optax.inject_hyperparams`` chain (clip by the group's own global norm, or each of its
modules by its own, add the decayed weights, then the optimizer) under ``optax.multi_transform``;
its learning rate is injected from the host like the single one.

A group is a dict with

* ``params``: the top-level names of the model's params tree it holds, each an exact name or a
  prefix (``"discriminator"`` holds ``discriminator_fc1``, ``discriminator_out``, ...). Every
  top-level parameter must be in exactly one group: unmatched or doubly matched names are an
  error that names them (no silent default group: a misspelt prefix would otherwise train at
  another rate);
* ``clip_norm``: the group's gradients are clipped to this global norm (0: not clipped);
* ``clip_per_module``: clip each top-level parameter (module) of the group to ``clip_norm`` by
  its own norm (:func:`clip_per_module`; PyTorch's ``clip_grad_norm_`` called once per module),
  not the group's parameters jointly (default False);
* any schedule field of the optimizer block (``learning_rate``, ``schedule``, ``decay_every``,
  ``decay_every_epochs``, ``decay_factor``, ``min_learning_rate``, ``warmup_steps``) and
  ``weight_decay``; a field the group leaves out is the block's.

``min_learning_rate`` (``step`` schedule) reproduces the reference's "halve while above": at each
decay the rate is multiplied by ``decay_factor`` only if it is still above
``min_learning_rate``, so it ends at the first value at or below it, not at the floor itself.
1e-3 halved every 10 epochs while above 1e-5 gives 1e-3 (epochs 0-9), 5e-4, ..., 1.5625e-5
(60-69; still above 1e-5, so halved once more) and 7.8125e-6 from epoch 70 on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import ml_collections
import numpy as np
import optax

SCHEDULE_FIELDS = (
    "learning_rate",
    "schedule",
    "decay_every",
    "decay_every_epochs",
    "decay_factor",
    "min_learning_rate",
    "warmup_steps",
)
GROUP_FIELDS = ("params", "clip_norm", "clip_per_module", "weight_decay", *SCHEDULE_FIELDS)

# The MEGC2019 recogniser's groups (``optimizer.groups`` for :class:`mejax.models.part_mer.PartMER`,
# with ``name="adam"`` and ``weight_decay=1e-6``): backbone 1e-5 constant; heads and
# discriminator 1e-3 halved every 10 epochs while above 1e-5; gradient norm clipped to 1 for
# the backbone and for each head module on its own (top_embed, bottom_embed, classifier,
# top_classifier, bottom_classifier: the reference's fc_top, fc_bottom, classifier,
# classifier_top, classifier_bottom), not for the discriminator.
NMER_GROUPS = {
    "backbone": {
        "params": ("backbone",),
        "learning_rate": 1e-5,
        "schedule": "constant",
        "clip_norm": 1.0,
        "clip_per_module": True,
    },
    "heads": {
        # top_/bottom_embed and _classifier, classifier (and embed: the no-parts ablation).
        "params": ("top_", "bottom_", "classifier", "embed"),
        "learning_rate": 1e-3,
        "schedule": "step",
        "decay_every_epochs": 10,
        "decay_factor": 0.5,
        "min_learning_rate": 1e-5,
        "clip_norm": 1.0,
        "clip_per_module": True,
    },
    "discriminator": {
        "params": ("discriminator",),
        "learning_rate": 1e-3,
        "schedule": "step",
        "decay_every_epochs": 10,
        "decay_factor": 0.5,
        "min_learning_rate": 1e-5,
        "clip_norm": 0.0,
    },
}


def _groups(config: ml_collections.ConfigDict) -> dict[str, ml_collections.ConfigDict]:
    """``optimizer.groups`` with the block's fields filled in; {} without groups."""
    groups = config.get("groups") or {}
    out = {}
    for name, group in groups.items():
        unknown = set(group) - set(GROUP_FIELDS)
        if unknown:
            raise ValueError(
                f"optimizer.groups.{name}: fields {sorted(unknown)} not in {sorted(GROUP_FIELDS)}"
            )
        if not group.get("params"):
            raise ValueError(f"optimizer.groups.{name}: no params")
        inherited = {k: config.get(k) for k in (*SCHEDULE_FIELDS, "weight_decay") if k in config}
        out[name] = ml_collections.ConfigDict(
            {"clip_norm": 0.0, "clip_per_module": False, **inherited, **dict(group)}
        )
    return out


def clip_per_module(max_norm: float) -> optax.GradientTransformation:
    """``optax.clip_by_global_norm(max_norm)`` applied to each top-level subtree (module) of the
    updates on its own: each module's gradient is scaled to norm ``max_norm`` when above it,
    whatever the others' norms. Under ``optax.multi_transform``, the subtrees of other groups
    are masked (no leaves) and pass unchanged."""
    inner = optax.clip_by_global_norm(max_norm)

    def update_fn(updates, state, params=None):
        del params
        if not isinstance(updates, Mapping):
            return inner.update(updates, state)
        clipped = {name: inner.update(subtree, state)[0] for name, subtree in updates.items()}
        return type(updates)(clipped), state

    return optax.GradientTransformation(inner.init, update_fn)


def group_labels(groups: Mapping[str, Mapping], names) -> dict[str, str]:
    """The group of each top-level parameter name (exact name or prefix match).

    Raises:
      ValueError: naming the parameters in no group, or in more than one.
    """
    labels, unmatched, ambiguous = {}, [], []
    for name in names:
        hits = [
            group
            for group, fields in groups.items()
            if any(name == p or name.startswith(p) for p in fields["params"])
        ]
        if not hits:
            unmatched.append(name)
        elif len(hits) > 1:
            ambiguous.append(f"{name} ({', '.join(hits)})")
        else:
            labels[name] = hits[0]
    if unmatched or ambiguous:
        raise ValueError(
            f"optimizer.groups: parameters in no group: {unmatched}; in several: {ambiguous} "
            f"(groups: { {g: tuple(f['params']) for g, f in groups.items()} })"
        )
    return labels


def make_schedule(
    config: ml_collections.ConfigDict, num_steps: int, steps_per_epoch: int = 1
) -> optax.Schedule:
    """Learning-rate schedule: ``constant``, ``step`` (x``decay_factor`` every
    ``decay_every`` steps, or every ``decay_every_epochs`` epochs of ``steps_per_epoch``
    steps when that is set; with ``min_learning_rate``, only while the rate is above it) or
    ``cosine`` (to 0 at ``num_steps``), with optional linear warm-up, of an optimizer block or
    of one of its ``groups`` (:func:`make_learning_rates` gives every group's).
    """
    lr = config.learning_rate
    if config.schedule == "constant":
        schedule = optax.constant_schedule(lr)
    elif config.schedule == "step":
        every = config.get("decay_every_epochs", 0) * steps_per_epoch or config.decay_every
        floor = config.get("min_learning_rate", 0.0)
        end_value = None
        if floor:
            # Decays while the rate is above the floor: the last rate is the first at or below.
            decays = 0
            while lr * config.decay_factor**decays > floor:
                decays += 1
            end_value = lr * config.decay_factor**decays
        schedule = optax.exponential_decay(
            lr, every, config.decay_factor, staircase=True, end_value=end_value
        )
    elif config.schedule == "cosine":
        schedule = optax.cosine_decay_schedule(lr, max(1, num_steps - config.warmup_steps))
    else:
        raise ValueError(
            f"optimizer.schedule {config.schedule!r} not in ('constant', 'step', 'cosine')"
        )
    if config.get("warmup_steps", 0):
        warmup = optax.linear_schedule(0.0, lr, config.warmup_steps)
        schedule = optax.join_schedules([warmup, schedule], [config.warmup_steps])
    return schedule


def make_learning_rates(
    config: ml_collections.ConfigDict, num_steps: int, steps_per_epoch: int = 1
) -> Callable[[int], np.float32 | dict[str, np.float32]]:
    """The learning rate(s) of a step, for ``hparams["learning_rate"]``: a float32 without
    groups (:func:`make_schedule`'s value), a dict group -> float32 with them."""
    groups = _groups(config)
    if not groups:
        schedule = make_schedule(config, num_steps, steps_per_epoch)
        return lambda step: np.float32(schedule(step))
    schedules = {
        name: make_schedule(group, num_steps, steps_per_epoch) for name, group in groups.items()
    }
    return lambda step: {name: np.float32(s(step)) for name, s in schedules.items()}


def set_learning_rates(opt_state, learning_rate) -> None:
    """Injects ``learning_rate`` (a scalar, or a dict group -> scalar with groups; traced
    values under ``jit`` are fine) into ``opt_state`` of :func:`make_optimizer`, in place."""
    if isinstance(learning_rate, Mapping):
        for name, value in learning_rate.items():
            opt_state.inner_states[name].inner_state.hyperparams["learning_rate"] = value
    else:
        opt_state.hyperparams["learning_rate"] = learning_rate


def make_optimizer(config: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """optax transformation of ``config`` (the ``optimizer`` block of a config).

    The learning rate is an injected hyperparameter: :func:`set_learning_rates` sets it
    (``opt_state.hyperparams["learning_rate"]`` without groups, each group's inner state's with
    them) to :func:`make_learning_rates`'s value before each update.

    Args:
      config: fields ``name`` (``sgd`` or ``adam``), ``learning_rate``, ``momentum``,
        ``weight_decay`` (and the schedule fields read by :func:`make_schedule`); optional
        ``groups`` (see the module docstring).

    Returns:
      The optax transformation.
    """
    if config.name not in ("sgd", "adam"):
        raise ValueError(f"optimizer.name {config.name!r} not in ('sgd', 'adam')")

    def builder(weight_decay, clip_norm=0.0, per_module=False):
        def build(learning_rate):
            if config.name == "sgd":
                base = optax.sgd(learning_rate, momentum=config.momentum or None)
            else:
                base = optax.adam(learning_rate)
            parts = [base]
            if weight_decay:
                parts.insert(0, optax.add_decayed_weights(weight_decay))
            if clip_norm:
                clip = clip_per_module if per_module else optax.clip_by_global_norm
                parts.insert(0, clip(clip_norm))
            return optax.chain(*parts) if len(parts) > 1 else base

        return build

    groups = _groups(config)
    if not groups:
        return optax.inject_hyperparams(builder(config.weight_decay))(
            learning_rate=config.learning_rate
        )

    transforms = {
        name: optax.inject_hyperparams(
            builder(group.weight_decay, group.clip_norm, group.clip_per_module)
        )(learning_rate=group.learning_rate)
        for name, group in groups.items()
    }

    def labels(params):
        names = group_labels(groups, params.keys())
        return {
            name: jax.tree.map(lambda _, g=names[name]: g, subtree)
            for name, subtree in params.items()
        }

    return optax.multi_transform(transforms, labels)
