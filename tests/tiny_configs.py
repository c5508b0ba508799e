"""The tests' tiny configs: a config file's ``synth`` setting made small enough for a test.

:func:`tiny` loads ``configs/<stem>.py`` with ``synth`` (and the argument's other tokens: a row,
a depth, ``pretrain``, ...) and applies the tiny overrides of the config's family
(:func:`overrides`): the ``synth_me/tiny`` database (6 subjects; ``synth_me/macro_tiny`` where a
macro-expression database is read), 8 frames, rounds 0 and 1, the model's ``*_tiny`` variant
(and its smaller images), a few steps of training.

This file is also a config file for ``python -m mejax.main``, its argument the config file's
stem followed by that config's tokens::

    python -m mejax.main --config=tests/tiny_configs.py:stapf --workdir=runs/tiny
    python -m mejax.main --config=tests/tiny_configs.py:micro_attention,pretrain --workdir=...
"""

from __future__ import annotations

from pathlib import Path

import ml_collections

from mejax import config_args

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
DELETE = object()  # an override that removes the field (the tiny models take no width, ...)

# Every tiny config: the tiny database, 8 frames.
TINY_DATA = {"dataset.name": "synth_me/tiny", "input.num_frames": 8}
# A tiny config that trains: rounds 0 and 1, batches of 4, 2 epochs, a log line every step.
TINY_TRAIN = {
    "protocol.rounds": (0, 1),
    "train.batch_size": 4,
    "train.eval_batch_size": 4,
    "train.num_epochs": 2,
    "train.log_every_steps": 1,
}
STAP_FAMILY = ("stap", "stapf", "i3d", "i3df")
BASELINES = ("lbp_top", "lpq_top", "lbp_sip", "hog3d", "hog3d_polikovsky", "hoof")


def overrides(stem: str, tokens: set[str]) -> dict:
    """Dotted field -> value (or :data:`DELETE`) that turn the ``synth`` setting of
    ``configs/<stem>.py`` with ``tokens`` into its tiny one."""
    if stem in STAP_FAMILY:
        return {
            **TINY_DATA,
            **TINY_TRAIN,
            "task.aus": (4, 7),  # synth_me/tiny's two most frequent AUs
            "input.image_size": 32,
            "input.subtract_onset": False,
            "model.name": "i3d_classifier_tiny",
            "model.width": DELETE,
            "optimizer.name": "sgd",
            "optimizer.learning_rate": 0.01,
        }
    if stem == "sca":
        return {
            **TINY_DATA,
            **TINY_TRAIN,
            "task.aus": (4, 7),
            "input.image_size": 40,
            "input.crop_size": 32,
            "input.subtract_onset": False,
            "model.name": "sca_classifier_tiny",
            "model.channel_reduction": 8,  # of 32 channels
            "model.depth": DELETE,
            "model.width": DELETE,
            "optimizer.name": "sgd",
            "optimizer.learning_rate": 0.01,
            "optimizer.weight_decay": 1e-3,
            "optimizer.schedule": "step",
        }
    if stem in BASELINES:
        detection = {} if "mer" in tokens else {"task.aus": (4, 7), "protocol.rounds": (0, 1)}
        return {
            **TINY_DATA,
            **detection,
            "input.image_size": 32,
            "baseline.blocks": (2, 2, 1),
            "baseline.classifier.log10_c": (-2, 0, 2),
        }
    if stem == "mer_resnet":
        return {
            **TINY_DATA,
            **TINY_TRAIN,
            "input.image_size": 48 if "apex" in tokens else 28,
            "model.name": "resnet_classifier_tiny",
            "model.depth": DELETE,
            "model.width": DELETE,
            "model.max_pool": False,
            "protocol.name": "loso",
        }
    if stem == "neural_mer":
        return {
            **TINY_DATA,
            **TINY_TRAIN,
            "aux_dataset.name": "synth_me/macro_tiny",
            "input.image_size": 28,
            "input.crop_size": 24,
            "model.name": "part_mer_tiny",
            "model.depth": DELETE,
            "model.width": DELETE,
            "model.max_pool": False,
            "optimizer.groups.heads.decay_every_epochs": 10,
            "optimizer.groups.discriminator.decay_every_epochs": 10,
            "protocol.name": "loso",
        }
    if stem == "au_gcn":
        resnet = {"input.image_size": 28, "model.resnet_max_pool": False}
        return {
            **TINY_DATA,
            **TINY_TRAIN,
            **(resnet if "resnet18" in tokens else {}),
            "model.name": "au_gcn_tiny",
            "model.backbone_features": 1024,
            "protocol.name": "loso",
            # The classes the training side of every round of synth_me/tiny holds.
            "task.classes": ("I", "II", "III"),
            "train.batch_size": 16,
            "train.num_epochs": 1,
        }
    if stem == "micro_attention":
        if "pretrain" in tokens:
            stage = {
                "dataset.name": "synth_me/macro_tiny",
                "input.photometric.max_smoothing": 6,
                "optimizer.learning_rate": 0.01,
                "optimizer.decay_every_epochs": 20,
                "task.classes": ("happiness", "anger", "disgust"),
                "train.eval_every_epochs": 1,
            }
        else:
            stage = {
                "optimizer.learning_rate": 1e-3,
                "protocol.name": "loso",
                "task.classes": ("I", "II", "III"),
            }
        return {
            **TINY_DATA,
            **TINY_TRAIN,
            **stage,
            "input.image_size": 48,
            "input.crop_size": 40,
            "model.name": "micro_attention_tiny",
            "model.width": DELETE,
            "train.batch_size": 8,
        }
    raise ValueError(f"no tiny setting for configs/{stem}.py")


def tiny(stem: str, arg: str | None = None) -> ml_collections.ConfigDict:
    """The tiny config of ``configs/<stem>.py`` with the tokens of ``arg`` (a locked
    ConfigDict); a token the tiny setting cannot take (a database, a cross-database order, a
    protocol of another database) is a ``ValueError``."""
    tokens = [t.strip() for t in (arg or "").split(",") if t.strip()]
    crosses = [t for t in tokens if t.startswith("cross_")]
    if crosses:
        raise ValueError(f"{crosses}: a cross-database order names its databases")
    module = config_args.load_module(CONFIGS / f"{stem}.py")
    config = module.get_config(",".join(["synth", *tokens])).unlock()
    for path, value in overrides(stem, set(tokens)).items():
        *parents, field = path.split(".")
        block = config
        for parent in parents:
            block = block[parent]
        if value is DELETE:
            del block[field]
        else:
            block[field] = value
    return config.lock()


def get_config(arg: str):
    """``--config=tests/tiny_configs.py:<stem>[,<token>...]``."""
    stem, _, rest = arg.partition(",")
    return tiny(stem, rest)


def config(stem: str, arg: str | None = None) -> ml_collections.ConfigDict:
    """``configs/<stem>.py:<arg>``, as ``python -m mejax.main`` builds it."""
    return config_args.load_file(CONFIGS / f"{stem}.py", arg)
