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
about a minute on 2 CPU cores once synth_me is built), `synth_tiny` (tests), `casme2`, `casme`,
`samm` (the paper setting: 10 TIM frames at 224^2; minutes on a CPU). Features are cached
(``--config.baseline.cache_dir``), so a second run or another classifier setting skips
extraction.
"""

from mejax.baselines import presets

DESCRIPTOR = {
    "name": "lbp_top",
    "radii": (3, 3, 3),  # (R_X, R_Y, R_T)
    "neighbours": (8, 8, 8),  # (P_XY, P_XT, P_YT)
    "mapping": "u2",
    "border": "volume",
    "norm": "l1",
}

ARGS = presets.ARGS  # the argument's token groups (mejax.paper_settings)


def get_config(arg=None):
    return presets.baseline("LBP-TOP", DESCRIPTOR, arg)
