"""LBP-SIP + linear SVM: SCA's LBP-SIP baseline.

Wang, See, Phan, Oh (ACCV 2014) LBP with six intersection points, radii (3, 3, 3) as LBP-TOP,
the 4 spatial and 2 temporal points coded separately (16 + 4 bins per block), 5 x 5 blocks
(``mejax/baselines/lbp_top.py``); one linear SVM per AU with C selected on the validation
subjects over 10^-3 ... 10^3. SCA's "LBP-SIP" row (CASME II, SAMM) under STAP's 2-fold protocol
by default, SCA's 4-fold with the argument ``casme2,sca`` (etc.); per-AU F1.

    python -m mejax.main --config=configs/lbp_sip.py --workdir=runs/lbp_sip            # synth_me
    python -m mejax.main --config=configs/lbp_sip.py:casme2 --workdir=runs/lbp_sip_casme2

Arguments: `synth` (default; under a minute on 2 CPU cores), `casme2`, `casme`,
`samm` (paper setting, 10 TIM frames at 224^2).

The setting is the hand-crafted baselines' one, stated once in ``configs/lbp_top.py``
(``hand_crafted``), with this descriptor.
"""

from pathlib import Path

from mejax import config_args

# The baselines' setting (configs/lbp_top.py), loaded by its path as mejax.main loads a config.
LBP_TOP = config_args.load_module(Path(__file__).with_name("lbp_top.py"))

DESCRIPTOR = {"name": "lbp_sip", "radii": (3, 3, 3), "layout": "split", "norm": "l1"}

ARGS = LBP_TOP.ARGS  # the argument's token groups (mejax.paper_settings)


def get_config(arg=None):
    return LBP_TOP.hand_crafted(arg, name="LBP-SIP", descriptor=DESCRIPTOR, stap_row=False)
