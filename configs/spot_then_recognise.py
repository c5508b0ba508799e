"""Spot-then-recognise (MEGC 2024-2025 STR): spot micro-expressions in long videos, then give
each spotted interval an emotion; scored by STRS = spotting F1 x the recognition F1 on the
correctly spotted intervals (:func:`mejax.spotting.evaluation.evaluate_strs`).

    python -m mejax.main --config=configs/spot_then_recognise.py --workdir=runs/str

The spotting is ``configs/spotting.py``'s (same tokens: ``database``, ``method``), micro-
expressions only, as MEGC's STR task and MEAN (Liong et al.) spot them. The recogniser is trained
per leave-one-subject-out round on the training subjects' annotated expressions: LBP-TOP (Zhao &
Pietikäinen 2007; R = 3 in X, Y and T, 8 neighbours per plane, uniform patterns, 4 x 4 x 1
blocks) of the interval's frames resampled to 10 at 64^2, and a standardised linear SVM with a
fixed C = 1 (a LOSO round has no validation subject to select C on). The classes are the
emotions of the training expressions.
"""

import importlib.util
from pathlib import Path

import ml_collections

# Share the spotting config (its tokens and settings) whether loaded from a checkout or a wheel.
_spec = importlib.util.spec_from_file_location("spotting", Path(__file__).with_name("spotting.py"))
spotting = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(spotting)

ARGS = spotting.ARGS


def get_config(arg=None):
    c = spotting.spotting(arg)
    c.name = f"{c.name} + LBP-TOP"
    c.task.types = ("micro",)
    c.recogniser = ml_collections.ConfigDict(
        {
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
