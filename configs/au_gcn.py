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
  rounds of a subject-independent 4-fold protocol), ``synth_tiny`` (tests) or ``megc2018``
  (the MEGC2018 composite of CASME II and SAMM, the paper setting);
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

ARGS = {
    "database": config_args.databases("synth", "synth_tiny", "megc2018"),
    "protocol": config_args.choice(("hde", "cde"), default=None),
    "row": config_args.choice(
        (
            "mer_augcn",
            "resnet18",
            "dual_inception",
            "au_feat",
            "rel_feat",
            "con_feat",
            "no_aug",
            "softmax_att",
            "focal_loss",
            "dense_graph",
            "original_graph",
        ),
        default="mer_augcn",
    ),
    "au_detection": config_args.flag("au_detection", "Table VII: AU detection under HDE"),
}
# Row -> (method name in the paper's tables, model fields, task fields, augmentation).
ROWS = {
    "mer_augcn": ("MER-auGCN", {}, {}, True),
    "resnet18": ("Resnet18", {"backbone": "resnet18", "au_branch": False}, {}, False),
    "dual_inception": ("Dual-Inception", {"au_branch": False}, {}, True),
    "au_feat": ("AUFeat", {"features": "au"}, {}, True),
    "rel_feat": ("RelFeat", {"features": "relation"}, {}, True),
    "con_feat": ("ConFeat", {"fusion": "concat"}, {}, True),
    "no_aug": ("MER-auGCN without data augmentation", {}, {}, False),
    "softmax_att": ("SoftmaxAtt", {"attention": "softmax"}, {}, True),
    "focal_loss": ("FocalLos", {}, {"detection_loss": "focal"}, True),
    "dense_graph": ("DenselyG", {"graph": "dense"}, {}, True),
    "original_graph": ("OriginalG", {"graph": "original"}, {}, True),
}
TABLE_VII_AUS = paper_sets.CROSS_DATABASE_AUS
# Table VII's databases: CASME II with the coding sheet that holds the objective classes, SAMM.
TABLE_VII_DATABASES = ("casme2/cropped", config_args.builder("samm"))


def get_config(arg=None):
    args = config_args.parse(arg, ARGS)
    database, row = args["database"], args["row"]
    if args["protocol"] and database != "megc2018":
        raise ValueError(f"config argument {arg!r}: hde / cde are protocols of megc2018")
    if args["au_detection"] and (database != "megc2018" or args["protocol"] == "cde"):
        raise ValueError(f"config argument {arg!r}: au_detection is Table VII, megc2018 with hde")
    method, model_fields, task_fields, augment = ROWS[row]
    resnet = model_fields.get("backbone") == "resnet18"
    graph = model_fields.get("graph", "final")
    aus = TABLE_VII_AUS if args["au_detection"] else au_graph.nodes(graph)
    c = ml_collections.ConfigDict()
    c.name = f"{method} (AU detection)" if args["au_detection"] else method
    c.seed = 0
    c.init_from = ""
    c.dataset = presets.dataset_block(database)
    c.dataset.extra = ()
    c.dataset.extra_manual_dirs = ()
    if args["au_detection"]:
        # STAP's clips of CASME II and SAMM (see the module docstring), the 2019 CASME II sheet
        # for its objective classes; subjects prefixed by database, as HDE deals them.
        c.dataset.name = TABLE_VII_DATABASES[0]
        c.dataset.extra = TABLE_VII_DATABASES[1:]
        c.dataset.extra_manual_dirs = ("",)
    c.input = ml_collections.ConfigDict(
        {
            "variant": "flow",
            "image_size": 112 if resnet else 28,
            "flow_method": "tvl1",
            "flow_encoding": "uv",
            # The 70-fold augmentation exists at 28^2 (the Dual-Inception input).
            "flow_augment": "aug70" if augment else "",
            "flip": False,
            "num_frames": 1,
        }
    )
    c.model = ml_collections.ConfigDict(
        {
            "name": "au_gcn",
            "aus": aus,
            "graph": "final",
            "normalize_graph": False,
            "backbone": "dual_inception",
            "attention": "sigmoid",
            "fusion": "sum",
            "features": "both",
            "au_branch": True,
            "backbone_features": 1024,
            "resnet_width": 1.0,
            "resnet_max_pool": True,
            "dtype": "float32",
            "bn_momentum": 0.9,
        }
    )
    c.model.update(model_fields)
    c.task = ml_collections.ConfigDict(
        {
            "name": "mer_au",
            "label_set": "objective_5",
            "classes": (),
            "class_weights": "",
            "aus": aus,
            "detection_weight": 0.75,
            "detection_loss": "balanced",
            "unclassified": bool(args["au_detection"]),
            # The paper's CE, a sum over the batch (see the module docstring).
            "class_loss_reduction": "sum",
            # Table VII: STAP's clips, those coded with one of its seven AUs (mejax.paper_sets).
            "samples": "any_au" if args["au_detection"] else "all",
            "emotions": (),
        }
    )
    c.task.update(task_fields)
    protocol = args["protocol"] or "hde"
    c.protocol = ml_collections.ConfigDict({"name": protocol, "rounds": ()})
    c.optimizer = presets.sgd_optimizer(name="adam", learning_rate=5e-4, momentum=0.0)
    c.train = presets.train_block(batch_size=64, num_epochs=50)
    c.train.selection = "last"
    c.train.balance_classes = False
    presets.synthetic(c, database)
    if database in config_args.SYNTHETIC:
        c.input.flow_method = "farneback"
        c.protocol.name = "subject_kfold" if database == "synth" else "loso"
        c.train.selection = "validation"
        c.optimizer.learning_rate = 1e-3
        if resnet:
            c.input.image_size = 64 if database == "synth" else 28
            c.model.resnet_width = 0.25
            c.model.resnet_max_pool = database == "synth"
    if database == "synth":
        # z of 256 features rather than 1024: the 12 attention layers (1024 x 1024 each) would
        # make a step 4x slower on a CPU.
        c.model.backbone_features = 256
        c.train.batch_size = 64
        c.train.eval_batch_size = 32
        # 3 passes over the 70-fold training set; without it, as many steps (70 x 3 epochs).
        c.train.num_epochs = 3 if augment else 210
        c.train.log_every_steps = 20
        c.protocol.rounds = ()
    elif database == "synth_tiny":
        c.model.name = "au_gcn_tiny"
        # The classes the training side of every round of synth_me/tiny holds.
        c.task.classes = ("I", "II", "III")
        c.train.batch_size = 16
        c.train.eval_batch_size = 4
        c.train.num_epochs = 1
    return c.lock()
