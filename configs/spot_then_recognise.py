"""Spot-then-recognise (MEGC 2024-2025 STR): spot micro-expressions in long videos, then give
each spotted interval an emotion; scored by STRS = spotting F1 x the recognition F1 on the
correctly spotted intervals (:func:`mejax.spotting.evaluation.evaluate_strs`).

    python -m mejax.main --config=configs/spot_then_recognise.py --workdir=runs/str
    python -m mejax.main --config=configs/spot_then_recognise.py:i3d --workdir=runs/str_i3d

The spotting is ``configs/spotting.py``'s (same tokens: ``database``, ``method``), micro-
expressions only, as MEGC's STR task and MEAN (Liong et al.) spot them. The recogniser
(``recogniser`` token; :mod:`mejax.spotting.recognisers`) is trained per leave-one-subject-out
round on the training subjects' annotated expressions; its classes are their emotions, and a
LOSO round has no validation subject, so its settings are fixed:

* ``lbp_top`` (default): LBP-TOP (Zhao & Pietikainen 2007; R = 3 in X, Y and T, 8 neighbours
  per plane, uniform patterns, 4 x 4 x 1 blocks) of the interval's frames resampled to 10 at
  64^2, and a standardised linear SVM with C = 1;
* ``i3d``: STAP's I3D (``i3d_classifier``, DeepMind's logits head; from scratch, no Kinetics
  weights) on the interval's frames resampled to 8 at 64^2 in [-1, 1], Adam 1e-3, batch 8, 20
  epochs, class-weighted cross-entropy, BatchNorm averages with momentum 0.9 (the models'
  0.999 suits thousands of steps; a round's recogniser takes about a hundred, after which
  0.999's running averages would still be mostly their initial values);
* ``sca``: SCA's Res3D-18 with second-order covariance attention (``sca_classifier``), the same
  clips and training.

On ``synth`` the I3D and Res3D run at a quarter of their channels (``width=0.25``), as the
other configs' synthetic settings shrink their models to fit a laptop CPU.

SAMM-LV's sheet gives no emotion: its micro-movements take those of SAMM's coding sheet when it
is in the manual directory (:mod:`mejax.datasets.samm_lv`).
"""

import importlib.util
from pathlib import Path

import ml_collections

from mejax import config_args

# Share the spotting config (its tokens and settings) whether loaded from a checkout or a wheel.
_spec = importlib.util.spec_from_file_location("spotting", Path(__file__).with_name("spotting.py"))
spotting = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(spotting)

ARGS = {
    **spotting.ARGS,
    "recogniser": config_args.choice(("lbp_top", "i3d", "sca"), default="lbp_top"),
}
MODELS = {
    "i3d": {"name": "i3d_classifier", "head": "i3d", "bn_momentum": 0.9},
    "sca": {"name": "sca_classifier", "bn_momentum": 0.9},
}


def get_config(arg=None):
    args = config_args.parse(arg, ARGS)
    c = spotting.spotting(f"{args['database']},{args['method']}")
    c.task.types = ("micro",)
    if args["recogniser"] == "lbp_top":
        c.name = f"{c.name} + LBP-TOP"
        c.recogniser = ml_collections.ConfigDict(
            {
                "kind": "descriptor",
                "descriptor": {
                    "name": "lbp_top",
                    "radii": (3, 3, 3),
                    "neighbours": (8, 8, 8),
                    "mapping": "u2",
                    "border": "volume",
                    "norm": "l1",
                },
                "blocks": (4, 4, 1),
                "num_frames": 10,
                "image_size": 64,
                "c": 1.0,
            }
        )
        return c.lock()
    model = dict(MODELS[args["recogniser"]])
    if args["database"].startswith("synth"):
        model["width"] = 0.25
    c.name = f"{c.name} + {args['recogniser'].upper()}"
    c.recogniser = ml_collections.ConfigDict(
        {
            "kind": "model",
            "model": model,
            "num_frames": 8,
            "image_size": 64,
            "train": {"learning_rate": 1e-3, "batch_size": 8, "epochs": 20},
        }
    )
    return c.lock()
