"""LPQ-TOP + linear SVM: the second hand-crafted baseline of STAP and SCA.

Päivärinta, Rahtu, Heikkilä (SCIA 2011) LPQ-TOP: Ojansivu & Heikkilä's local phase
quantisation (7 x 7 windows on each plane, decorrelated as in the published lpq.m, 256-bin
histograms) on the XY, XT and YT planes, 5 x 5 blocks (``mejax/baselines/lpq_top.py``); one
linear SVM per AU. The "LPQ-TOP" row of STAP's Tables III-V under the 2-fold protocol with
C = 1000; SCA's row (its 4-fold protocol, C selected on the validation fold) with the argument
``casme2,sca`` (etc.).

    python -m mejax.main --config=configs/lpq_top.py --workdir=runs/lpq_top            # synth_me
    python -m mejax.main --config=configs/lpq_top.py:casme2 --workdir=runs/lpq_top_casme2

Arguments: `synth` (default; about a minute on 2 CPU cores), `casme2`, `casme`,
`samm` (paper setting, 10 TIM frames at 224^2).

The setting is the hand-crafted baselines' one, stated once in ``configs/lbp_top.py``
(``hand_crafted``), with this descriptor.
"""

from pathlib import Path

from mejax import config_args

# The baselines' setting (configs/lbp_top.py), loaded by its path as mejax.main loads a config.
LBP_TOP = config_args.load_module(Path(__file__).with_name("lbp_top.py"))

DESCRIPTOR = {
    "name": "lpq_top",
    "windows": (7, 7, 7),  # (W_X, W_Y, W_T)
    "decorrelate": True,
    "rho": 0.9,
    "border": "volume",
    "norm": "l1",
}

ARGS = LBP_TOP.ARGS  # the argument's token groups (mejax.paper_settings)


def get_config(arg=None):
    return LBP_TOP.hand_crafted(arg, name="LPQ-TOP", descriptor=DESCRIPTOR, stap_row=True)
