"""MER-auGCN: Dual-Inception on optical flow, AU attention, a GCN over the AU knowledge graph.

Zhou, Mao, Dong, "MER-auGCN: Micro-expression recognition based on AU graph convolutional
network" (Neural Networks, 2021): objective classes I-V of MEGC2018, learnt jointly with AU
detection. Every line of its Tables III-VII is a row of this file:

    python -m mejax.main --config=configs/au_gcn.py --workdir=runs/au_gcn            # synth_me
    python -m mejax.main --config=configs/au_gcn.py:megc2018 --workdir=runs/augcn_hde
    python -m mejax.main --config=configs/au_gcn.py:megc2018,cde --workdir=runs/augcn_cde
    python -m mejax.main --config=configs/au_gcn.py:megc2018,dense_graph --workdir=runs/dg
    python -m mejax.main --config=configs/au_gcn.py:megc2018,au_detection --workdir=runs/t7

The argument is comma-separated tokens, each optional:

- a database: ``synth`` (default: ``synth_me/small``, its objective classes I-V, the four
  rounds of a subject-independent 4-fold protocol) or ``megc2018`` (the MEGC2018 composite of
  CASME II and SAMM, the paper setting);
- the protocol of ``megc2018``: ``hde`` (default; holdout-database evaluation, CASME II ->
  SAMM and SAMM -> CASME II, WAR and UAR per fold and their mean, Table VI(a)) or ``cde``
  (composite-database evaluation, LOSO over the 47 subjects, macro F1 and WF1, Table VI(b));
- the row (Tables III-V): ``mer_augcn`` (default), ``resnet18`` (the two-path ResNet-18
  backbone alone, on 112^2 flow), ``dual_inception`` (the Dual-Inception backbone alone),
  ``au_feat`` (AU features only, no GCN), ``rel_feat`` (relation features only),
  ``con_feat`` (concatenation instead of the sum), ``no_aug`` (without the 70-fold
  augmentation), ``softmax_att`` (softmax attention), ``focal_loss`` (focal instead of the
  balanced detection loss), ``dense_graph`` (every pair of AUs joined), ``original_graph``
  (the 17-node graph of every AU of classes I-V);
- ``au_detection``: Table VII, AU detection under HDE on the 7 AUs of STAP
  (1, 2, 4, 9, 12, 14, 17; the graph among them from the class table, AU14 isolated) and on
  STAP's clips, not the 253 of classes I-V: the clips of CASME II and SAMM coded with at least
  one of the seven (the ``any_au`` rule of :data:`mejax.paper_sets.STAP_CROSS_DATABASE`; 228 +
  78 in the paper, 231 + 88 with the public sheets). CASME II is read with its 2019 coding
  sheet (``casme2/cropped``), the one that carries the objective classes (the 2014 sheet STAP
  counts has none; it would keep 233). Every such clip takes part in the detection loss and the
  per-AU F1, only the clips of classes I-V in the class loss (how the paper's other clips
  entered its MER loss is not stated).

The hand-crafted rows of Table VI come from the baselines on the same composite and
protocol: ``configs/lbp_top.py:megc2018,hde`` (also ``hoof.py``, ``hog3d.py``; ``cde`` for
VI(b)).

The paper setting (Sec. IV): TV-L1 onset -> apex flow, u and v at 28^2 (the cached
``flow_tvl1_28`` of the composite); training on the 70 flows of each clip (10 enriched apex
frames x 7 paired rotations, ``flow_tvl1_28_aug70``), testing on the plain flow; Adam 5e-4
(beta .9/.999, eps 1e-8), batch 64, 50 epochs, the model of the last epoch (no selection is
stated); ``L = CE + 0.75 L_detc``, the CE summed over the batch as the paper prints it
(``task.class_loss_reduction="sum"``; ``"mean"`` averages it, which weighs the detection loss
about 64 times more at the same lambda: :class:`mejax.tasks.RecognitionWithAUs`). The flow
enters the network as raw (u, v) in pixels at 28^2 (``input.flow_encoding="uv"``): how the
reference scaled it into its 8-bit images is unknown.
The AU targets are the 12 nodes of the final graph; the attention, detectors and GCN sizes the
paper leaves open are the model's fields (:mod:`mejax.models.au_gcn`).

On ``synth``: Farneback flow stands in for TV-L1 (``flow_method=farneback``), because 70 TV-L1
flows per clip take hours on a CPU while the Farneback ones take a minute; the Adam rate, the
epochs (over the 70-fold training set) and the validation-subject selection are sized so that a
run takes minutes on 2 CPU cores.
"""

import ml_collections

from mejax import au_graph, config_args, paper_sets, presets

