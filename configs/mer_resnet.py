"""ResNet: a 2D ResNet on the onset -> apex optical flow (or the apex frame), one softmax.

The plain "ResNet" row of the recognition papers: the ResNet-18 encoder of the MEGC2019 neural
recogniser without parts and domain adaptation (Liu et al., MEGC2019, Table I), the
two-path-free "Resnet18" of MER-auGCN's backbone ablation (Zhou et al.), and the ResNet-10 of
Micro-Attention's Table 3 without attention (Wang et al.). MEGC2019's three classes by default,
UF1 / UAR pooled over all folds, next to the majority-class predictor.

    python -m mejax.main --config=configs/mer_resnet.py --workdir=runs/mer_resnet     # synth_me
    python -m mejax.main --config=configs/mer_resnet.py:megc2019 --workdir=runs/mer_megc2019
    python -m mejax.main --config=configs/mer_resnet.py:megc2018,hde --workdir=runs/mer_hde

The argument is comma-separated tokens, each optional:

- a database: ``synth`` (default: ``synth_me/small``, the 3 MEGC2019 classes, all four rounds
  of a subject-independent 4-fold protocol, a 1/2-width ResNet-18 on 64^2 flow; about 5 minutes
  on 2 CPU cores once the flow is cached), ``megc2019`` (the 68-subject LOSO of MEGC2019,
  three classes), ``megc2018`` (objective classes I-V; with ``hde``, CASME II <-> SAMM, or
  ``cde``, LOSO over the composite, the default), ``casme2``, ``samm``, ``smic`` (each
  database's own emotions, LOSO);
- the input: ``flow`` (default: TV-L1 onset -> apex, u and v) or ``apex`` (the apex frame);
- the depth: ``r18`` (default) or ``r10``;
- for ``megc2018``: ``hde`` or ``cde``.

The database setting (a choice: the papers train their ResNet rows with different recipes):
ResNet-18 at full width on 112^2 flow (or 224^2 apex frames), Adam 1e-4, batch 32, 50 epochs,
dropout 0.5, horizontal flips, the model of the best validation UF1 (validation subjects from the
training side; ``--config.train.selection=last`` for the papers' fixed schedule).
"""

import ml_collections

from mejax import config_args, presets

# The argument's token groups (mejax.paper_settings).
ARGS = {
    "database": config_args.databases("synth", "megc2019", "megc2018", "casme2", "samm", "smic"),
    "input": config_args.choice(("flow", "apex"), default="flow"),
    "depth": config_args.choice(("r18", "r10"), default="r18"),
    "protocol": config_args.choice(("hde", "cde"), default=None),
}
# Database -> (label set, protocol).
SETTINGS = {
    "megc2019": ("megc2019", "megc2019_loso"),
    "megc2018": ("objective_5", "cde"),
    # CASME II's five classes (mejax.datasets.labels): its 2 fear clips are one subject's.
    "casme2": ("casme2_5", "loso"),
    "samm": ("emotion", "loso"),
    "smic": ("emotion", "loso"),
    "synth": ("megc2019", "subject_kfold"),
}


def get_config(arg=None):
    args = config_args.parse(arg, ARGS)
    database = args["database"]
    if args["protocol"] and database != "megc2018":
        raise ValueError(f"config argument {arg!r}: hde / cde are protocols of megc2018")
    label_set, protocol = SETTINGS[database]
    flow = args["input"] == "flow"
    # synth: minutes on 2 CPU cores, a 1/2-width ResNet-18 on 64^2 flow, Adam 1e-3, every round
    # of the 4-fold protocol (every clip tested once).
    synth = database == "synth"

    c = ml_collections.ConfigDict()
    c.name = f"ResNet-{args['depth'][1:]}"
    c.seed = 0
    c.init_from = ""
    c.dataset = presets.dataset_block(database)
    c.dataset.extra = ()

    c.input = ml_collections.ConfigDict()
    c.input.variant = args["input"]
    c.input.image_size = 64 if synth else (112 if flow else 224)
    c.input.flow_method = "tvl1"
    c.input.flow_encoding = "uv"
    c.input.gray = False
    c.input.flip = True
    c.input.num_frames = 1

    c.model = ml_collections.ConfigDict()
    c.model.name = "resnet_classifier"
    c.model.depth = int(args["depth"][1:])
    c.model.width = 0.5 if synth else 1.0
    c.model.max_pool = True
    c.model.dropout_rate = 0.5
    c.model.dtype = "float32"
    c.model.bn_momentum = 0.9

    c.task = ml_collections.ConfigDict()
    c.task.name = "mer"
    c.task.label_set = label_set
    c.task.classes = ()
    c.task.class_weights = ""

    c.protocol = ml_collections.ConfigDict()
    c.protocol.name = args["protocol"] or protocol
    c.protocol.rounds = ()

    c.optimizer = presets.sgd_optimizer(
        name="adam", learning_rate=1e-3 if synth else 1e-4, momentum=0.0
    )
    # On synth the last partial batch of an epoch is dropped, as the synthetic figures of the
    # README were made.
    c.train = presets.train_block(
        batch_size=16 if synth else 32,
        num_epochs=15 if synth else 50,
        last_batch="drop" if synth else "fill",
        eval_batch_size=30 if synth else 32,
        log_every_steps=5 if synth else 10,
        selection="validation",
        balance_classes=False,
    )

    c.aux_dataset = ml_collections.ConfigDict()
    c.aux_dataset.name = ""
    c.aux_dataset.data_dir = ""
    c.aux_dataset.manual_dir = ""
    c.aux_dataset.ratio = 0.0
    return c.lock()
