"""3DHOG + linear SVM: Polikovsky et al.'s 3-D gradient orientation histograms.

Polikovsky, Kameda, Ohta (ICDP 2009): per region (here the 5 x 5 blocks), magnitude-weighted
histograms of the gradient's XY orientation (8 bins) and temporal elevation (8 bins)
(``mejax/baselines/hog3d.py``); one linear SVM per AU, C selected on the validation subjects over
10^-3 ... 10^3, STAP's 2-fold protocol, per-AU F1. (Polikovsky et al. classify 13 facial
movements of their own high-speed database; the AU-detection setting is that of the STAP/SCA
baselines.)

    python -m mejax.main --config=configs/hog3d_polikovsky.py --workdir=runs/3dhog     # synth_me
    python -m mejax.main --config=configs/hog3d_polikovsky.py:casme2 --workdir=runs/3dhog_casme2

Arguments: `synth` (default; under a minute on 2 CPU cores), `casme2`, `casme`,
`samm` (10 TIM frames at 224^2). The joint theta x phi histogram:
``--config.baseline.descriptor.layout=joint``.

The setting is the hand-crafted baselines' one, stated once in ``configs/lbp_top.py``
(``hand_crafted``), with this descriptor.
"""

from pathlib import Path

from mejax import config_args

# The baselines' setting (configs/lbp_top.py), loaded by its path as mejax.main loads a config.
LBP_TOP = config_args.load_module(Path(__file__).with_name("lbp_top.py"))

DESCRIPTOR = {
    "name": "hog3d_polikovsky",
    "xy_bins": 8,
    "t_bins": 8,
    "layout": "marginal",
    "norm": "l1",
}

ARGS = LBP_TOP.ARGS  # the argument's token groups (mejax.paper_settings)


def get_config(arg=None):
    return LBP_TOP.hand_crafted(arg, name="3DHOG", descriptor=DESCRIPTOR, stap_row=False)
