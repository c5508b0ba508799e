"""Micro-Attention: a pre-activation ResNet-10 with micro-attention units, staged transfer.

Wang, Peng, Bi, Chen, "Micro-Attention for Micro-Expression Recognition" (Neurocomputing
2020): the network of :mod:`mejax.models.micro_attention` on the greyscale apex frame, trained
in stages. Stage 1 trains the network *without* attention units on macro-expressions; stage 2
adds the units, starts from stage 1's weights (``init_from``) and fine-tunes on
micro-expressions with each protocol's settings (Sec. 4.1-4.2):

    # stage 1 (synth_me/macro here; with a paper database, CK+ + Oulu-CASIA + JAFFE + MUG)
    python -m mejax.main --config=configs/micro_attention.py:pretrain --workdir=runs/ma_stage1
    # stage 2: the micro-expressions, from stage 1
    python -m mejax.main --config=configs/micro_attention.py \\
        --config.init_from=runs/ma_stage1 --workdir=runs/ma
    # the paper: stage 1 once, then Tables 2 (HDE), 4 (CDE) and 6 (LOSO per database)
    python -m mejax.main --config=configs/micro_attention.py:casme2,pretrain --workdir=runs/s1
    python -m mejax.main --config=configs/micro_attention.py:megc2018,hde \\
        --config.init_from=runs/s1 --workdir=runs/ma_hde
    python -m mejax.main --config=configs/micro_attention.py:samm,resnet \\
        --config.init_from=runs/s1 --workdir=runs/resnet_samm

The argument is comma-separated tokens, each optional:

- a database: ``synth`` (default: ``synth_me/small``, objective classes I-V, the four rounds
  of a subject-independent 4-fold protocol, 64^2 apex frames cropped to 56^2), ``megc2018``
  (CASME II + SAMM, classes I-V: ``hde``, Table 2, the default, or ``cde``, Table 4),
  ``casme2``, ``samm`` (classes I-V) or ``smic`` (its 3 classes), each LOSO (Table 6);
- the row: ``ma`` (default: with the micro-attention units) or ``resnet`` (without them: the
  "ResNet" rows). The "complex attention" rows compare with a network the paper cites ([29])
  but does not specify, so mejax has no such row;
- ``pretrain``: stage 1 instead, on the macro-expression databases of the database's family
  (``synth``: ``synth_me/macro``; a paper database: the ``peak`` frames of CK+, Oulu-CASIA,
  JAFFE and MUG, whichever micro database is named), the five basic emotions, no attention
  units, a random 9:1 train/validation split of the frames (``protocol=pretrain``; no test
  side).

The paper settings (Sec. 4.1), and the choices where it is silent:

- input: the apex frame in grey (``input.gray``), 240^2, a random 224^2 crop in training; the
  test frame is the central 224^2 crop (the paper resizes it to 224^2); pixels 0..255 as Caffe
  reads them (``input.raw_pixels``; the input BatchNorm ``data_bn`` normalises them);
- stage 1: SGD momentum 0.9, batch 50, lr 0.01 divided by 10 every 20 epochs, 60 epochs (not
  stated); colour shift <= 20, rotation <= 10 degrees and box smoothing <= 6, each with
  probability 0.5; the model of the best validation accuracy... here UF1 (the task's score);
- stage 2, every class resampled up to the largest (``train.balance_classes`` with
  ``train.balance_epoch="largest"``: an epoch is C x n_max clips, n_max of each of the C
  classes, n_max the largest class's count, so that the epochs of "lr divided by 10 every 10
  epochs" are the paper's), lr divided by 10 every 10 epochs, 30 epochs (not stated), the last
  epoch's model (no selection is stated). Stage 2 of a paper database starts from stage 1
  (``init_from`` its workdir, or ImageNet weights): without one it refuses to start
  (``init_from = "required"``, :func:`mejax.weights.pretrained.pretraining_errors`) unless
  ``--config.init_from=none`` asks for a random start knowingly. Per protocol (the minus signs
  of the printed weight decays are lost in the text; read as negative exponents):

  ========  =====  =====  ============  ==============================================
  protocol  batch  lr     weight decay  augmentation
  ========  =====  =====  ============  ==============================================
  HDE       10     1e-4   3e-2          colour shift, rotation <= 8 degrees
  CDE       8      1e-3   5e-6          one of the four corner 224^2 crops of 240^2
  LOSO      10     1e-3   5e-4          all of the above
  ========  =====  =====  ============  ==============================================

- stage 2 loads stage 1's classifier too: its five basic emotions (happiness, surprise, anger,
  disgust, sadness) are, in order, the emotions of objective classes I-V (Davison et al. 2018),
  which the paper's CASME II and SAMM classes are; on SMIC's 3 classes it keeps its initial
  value (another shape);
- the "BNS" layers' Scale bias learns at twice the rate in the prototxt (``lr_mult 2``); mejax
  trains every parameter at the one rate;
- ImageNet initialisation of stage 1 from CVGJ's ResNet-10 where a user has it:
  ``python -m mejax.weights.caffe resnet10_cvgj_iter_320000.caffemodel resnet10.npz`` then
  ``--config.init_from=resnet10.npz`` (conv1 folded to one grey channel; see
  :mod:`mejax.weights.caffe`).

On ``synth``: 64^2 apex frames cropped to 56^2, a 1/2-width network; stage 1 on
``synth_me/macro`` (about 90 frames in the five classes) for 150 one-batch epochs at lr 0.05
(divided by 10 after 100); stage 2 with the LOSO setting for 20 epochs (every class resampled
up to the largest: 460-540 steps a round) at lr 3e-3 (divided by 10 after 10), the model of the best
validation UF1. About 1 and 3 minutes on 2 CPU cores. The rate was chosen on validation UF1
only: stage 2 from stage 1 (seed 0) at 1e-3, 3e-3, 1e-2 and 3e-2, each run's mean over its four
rounds of the selected validation UF1 (``results.json``, ``rounds[*].validation_uf1``; no test
figure compared), 0.275, 0.296, 0.278 and 0.210:

    python -m mejax.main --config=configs/micro_attention.py:synth,pretrain --workdir=runs/s1
    for lr in 1e-3 3e-3 1e-2 3e-2; do python -m mejax.main --config=configs/micro_attention.py \
      --config.init_from=runs/s1 --config.optimizer.learning_rate=$lr --workdir=runs/ma_$lr; done
"""

