"""LBP-TOP + linear SVM: the hand-crafted baseline of STAP and SCA.

Zhao & Pietikäinen (TPAMI 2007) LBP-TOP with radii (R_X, R_Y, R_T) = (3, 3, 3), 8 neighbours
per plane, uniform (u2, 59-bin) patterns, 5 x 5 blocks, histograms per block and plane
(``mejax/baselines/lbp_top.py``); one linear SVM per AU. The "LBP-TOP" row of STAP's Tables
III (CASME II), IV (CASME) and V (SAMM) under the subject-independent 2-fold protocol with
C = 1000, per-AU F1; SCA's LBP-TOP row (its 4-fold protocol, C selected on the validation
fold) with the argument ``casme2,sca`` (etc.).

    python -m mejax.main --config=configs/lbp_top.py --workdir=runs/lbp_top            # synth_me
    python -m mejax.main --config=configs/lbp_top.py:casme2 --workdir=runs/lbp_top_casme2

Arguments: `synth` (default; synth_me/small at 112^2, all four rounds, C selected on validation;
about a minute on 2 CPU cores once synth_me is built), `casme2`, `casme`, `samm` (the paper
setting: 10 TIM frames at 224^2; minutes on a CPU). Features are cached
(``--config.baseline.cache_dir``), so a second run or another classifier setting skips
extraction.

The hand-crafted baselines (this file and ``lpq_top.py``, ``lbp_sip.py``, ``hog3d.py``,
``hog3d_polikovsky.py``, ``hoof.py``) share every setting but the descriptor and where C comes
from: this file states that setting once, in :func:`hand_crafted`, and its siblings take it
with their descriptor. A baseline config has the deep configs' ``dataset``, ``input``, ``task``
and ``protocol`` blocks (so the same builder, preprocessing, AU labels and rounds are used) and
a ``baseline`` block in place of ``model`` / ``optimizer`` / ``train``: the descriptor and its
parameters, the block grid, the classifier, and the feature cache directory. ``mejax.main``
runs a config with a ``baseline`` block through :func:`mejax.experiment.run`.

Settings by argument:

- ``casme2``, ``casme``, ``samm`` -- the paper setting: 10 TIM frames at 224^2 (STAP's input,
  Sec. IV-B), 5 x 5 blocks, the AUs and clips of STAP's table for the database (Tables
  III-V, :mod:`mejax.paper_sets`), STAP's subject-independent 2-fold protocol, all four
  rounds. C as in the paper the row comes from: fixed at 1000 for STAP's rows (LBP-TOP,
  LPQ-TOP), selected on the validation subjects over 10^-3 ... 10^3 for SCA's (LBP-SIP, HOG3D)
  and the others.
- ``<database>,sca`` (e.g. ``casme2,sca``) -- SCA's setting (Sec. 4.1): its subject-independent
  4-fold protocol (2 folds train, 1 validates, 1 tests; ``protocols.subject_kfold``), the AUs
  and clips of SCA's table for the database (Tables 1-3) and C selected on the validation fold,
  for every descriptor.
- ``<database>,mer`` (e.g. ``casme2,mer``; ``megc2019,mer`` the LBP-TOP row of the MEGC2019
  recogniser's Table I: three classes, 68-subject LOSO) -- recognition instead of AU detection
  (``recognition.py``): one multi-class SVM over the database's emotion classes
  (``--config.task.label_set=objective`` for the objective classes, ``megc2019`` for MEGC2019's
  three), leave-one-subject-out, C selected on the validation subject by UF1; UF1 / UAR / WAR /
  WF1 as MEGC scores them.
  On ``synth,mer`` the 20 LOSO rounds fit 140 seven-class SVMs: about 4 minutes of CPU.
- ``megc2018,hde`` and ``megc2018,cde`` -- the hand-crafted rows of MER-auGCN's Table VI and
  Micro-Attention's Tables 2 and 4: objective classes I-V of the MEGC2018 composite (CASME II +
  SAMM), one multi-class SVM, holdout-database evaluation (CASME II -> SAMM and back) or
  leave-one-subject-out over the composite, C selected on validation subjects of the training
  side.
- ``cross_<A>_<B>_<C>`` (e.g. ``cross_casme2_casme_samm``) -- STAP's cross-database protocol
  (Sec. IV-E, the LBP-TOP rows of Tables VI and VII): the paper setting's input, trained on
  database A, C selected (or fixed, for STAP's rows) on B, tested on C; the seven common AUs and
  the clips coded with one (:func:`mejax.presets.cross_dataset`).
- ``synth`` (default) -- ``synth_me/small`` (20 subjects x 12 clips, 112^2) at its native
  112^2, 10 TIM frames, AUs 4, 7, 12, all four rounds of the 2-fold protocol, C selected on
  validation (STAP's fixed C has no validation data to answer to on a new database). The
  descriptors keep the paper parameters; every baseline extracts its 240 clips in well under a
  minute on 2 CPU cores and the SVMs take seconds.
"""

import ml_collections

from mejax import config_args, presets

