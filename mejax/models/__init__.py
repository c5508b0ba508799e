"""Flax models of mejax; ``build(config.model)`` constructs one from its config block."""

from __future__ import annotations

import functools

import jax.numpy as jnp

from mejax.models.au_gcn import AUGCN
from mejax.models.mer_resnet import ResNetClassifier
from mejax.models.micro_attention import MicroAttentionNet
from mejax.models.part_mer import PartMER
from mejax.models.sca import SCAClassifier
from mejax.models.stap import I3DClassifier

MODELS = {
    "i3d_classifier": I3DClassifier,
    # Tiny variant for tests: 1/16 of the channels.
    "i3d_classifier_tiny": functools.partial(I3DClassifier, width=1 / 16),
    "sca_classifier": SCAClassifier,
    # Tiny variant for tests: Res3D-10 with 1/16 of the channels.
    "sca_classifier_tiny": functools.partial(SCAClassifier, depth=10, width=1 / 16),
    "resnet_classifier": ResNetClassifier,
    # Tiny variant for tests: ResNet-10 with 1/16 of the channels.
    "resnet_classifier_tiny": functools.partial(ResNetClassifier, depth=10, width=1 / 16),
    # Liu et al. (MEGC2019): ResNet-18 parts + adversarial domain discriminator.
    "part_mer": PartMER,
    # Tiny variant for tests: ResNet-10 with 1/16 of the channels.
    "part_mer_tiny": functools.partial(PartMER, depth=10, width=1 / 16),
    # Zhou et al.: MER-auGCN (Dual-Inception, AU attention and detectors, AU-graph GCN).
    "au_gcn": AUGCN,
    # Tiny variant for tests: small Inception filters, z, detectors and GCN.
    "au_gcn_tiny": functools.partial(
        AUGCN, filters=(2, 4), backbone_features=32, detector_features=8, gcn_features=(16, 8)
    ),
    # Wang et al. (Neurocomputing 2020): CVGJ pre-activation ResNet-10 + micro-attention units.
    "micro_attention": MicroAttentionNet,
    # Tiny variant for tests: 1/16 of the channels.
    "micro_attention_tiny": functools.partial(MicroAttentionNet, width=1 / 16),
}


def build(config, num_outputs: int | None = None):
    """Model named ``config.name`` with the remaining fields as its attributes.

    ``num_outputs`` (the task's outputs per model: 2 logits of one binary AU model, or one
    logit per AU of a multi-task model) is passed on when given.
    """
    kwargs = dict(config)
    if num_outputs is not None:
        kwargs["num_outputs"] = num_outputs
    name = kwargs.pop("name")
    if name not in MODELS:
        raise ValueError(f"model.name {name!r} not in {sorted(MODELS)}")
    if "dtype" in kwargs:
        kwargs["dtype"] = jnp.dtype(kwargs["dtype"])
    return MODELS[name](**kwargs)