import ml_collections

from mejax import config_args, presets
from mejax.weights import pretrained

# The argument's token groups (mejax.paper_settings).
ARGS = {
    "database": config_args.databases("synth", "megc2018", "casme2", "samm", "smic"),
    "protocol": config_args.choice(("hde", "cde"), default=None),
    "row": config_args.choice(("ma", "resnet"), default="ma"),
    "pretrain": config_args.flag("pretrain", "stage 1 on the macro-expression databases"),
}
# The macro-expression databases of stage 1 (their ``peak`` frames) per database family.
MACRO = {
    "synth": ("synth_me/macro", ()),
    "paper": ("ckplus/peak", ("oulu_casia/peak", "jaffe/peak", "mug/peak")),
}
# Stage 2 per protocol: batch, lr, weight decay, augmentation, crop (Sec. 4.1).
COLOR_ROTATION = {"max_color_shift": 20.0, "max_rotation": 8.0}
PROTOCOLS = {
    "hde": (10, 1e-4, 3e-2, COLOR_ROTATION, "random"),
    "cde": (8, 1e-3, 5e-6, {}, "corners"),
    "loso": (10, 1e-3, 5e-4, COLOR_ROTATION, "corners"),
}
STAGE1_PHOTOMETRIC = {"max_color_shift": 20.0, "max_rotation": 10.0, "max_smoothing": 6}


