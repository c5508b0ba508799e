"""Flax models of mejax; ``build(config.model)`` constructs one from its config block."""

from __future__ import annotations

import functools

import jax.numpy as jnp

from mejax.models.stap import I3DClassifier

MODELS = {
    "i3d_classifier": I3DClassifier,
    # Tiny variant for tests: 1/16 of the channels.
    "i3d_classifier_tiny": functools.partial(I3DClassifier, width=1 / 16),
}


def build(config):
    """Model named ``config.name`` with the remaining fields as its attributes."""
    kwargs = dict(config)
    name = kwargs.pop("name")
    if name not in MODELS:
        raise ValueError(f"model.name {name!r} not in {sorted(MODELS)}")
    if "dtype" in kwargs:
        kwargs["dtype"] = jnp.dtype(kwargs["dtype"])
    return MODELS[name](**kwargs)