DESCRIPTOR = {
    "name": "lbp_top",
    "radii": (3, 3, 3),  # (R_X, R_Y, R_T)
    "neighbours": (8, 8, 8),  # (P_XY, P_XT, P_YT)
    "mapping": "u2",
    "border": "volume",
    "norm": "l1",
}

# The argument's token groups (mejax.paper_settings): a database and, optionally, a setting
# other than STAP's AU detection, or a cross-database order.
ARGS = {
    # MEGC2019's composite for recognition only (the LBP-TOP row of the MEGC2019 recogniser's
    # Table I: ``megc2019,mer``).
    "database": config_args.databases(*presets.ARGS, "megc2019", "megc2018"),
    "setting": config_args.choice(
        ("sca", "mer", "hde", "cde"),
        default=None,
        doc="sca: SCA's 4-fold protocol and C selection; mer: recognition; hde, cde: MEGC2018",
    ),
    "cross": presets.CROSS,
}


def get_config(arg=None):
    return hand_crafted(arg, name="LBP-TOP", descriptor=DESCRIPTOR, stap_row=True)


def hand_crafted(
    arg: str | None, *, name: str, descriptor: dict, stap_row: bool
) -> ml_collections.ConfigDict:
    """The config of one hand-crafted baseline: ``name`` (the row in the papers' tables),
    ``descriptor`` (``{"name": <mejax.baselines.descriptors name>, **its parameters}``),
    ``stap_row`` (a row of STAP's tables, whose C is fixed at 1000 in its paper setting)."""
    args = config_args.parse(arg, ARGS)
    database, setting, cross = args["database"], args["setting"], args["cross"]
    if cross and (database != "synth" or setting):
        raise ValueError(f"config argument {arg!r}: {cross} takes no database or setting")
    if cross:
        database = presets.CROSS_ORDERS[cross][0]
    if database == "megc2019" and setting != "mer":
        raise ValueError(f"config argument {arg!r}: megc2019 is a recognition database; add ',mer'")
    if (database == "megc2018") != (setting in ("hde", "cde")):
        raise ValueError(f"config argument {arg!r}: hde and cde are the protocols of megc2018")
    synth = database == "synth"
    recognition = setting in ("mer", "hde", "cde")

    c = ml_collections.ConfigDict()
    c.name = name
    c.seed = 0
    c.dataset = presets.cross_dataset(cross) if cross else presets.dataset_block(database)
    c.input = ml_collections.ConfigDict()
    c.input.num_frames = 10
    c.input.temporal_model = "tim"
    c.input.image_size = 112 if synth else 224  # synth_me/small's native size

    if setting == "mer":
        # Recognition (recognition.py): the database's emotion classes, LOSO, C on the
        # validation subject; on megc2019 its three classes and 68-subject LOSO; on casme2 its
        # five classes (mejax.datasets.labels): fear is one subject's.
        label_set = {"megc2019": "megc2019", "casme2": "casme2_5"}.get(database, "emotion")
        protocol = "megc2019_loso" if database == "megc2019" else "loso"
    elif setting in ("hde", "cde"):
        # MER-auGCN's Table VI and Micro-Attention's Tables 2 and 4: objective classes I-V of
        # CASME II + SAMM, holdout-database (both directions) or composite LOSO evaluation.
        label_set, protocol = "objective_5", setting
    if recognition:
        c.task = ml_collections.ConfigDict({"name": "mer", "label_set": label_set, "classes": ()})
        c.protocol = ml_collections.ConfigDict({"name": protocol, "rounds": ()})
    elif cross:
        c.task = ml_collections.ConfigDict(presets.cross_task_sets(cross))
        c.protocol = presets.cross_protocol(cross)
    else:
        # The AUs and clips of the table the row comes from (mejax.paper_sets): STAP's Tables
        # III-V, or with ``sca`` SCA's Tables 1-3; every round of the paper's protocol.
        paper = "sca" if setting == "sca" else "stap"
        c.task = ml_collections.ConfigDict(presets.task_sets(paper, database))
        c.protocol = ml_collections.ConfigDict()
        c.protocol.name = "subject_kfold" if setting == "sca" else "stap_two_fold"
        c.protocol.rounds = (0, 1, 2, 3)

    c.baseline = ml_collections.ConfigDict()
    c.baseline.descriptor = dict(descriptor)
    # (rows, columns, temporal segments) of the block grid.
    c.baseline.blocks = (5, 5, 1)
    # C fixed at 1000 in STAP's rows; selected on validation in every other setting, and on
    # synth (STAP's fixed C has no validation data to answer to on a new database).
    c.baseline.classifier = {
        "c_selection": "fixed" if stap_row and not (synth or setting) else "validation",
        "log10_c": (-3, -2, -1, 0, 1, 2, 3),
        "fixed_c": 1000.0,
        "class_weight": "",
        "standardize": True,
        "max_iter": 10000,
    }
    # "" = ~/.cache/mejax/features.
    c.baseline.cache_dir = ""
    return c.lock()