def get_config(arg=None):
    args = config_args.parse(arg, ARGS)
    database, pretrain = args["database"], args["pretrain"]
    if args["protocol"] and (database != "megc2018" or pretrain):
        raise ValueError(f"config argument {arg!r}: hde / cde are protocols of megc2018")
    synth = database == "synth"
    attention = args["row"] == "ma" and not pretrain
    # Stage 2's protocol and its settings (stage 1 keeps the protocol's evaluation batch).
    protocol = args["protocol"] or ("hde" if database == "megc2018" else "loso")
    batch, lr, decay, photometric, crop_mode = PROTOCOLS[protocol]
    # Stage 1's augmentation; on synth, smoothing windows scaled from 224^2 to 64^2 frames
    # (6 -> 2).
    stage1_photometric = {**STAGE1_PHOTOMETRIC, "max_smoothing": 2} if synth else STAGE1_PHOTOMETRIC

    c = ml_collections.ConfigDict()
    c.name = "ResNet (stage 1)" if pretrain else ("MA" if attention else "ResNet")
    c.seed = 0
    # Stage 2 of a paper database starts from stage 1 (or ImageNet): no silent random start.
    c.init_from = "" if pretrain or synth else pretrained.REQUIRED

    c.dataset = ml_collections.ConfigDict()
    if pretrain:
        c.dataset.name, c.dataset.extra = MACRO["synth" if synth else "paper"]
    else:
        # Objective classes on casme2: the 2019 sheet's (the 2014 sheet has none).
        c.dataset.name = "casme2/cropped" if database == "casme2" else config_args.builder(database)
        c.dataset.extra = ()
    c.dataset.data_dir = ""
    c.dataset.manual_dir = ""

    c.input = ml_collections.ConfigDict()
    c.input.variant = "apex"
    c.input.image_size = 64 if synth else 240
    c.input.crop_size = 56 if synth else 224
    c.input.crop_mode = "random" if pretrain else crop_mode
    c.input.gray = True
    c.input.raw_pixels = True
    c.input.photometric = stage1_photometric if pretrain else photometric
    c.input.flip = False
    c.input.num_frames = 1

    c.model = ml_collections.ConfigDict()
    c.model.name = "micro_attention"
    c.model.attention = attention
    c.model.width = 0.5 if synth else 1.0
    c.model.dtype = "float32"
    c.model.bn_momentum = 0.9

    c.task = ml_collections.ConfigDict()
    c.task.name = "mer"
    # Stage 1: the five basic emotions, whatever the classes of stage 2.
    smic = database == "smic" and not pretrain
    c.task.label_set = "basic_5" if pretrain else ("emotion" if smic else "objective_5")
    c.task.classes = ("negative", "positive", "surprise") if smic else ()
    c.task.class_weights = ""

    c.protocol = ml_collections.ConfigDict()
    c.protocol.name = "pretrain" if pretrain else ("subject_kfold" if synth else protocol)
    c.protocol.rounds = ()
    if pretrain:
        c.protocol.holdout = 0.1  # a random 9:1 train/validation split of the frames

    # On synth, stage 1: about 90 frames of synth_me/macro in classes I-V, one batch of 50 per
    # epoch; at the paper's 0.01 the training loss barely moved in 300 steps. Stage 2: the rate
    # chosen on validation UF1 among 1e-3 (the LOSO setting's), 3e-3, 1e-2 and 3e-2 (the module
    # docstring).
    c.optimizer = presets.sgd_optimizer(
        learning_rate=(0.05 if synth else 0.01) if pretrain else (3e-3 if synth else lr),
        weight_decay=0.0 if pretrain else decay,
        schedule="step",
        decay_every_epochs=(100 if synth else 20) if pretrain else 10,
        decay_factor=0.1,
    )
    # On synth the last partial batch of an epoch is dropped, as the synthetic figures of the
    # README were made.
    c.train = presets.train_block(
        batch_size=50 if pretrain else batch,
        num_epochs=(150 if synth else 60) if pretrain else (20 if synth else 30),
        last_batch="drop" if synth else "fill",
        eval_batch_size=30 if synth else batch,
        eval_every_epochs=10 if synth and pretrain else 1,
        log_every_steps=5 if synth else 10,
        selection="validation" if pretrain or synth else "last",
        balance_classes=not pretrain,
        balance_epoch="largest",  # an epoch: every class resampled up to the largest
    )
    return c.lock()