# Row (Tables III-V) -> its method name in the paper's tables.
ROWS = {
    "mer_augcn": "MER-auGCN",
    "resnet18": "Resnet18",
    "dual_inception": "Dual-Inception",
    "au_feat": "AUFeat",
    "rel_feat": "RelFeat",
    "con_feat": "ConFeat",
    "no_aug": "MER-auGCN without data augmentation",
    "softmax_att": "SoftmaxAtt",
    "focal_loss": "FocalLos",
    "dense_graph": "DenselyG",
    "original_graph": "OriginalG",
}
# The argument's token groups (mejax.paper_settings).
ARGS = {
    "database": config_args.databases("synth", "megc2018"),
    "protocol": config_args.choice(("hde", "cde"), default=None),
    "row": config_args.choice(tuple(ROWS), default="mer_augcn"),
    "au_detection": config_args.flag("au_detection", "Table VII: AU detection under HDE"),
}
TABLE_VII_AUS = paper_sets.CROSS_DATABASE_AUS
# Table VII's databases: CASME II with the coding sheet that holds the objective classes, SAMM.
TABLE_VII_DATABASES = ("casme2/cropped", config_args.builder("samm"))


def get_config(arg=None):
    args = config_args.parse(arg, ARGS)
    database, row, au_detection = args["database"], args["row"], args["au_detection"]
    if args["protocol"] and database != "megc2018":
        raise ValueError(f"config argument {arg!r}: hde / cde are protocols of megc2018")
    if au_detection and (database != "megc2018" or args["protocol"] == "cde"):
        raise ValueError(f"config argument {arg!r}: au_detection is Table VII, megc2018 with hde")
    synth = database == "synth"
    resnet = row == "resnet18"
    augment = row not in ("resnet18", "no_aug")  # the 70-fold augmentation
    graph = {"dense_graph": "dense", "original_graph": "original"}.get(row, "final")
    aus = TABLE_VII_AUS if au_detection else au_graph.nodes(graph)

    c = ml_collections.ConfigDict()
    c.name = f"{ROWS[row]} (AU detection)" if au_detection else ROWS[row]
    c.seed = 0
    c.init_from = ""
    # Table VII: STAP's clips of CASME II and SAMM (see the module docstring), the 2019 CASME
    # II sheet for its objective classes; subjects prefixed by database, as HDE deals them.
    c.dataset = ml_collections.ConfigDict()
    c.dataset.name = TABLE_VII_DATABASES[0] if au_detection else config_args.builder(database)
    c.dataset.data_dir = ""
    c.dataset.manual_dir = ""
    c.dataset.extra = TABLE_VII_DATABASES[1:] if au_detection else ()
    c.dataset.extra_manual_dirs = ("",) if au_detection else ()

    c.input = ml_collections.ConfigDict()
    c.input.variant = "flow"
    c.input.image_size = (64 if synth else 112) if resnet else 28
    # On synth Farneback flow stands in for TV-L1 (see the module docstring).
    c.input.flow_method = "farneback" if synth else "tvl1"
    c.input.flow_encoding = "uv"
    # The 70-fold augmentation exists at 28^2 (the Dual-Inception input).
    c.input.flow_augment = "aug70" if augment else ""
    c.input.flip = False
    c.input.num_frames = 1

    c.model = ml_collections.ConfigDict()
    c.model.name = "au_gcn"
    c.model.aus = aus
    c.model.graph = graph
    c.model.normalize_graph = False
    c.model.backbone = "resnet18" if resnet else "dual_inception"
    c.model.attention = "softmax" if row == "softmax_att" else "sigmoid"
    c.model.fusion = "concat" if row == "con_feat" else "sum"
    c.model.features = {"au_feat": "au", "rel_feat": "relation"}.get(row, "both")
    c.model.au_branch = row not in ("resnet18", "dual_inception")
    # On synth z of 256 features rather than 1024: the 12 attention layers (1024 x 1024 each)
    # would make a step 4x slower on a CPU.
    c.model.backbone_features = 256 if synth else 1024
    c.model.resnet_width = 0.25 if synth and resnet else 1.0
    c.model.resnet_max_pool = True
    c.model.dtype = "float32"
    c.model.bn_momentum = 0.9

    c.task = ml_collections.ConfigDict()
    c.task.name = "mer_au"
    c.task.label_set = "objective_5"
    c.task.classes = ()
    c.task.class_weights = ""
    c.task.aus = aus
    c.task.detection_weight = 0.75
    c.task.detection_loss = "focal" if row == "focal_loss" else "balanced"
    c.task.unclassified = au_detection
    # The paper's CE, a sum over the batch (see the module docstring).
    c.task.class_loss_reduction = "sum"
    # Table VII: STAP's clips, those coded with one of its seven AUs (mejax.paper_sets).
    c.task.samples = "any_au" if au_detection else "all"
    c.task.emotions = ()

    c.protocol = ml_collections.ConfigDict()
    c.protocol.name = "subject_kfold" if synth else (args["protocol"] or "hde")
    c.protocol.rounds = ()

    c.optimizer = presets.sgd_optimizer(
        name="adam", learning_rate=1e-3 if synth else 5e-4, momentum=0.0
    )
    # On synth 3 passes over the 70-fold training set (without it, as many steps: 70 x 3
    # epochs), the model of the best validation score, the last partial batch dropped (as the
    # synthetic figures of the README were made).
    c.train = presets.train_block(
        batch_size=64,
        num_epochs=(3 if augment else 210) if synth else 50,
        last_batch="drop" if synth else "fill",
        eval_batch_size=32 if synth else 64,
        log_every_steps=20 if synth else 10,
        selection="validation" if synth else "last",
        balance_classes=False,
    )
    return c.lock()
