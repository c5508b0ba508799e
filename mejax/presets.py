"""Blocks shared by the config files in ``configs/``: only what is truly common to them.

Every config file states its own paper setting and its synthetic setting, a field set once
(``configs/stapf.py``, ``configs/sca.py``, ...); what they write the same way comes from here:

- the token groups of a database argument (:data:`DATABASE`: ``synth``, ``casme2``, ``casme``,
  ``samm``) and of STAP's cross-database orders (:data:`CROSS`);
- :func:`dataset_block`, the ``dataset`` block of a database token;
- :func:`task_sets`, the ``aus``, ``samples`` and ``emotions`` of a ``task`` block: on a paper
  database the AUs of the paper's table and the rule that selects its clips
  (:mod:`mejax.paper_sets`: ``task.samples`` ``all``, ``emotions`` or ``any_au``, and
  ``task.emotions``, applied by :func:`mejax.paper_sets.apply`), on ``synth`` its three most
  frequent AUs and every clip;
- STAP's cross-database setting (:func:`cross_dataset`, :func:`cross_task_sets`,
  :func:`cross_protocol`), taken by the STAP family and the hand-crafted baselines;
- :func:`sgd_optimizer` and :func:`train_block`, the ``optimizer`` and ``train`` blocks with
  their every field, the config changing those it sets.

Only config files (and the tests and benchmarks that build configs) import this module; the
facts that a run needs live in runtime modules (:mod:`mejax.paper_sets`,
:mod:`mejax.protocols`, :mod:`mejax.weights.pretrained`).
"""

from __future__ import annotations

import ml_collections

from mejax import config_args, paper_sets, protocols

# AUs each paper database is evaluated on in STAP's Tables III-V (the STAP-family configs and
# the baselines' default setting); SCA's Tables 1-3 evaluate others (:data:`SCA_AUS`). Both, and
# the clips each table keeps, come from :mod:`mejax.paper_sets`.
PAPER_AUS = {database: s.aus for database, s in paper_sets.STAP.items()}
SCA_AUS = {database: s.aus for database, s in paper_sets.SCA.items()}
# TFDS builder of each paper database (config_args.DATABASES).
PAPER_DATASETS = {database: config_args.builder(database) for database in PAPER_AUS}
SYNTH_AUS = (4, 7, 12)  # the three most frequent AUs of synth_me
# The database tokens of the STAP, SCA and baseline configs, ``synth`` the default.
ARGS = ("synth", *PAPER_AUS)
DATABASE = config_args.databases(*ARGS)


# STAP's cross-database protocol: config token ``cross_<A>_<B>_<C>`` -> (A, B, C).
CROSS_ORDERS = protocols.CROSS_ORDERS
CROSS = config_args.choice(
    tuple(CROSS_ORDERS),
    default=None,
    doc="STAP's cross-database protocol: train on the first database, select on the second, "
    "test on the third",
)


def dataset_block(database: str) -> ml_collections.ConfigDict:
    """The ``dataset`` block of a database token: its TFDS builder (:func:`config_args.builder`)."""
    return ml_collections.ConfigDict(
        {"name": config_args.builder(database), "data_dir": "", "manual_dir": ""}
    )


def task_sets(paper: str, database: str) -> dict:
    """The ``aus``, ``samples`` and ``emotions`` fields of a ``task`` block: those of the
    paper's table on a paper database (:func:`mejax.paper_sets.paper_set`; ``paper`` is
    ``stap`` or ``sca``), on ``synth`` :data:`SYNTH_AUS` and every clip."""
    if database == "synth":
        return {"aus": SYNTH_AUS, "samples": "all", "emotions": ()}
    return paper_sets.paper_set(paper, database).task_fields()


# STAP's cross-database setting (Sec. IV-E, Tables VI and VII), config token
# ``cross_<A>_<B>_<C>`` (:data:`CROSS_ORDERS`): the three databases loaded together, the seven
# AUs common to them (1, 2, 4, 9, 12, 14, 17) and the clips coded with at least one
# (:data:`mejax.paper_sets.STAP_CROSS_DATABASE`: 228, 154 and 78 in the paper), and the
# ``cross_database`` protocol (one round; model selection on the validation database).


def cross_dataset(order: str) -> ml_collections.ConfigDict:
    """The ``dataset`` block of a cross-database order: the training database, the others in
    ``extra`` (their manual directories in ``manual_dir`` and ``extra_manual_dirs``)."""
    train, validation, test = CROSS_ORDERS[order]
    block = dataset_block(train)
    block.extra = tuple(config_args.builder(d) for d in (validation, test))
    block.extra_manual_dirs = ("", "")
    return block


def cross_task_sets(order: str) -> dict:
    """The ``aus``, ``samples`` and ``emotions`` of a cross-database order's ``task`` block."""
    return paper_sets.paper_set("stap_cross_database", CROSS_ORDERS[order][0]).task_fields()


def cross_protocol(order: str) -> ml_collections.ConfigDict:
    """The ``protocol`` block of a cross-database order."""
    train, validation, test = CROSS_ORDERS[order]
    return ml_collections.ConfigDict(
        {"name": "cross_database", "train": train, "validation": validation, "test": test,
         "rounds": ()}
    )  # fmt: skip


def sgd_optimizer(**fields) -> ml_collections.ConfigDict:
    """The papers' optimizer block: SGD, lr 0.01, momentum 0.9 (STAP and SCA), with ``fields``
    changed (weight decay and the step schedule of SCA, ...)."""
    block = {
        "name": "sgd",
        "learning_rate": 0.01,
        "momentum": 0.9,
        "weight_decay": 0.0,
        "schedule": "constant",
        "warmup_steps": 0,
        "decay_every": 0,
        "decay_every_epochs": 0,
        "decay_factor": 0.1,
    }
    unknown = set(fields) - set(block)
    if unknown:
        raise ValueError(f"optimizer fields {sorted(unknown)} not in {sorted(block)}")
    return ml_collections.ConfigDict({**block, **fields})


def train_block(batch_size: int, num_epochs: int, **fields) -> ml_collections.ConfigDict:
    """The ``train`` block: batch sizes, epochs, evaluation every epoch, and every training clip
    seen each epoch (``last_batch="fill"``, :class:`mejax.input_pipeline.TrainBatches`): the
    real databases' training sides are not multiples of the papers' batches, and some are
    smaller than one batch (SCA's 64 against SAMM's 41-62 clips per training side); with
    ``fields`` changed or added (``eval_batch_size``, ``selection``, ...)."""
    block = {
        "batch_size": batch_size,
        "last_batch": "fill",
        "eval_batch_size": batch_size,
        "num_epochs": num_epochs,
        "eval_every_epochs": 1,
        "log_every_steps": 10,
        # Models per vmap; 0 = all on GPU/TPU, one at a time on CPU.
        "models_per_step": 0,
        # Rounds (folds) of the protocol trained together by one program; 1: one by one.
        "folds_per_step": 1,
    }
    return ml_collections.ConfigDict({**block, **fields})
