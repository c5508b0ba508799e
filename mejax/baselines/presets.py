"""Config preset of the hand-crafted baselines (``configs/lbp_top.py`` and its siblings).

A baseline config has the deep configs' ``dataset``, ``input``, ``task`` and ``protocol``
blocks (so the same builder, preprocessing, AU labels and rounds are used) and a ``baseline``
block in place of ``model`` / ``optimizer`` / ``train``: the descriptor and its parameters,
the block grid, the classifier, and the feature cache directory. ``mejax.main`` runs a config
with a ``baseline`` block through :func:`mejax.experiment.run`.

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
  the clips coded with one (:func:`mejax.presets.cross_database`).
- ``synth`` (default) -- ``synth_me/small`` (20 subjects x 12 clips, 112^2) at its native
  112^2, 10 TIM frames, AUs 4, 7, 12, all four rounds of the 2-fold protocol, C selected on
  validation (STAP's fixed C has no validation data to answer to on a new database). The
  descriptors keep the paper parameters; every baseline extracts its 240 clips in well under a
  minute on 2 CPU cores and the SVMs take seconds.
- ``synth_tiny`` -- tests: ``synth_me/tiny`` at 32^2, 8 frames, AUs 4 and 7, a 2 x 2 grid,
  rounds 0 and 1, a 3-value C grid.
"""

from __future__ import annotations

import ml_collections

from mejax import config_args, presets

# Where each descriptor's baseline row comes from: STAP's rows use a fixed C = 1000.
STAP_ROWS = ("lbp_top", "lpq_top")
# The argument: a database and, optionally, a setting other than STAP's AU detection.
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


def baseline(method: str, descriptor: dict, arg: str | None) -> ml_collections.ConfigDict:
    """Config of one hand-crafted baseline.

    Args:
      method: the row name in the papers' tables (``LBP-TOP``, ``LPQ-TOP``, ...).
      descriptor: ``{"name": <mejax.baselines.descriptors name>, **its parameters}``.
      arg: the config file's argument (:data:`ARGS`): a database, ``synth`` (default),
        ``synth_tiny``, or ``casme2``, ``casme``, ``samm`` for the paper setting; with ``sca``
        (e.g. ``casme2,sca``) SCA's protocol and C selection, with ``mer`` recognition.

    Returns:
      A locked ConfigDict.
    """
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
    c = ml_collections.ConfigDict()
    c.name = method
    c.seed = 0
    c.dataset = presets.dataset_block(database)
    c.input = ml_collections.ConfigDict(
        {"num_frames": 10, "temporal_model": "tim", "image_size": 224}
    )
    # The AUs and clips of the table the row comes from (mejax.paper_sets): STAP's Tables
    # III-V, or with ``sca`` SCA's Tables 1-3.
    paper = "sca" if setting == "sca" else "stap"
    c.task = ml_collections.ConfigDict(
        presets.task_sets(paper, database)
        if database in presets.DATABASE_AUS
        else {"aus": (), "samples": "all", "emotions": ()}
    )
    c.protocol = ml_collections.ConfigDict({"name": "stap_two_fold", "rounds": (0, 1, 2, 3)})
    if cross:
        presets.cross_database(c, cross)
    stap_row = descriptor["name"] in STAP_ROWS
    c.baseline = ml_collections.ConfigDict(
        {
            "descriptor": dict(descriptor),
            # (rows, columns, temporal segments) of the block grid.
            "blocks": (5, 5, 1),
            "classifier": {
                "c_selection": "fixed" if stap_row else "validation",
                "log10_c": (-3, -2, -1, 0, 1, 2, 3),
                "fixed_c": 1000.0,
                "class_weight": "",
                "standardize": True,
                "max_iter": 10000,
            },
            # "" = ~/.cache/mejax/features.
            "cache_dir": "",
        }
    )
    presets.synthetic(c, database)
    if database in config_args.SYNTHETIC:
        # STAP's fixed C has no validation data to answer to on a new database.
        c.baseline.classifier.c_selection = "validation"
    if database == "synth":
        c.input.image_size = 112  # synth_me/small's native size
    elif database == "synth_tiny":
        c.input.image_size = 32
        c.baseline.blocks = (2, 2, 1)
        c.baseline.classifier.log10_c = (-2, 0, 2)
    if setting == "sca":
        c.protocol.name = "subject_kfold"
        c.baseline.classifier.c_selection = "validation"
    if setting == "mer":
        # Recognition (recognition.py): the database's emotion classes, LOSO, C on the
        # validation subject; on megc2019 its three classes and 68-subject LOSO.
        label_set, protocol = (
            ("megc2019", "megc2019_loso") if database == "megc2019" else ("emotion", "loso")
        )
        if database == "casme2":  # its five classes (mejax.datasets.labels): fear is one subject's
            label_set = "casme2_5"
        c.task = ml_collections.ConfigDict({"name": "mer", "label_set": label_set, "classes": ()})
        c.protocol = ml_collections.ConfigDict({"name": protocol, "rounds": ()})
        c.baseline.classifier.c_selection = "validation"
    if setting in ("hde", "cde"):
        # MER-auGCN's Table VI and Micro-Attention's Tables 2 and 4: objective classes I-V of
        # CASME II + SAMM, holdout-database (both directions) or composite LOSO evaluation.
        c.task = ml_collections.ConfigDict(
            {"name": "mer", "label_set": "objective_5", "classes": ()}
        )
        c.protocol = ml_collections.ConfigDict({"name": setting, "rounds": ()})
        c.baseline.classifier.c_selection = "validation"
    return c.lock()
