"""Neural Micro-Expression Recognizer: part-based ResNet-18, adversarial domain adaptation with a
macro-expression source, expression magnification and reduction (EMR).

Liu, Du, Zheng, Gedeon, "A Neural Micro-Expression Recognizer" (MEGC2019, FG 2019), Table I:
the rows Part + EMR and Part + Adv + EMR under MEGC2019's 68-subject LOSO, UF1 / UAR pooled over
all folds and per database part (Full, SMIC, CASME II, SAMM), next to the majority-class
predictor; the LBP-TOP row comes from the baselines (``configs/lbp_top.py:...``).

    python -m mejax.main --config=configs/neural_mer.py --workdir=runs/neural_mer    # synth_me
    python -m mejax.main --config=configs/neural_mer.py:megc2019 --workdir=runs/nmer_megc2019
    python -m mejax.main --config=configs/neural_mer.py:megc2019,part_emr --workdir=runs/nmer_pe

The argument is comma-separated tokens, each optional:

- a database: ``synth`` (default: ``synth_me/small`` with ``synth_me/macro`` as the
  macro-expression source, MEGC2019's three classes, the four rounds of a subject-independent
  4-fold protocol, a 1/2-width ResNet-18 on 64^2 flow, cropped to 56^2) or ``megc2019`` (the
  paper setting, with CK+ as the source);
- the row: ``part_adv_emr`` (default), ``part_emr`` (no discriminator) or ``resnet_emr``
  (global pooling instead of the parts, no discriminator: the ResNet-18 encoder alone). Every
  row trains on the same micro and reduced macro clips (EMR is magnification of the one and
  reduction of the other), so the rows differ only by the parts and the adversarial branch.

As the reference trains (../shared SPECS-MER §2, see ``mejax/optim.py: NMER_GROUPS``): Adam,
backbone 1e-5, heads and discriminator 1e-3 halved every 10 epochs while above 1e-5, coupled
weight decay 1e-6, gradient norms clipped to 1 per module except the discriminator's, batch 32,
100 epochs; the three class cross-entropies plus the domain cross-entropy behind a gradient
reversal whose factor follows 2/(1 + exp(-10 p)) - 1, p the progress through the fold (reset
every fold; the reference never resets it). Input: Farneback flow (the reference's parameters)
onset -> apex rendered as HSV; micro clips magnified (EVM) before the flow, macro clips reduced
(flow to the middle frame). Each batch mixes in source clips at the share they have in the
reference's pooled training set (CK+'s 327 clips against about 435 MEGC2019 training clips).

Training augmentation as the reference's ``Train/main.py`` transforms its flow images (Resize
256, RandomRotation 10, ColorJitter(.2, .2, .2, .2), RandomCrop 224; no flips): the flow is
rendered when the clips are read (``input.render_flow``); every training clip is rotated by a
uniform angle in [-10, 10] degrees and colour-jittered as torchvision does
(``input.photometric``: ``max_rotation=10``, ``jitter=0.2``, ``probability=1``; see
:func:`mejax.preprocess.augment.color_jitter`; on the rendering, the hue jitter turns the
encoded flow directions by up to 72 degrees, as the reference's does), then cropped at random
to 7/8 of its side (``input.crop_size``: 98 of 112; a random 224 crop of the 256 resize is a
random 7/8 of the image, up to a scale shared by training and test); validation and test clips
are the central 7/8 (the reference's test loader reuses the random training transform).
Differences that remain: the network sees the 7/8 crop at the stored scale (98^2) instead of
resizing it (224^2 of 256^2 is 8/7 of the stored scale), the rotation interpolates bilinearly
with a reflected border (torchvision: nearest, black corners), and the jitter rounds to uint8
once, not after each of its four steps as PIL does.

Choices where the paper is silent or the reference leaks, each a config field: the model of the
last epoch (``train.selection=last``; the reference keeps each fold's best *test* epoch), the
flow at 112^2 rendered to the network at that size (the reference renders 224^2 HSV images of
320^2 face chips). The paper setting starts from ImageNet weights, which mejax cannot download:
it refuses to start (``init_from = "required"``,
:func:`mejax.weights.pretrained.pretraining_errors`) until given torchvision's ResNet-18 checkpoint,
``--config.init_from=/path/to/resnet18-f37072fd.pth`` (read by
:mod:`mejax.weights.torch_convert`), or
``--config.init_from=none`` to train a random ResNet-18 knowingly (the backbone then still
learns at the reference's fine-tuning rate, 1e-5). The HSV rendering
(``mejax.preprocess.flow.hsv_image``): hue the flow's direction over the full circle, full
saturation, value the magnitude over the image's maximum. The reference sets H to the angle in
degrees halved (OpenCV's 8-bit convention), S to the apex frame's saturation and V to the
min-max-scaled magnitude times 255, then converts with OpenCV's float HSV2RGB, which expects H in
[0, 360] and S, V in [0, 1]: its S and V overflow and the colours wrap, so its images are not a
rendering of the flow that can be reproduced on purpose.
"""

