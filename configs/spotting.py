"""Micro- and macro-expression spotting in long videos (MEGC 2020-2023).

    python -m mejax.main --config=configs/spotting.py --workdir=runs/spotting      # synth_me long
    python -m mejax.main --config=configs/spotting.py:casme_sq --workdir=runs/spot_cas \
        --config.dataset.manual_dir=/data/CAS(ME)^2

Spotters (``method`` token): ``softnet`` (default; Liong, See, Wong, Phan, "Shallow Optical Flow
Three-Stream CNN for Macro- and Micro-Expression Spotting from Long Videos", ICIP 2021: SGD 5e-4,
batch 12, 10 epochs, half the negative windows, micro positives augmented x3, p = 0.55; trained
per leave-one-subject-out round and per type) or ``mdmd`` (the MEGC2020 organisers' training-free
baseline, main-directional maximal difference, p = 0.01). Both are scored beside the trivial
spotter (windows of the training expressions' mean length, one after another). Micro and macro
are spotted and scored separately, "overall" pools their counts, as MEGC does; a spotted
interval is a true positive at IoU >= 0.5, matched one to one (:mod:`mejax.spotting.evaluation`).

Databases (``database`` token): ``synth`` (default: ``synth_me_long/small``, 6 subjects x 2
videos x 20 s at 30 fps, 64^2; a few minutes on 2 CPU cores), ``synth_200fps``
(``synth_me_long/small_200fps``, SAMM-LV's rate), ``casme_sq`` (CAS(ME)^2, 30 fps), ``samm_lv``
(SAMM-LV, 200 fps), ``casme3`` (CAS(ME)^3 part A, 30 fps). Protocol: leave one subject out
(SOFTNet's; there is no validation side, ``train.selection = "last"``, so the published settings
are used as they are). Departures of the features from SOFTNet's (no landmarks: a whole-face
42^2 crop, Farneback flow by default for speed; ``--config.spotter.flow.method=tvl1`` for
SOFTNet's TV-L1) are documented in :mod:`mejax.spotting.flow_features`.
"""

import ml_collections

from mejax import config_args

DATABASES = {
    "synth": "synth_me_long/small",
    "synth_200fps": "synth_me_long/small_200fps",
    "casme_sq": "casme_sq/faces_128",
    "samm_lv": "samm_lv/faces_128",
    "casme3": "casme3/faces_128",
}
ARGS = {
    "database": config_args.choice(tuple(DATABASES), default="synth"),
    "method": config_args.choice(("softnet", "mdmd"), default="softnet"),
}


def get_config(arg=None):
    return spotting(arg).lock()


def spotting(arg=None) -> ml_collections.ConfigDict:
    """The spotting setting of ``arg``, unlocked (spot_then_recognise.py adds to it)."""
    args = config_args.parse(arg, ARGS)
    c = ml_collections.ConfigDict()
    c.name = {"softnet": "SOFTNet", "mdmd": "MDMD"}[args["method"]]
    c.seed = 0
    c.dataset = ml_collections.ConfigDict(
        {"name": DATABASES[args["database"]], "data_dir": "", "manual_dir": ""}
    )
    c.task = ml_collections.ConfigDict(
        {"name": "spotting", "types": ("micro", "macro"), "iou": 0.5, "matching": "iou"}
    )
    c.protocol = ml_collections.ConfigDict({"name": "loso", "rounds": ()})
    c.train = ml_collections.ConfigDict({"selection": "last"})
    c.spotter = ml_collections.ConfigDict(
        {
            "method": args["method"],
            # Flow between frames t and t + k on 64^2 grey faces, stored at 42^2 (SOFTNet's
            # input size), cached per video.
            "flow": {"method": "farneback", "work_size": 64, "size": 42, "layout": "face"},
            "softnet": {
                "epochs": 10,
                "batch_size": 12,
                "learning_rate": 5e-4,
                "keep_negatives": 0.5,
                "p": 0.55,
            },
            "trivial_stride": 1.0,
            "cache_dir": "",  # default ~/.cache/mejax/spotting
        }
    )
    return c
