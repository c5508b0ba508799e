"""LBP-SIP + linear SVM: SCA's LBP-SIP baseline.

Wang, See, Phan, Oh (ACCV 2014) LBP with six intersection points, radii (3, 3, 3) as LBP-TOP,
the 4 spatial and 2 temporal points coded separately (16 + 4 bins per block), 5 x 5 blocks
(``mejax/baselines/lbp_top.py``); one linear SVM per AU with C selected on the validation
subjects over 10^-3 ... 10^3. SCA's "LBP-SIP" row (CASME II, SAMM) under STAP's 2-fold protocol
by default, SCA's 4-fold with the argument ``casme2,sca`` (etc.); per-AU F1.

    python -m mejax.main --config=configs/lbp_sip.py --workdir=runs/lbp_sip            # synth_me
    python -m mejax.main --config=configs/lbp_sip.py:casme2 --workdir=runs/lbp_sip_casme2

Arguments: `synth` (default; under a minute on 2 CPU cores), `synth_tiny` (tests), `casme2`,
`casme`, `samm` (paper setting, 10 TIM frames at 224^2).
"""

from mejax.baselines import presets

DESCRIPTOR = {"name": "lbp_sip", "radii": (3, 3, 3), "layout": "split", "norm": "l1"}

ARGS = presets.ARGS  # the argument's token groups (mejax.paper_settings)


def get_config(arg=None):
    return presets.baseline("LBP-SIP", DESCRIPTOR, arg)