import ml_collections

from mejax import config_args, optim, presets
from mejax.weights import pretrained

# The argument's token groups (mejax.paper_settings).
ARGS = {
    "database": config_args.databases("synth", "megc2019"),
    "row": config_args.choice(("part_adv_emr", "part_emr", "resnet_emr"), default="part_adv_emr"),
}
# Row -> (part-based pooling, domain adaptation); the method name of Table I.
ROWS = {
    "part_adv_emr": (True, True, "Part+Adv+EMR"),
    "part_emr": (True, False, "Part+EMR"),
    "resnet_emr": (False, False, "ResNet-18+EMR"),
}
# The optimizer groups on synth: from scratch on a few hundred synthetic clips, the backbone
# learns at the heads' rate (the reference's 1e-5 fine-tunes ImageNet weights), and the heads'
# and discriminator's rates halve every 5 epochs of the 15.
SYNTH_GROUPS = {
    "backbone": {**optim.NMER_GROUPS["backbone"], "learning_rate": 1e-3},
    "heads": {**optim.NMER_GROUPS["heads"], "decay_every_epochs": 5},
    "discriminator": {**optim.NMER_GROUPS["discriminator"], "decay_every_epochs": 5},
}


def get_config(arg=None):
    args = config_args.parse(arg, ARGS)
    database = args["database"]
    parts, adversarial, method = ROWS[args["row"]]
    # synth: a 1/2-width ResNet-18 on 64^2 flow cropped to 56^2, synth_me/macro as the
    # macro-expression source, every round of a subject-independent 4-fold protocol, the model
    # of the best validation UF1.
    synth = database == "synth"

    c = ml_collections.ConfigDict()
    c.name = method
    c.seed = 0
    # ImageNet weights (torchvision's resnet18-f37072fd.pth) or none, knowingly.
    c.init_from = "" if synth else pretrained.REQUIRED
    c.dataset = presets.dataset_block(database)
    c.dataset.extra = ()

    c.input = ml_collections.ConfigDict()
    c.input.variant = "flow"
    c.input.image_size = 64 if synth else 112
    c.input.flow_method = "farneback"
    c.input.flow_emr = "evm"
    c.input.flow_encoding = "hsv"
    c.input.render_flow = True
    # Train/main.py: RandomRotation(10), ColorJitter(.2, .2, .2, .2), always applied.
    c.input.photometric = {"max_rotation": 10.0, "jitter": 0.2, "probability": 1.0}
    # Resize 256 -> RandomCrop 224: a random 7/8 of the side; the test side's centre.
    c.input.crop_size = 56 if synth else 98
    c.input.crop_mode = "random"
    c.input.flip = False
    c.input.num_frames = 1

    c.model = ml_collections.ConfigDict()
    c.model.name = "part_mer"
    c.model.depth = 18
    c.model.width = 0.5 if synth else 1.0
    c.model.max_pool = True
    c.model.parts = parts
    c.model.discriminator = adversarial
    c.model.dtype = "float32"
    c.model.bn_momentum = 0.9

    c.task = ml_collections.ConfigDict()
    c.task.name = "mer"
    c.task.label_set = "megc2019"
    c.task.classes = ()
    c.task.class_weights = ""
    c.task.grl_schedule = "dann" if adversarial else ""

    c.protocol = ml_collections.ConfigDict()
    c.protocol.name = "subject_kfold" if synth else "megc2019_loso"
    c.protocol.rounds = ()

    c.optimizer = presets.sgd_optimizer(
        name="adam", learning_rate=1e-3, momentum=0.0, weight_decay=1e-6
    )
    c.optimizer.groups = {**optim.NMER_GROUPS, **SYNTH_GROUPS} if synth else optim.NMER_GROUPS
    # On synth the last partial batch of an epoch is dropped, as the synthetic figures of the
    # README were made.
    c.train = presets.train_block(
        batch_size=16 if synth else 32,
        num_epochs=15 if synth else 100,
        last_batch="drop" if synth else "fill",
        eval_batch_size=30 if synth else 32,
        log_every_steps=5 if synth else 10,
        selection="validation" if synth else "last",
        balance_classes=False,
    )

    c.aux_dataset = ml_collections.ConfigDict()
    c.aux_dataset.name = "synth_me/macro" if synth else "ckplus"
    c.aux_dataset.data_dir = ""
    c.aux_dataset.manual_dir = ""
    c.aux_dataset.ratio = 0.4
    c.aux_dataset.input = {"flow_emr": "reduced"}
    return c.lock()
