"""HOOF + linear SVM: histograms of oriented optical flow per block.

Chaudhry et al. (CVPR 2009) HOOF: magnitude-weighted histograms of flow orientation (8 bins,
symmetric about the vertical axis, normalised to sum 1) per 5 x 5 block, over the flow between
consecutive frames (OpenCV Farneback via ``mejax.preprocess.flow``; the JAX TV-L1 with
``--config.baseline.descriptor.method=tvl1``) (``mejax/baselines/hoof.py``); one linear SVM per
AU, C selected on the validation subjects over 10^-3 ... 10^3, STAP's 2-fold protocol, per-AU F1.

    python -m mejax.main --config=configs/hoof.py --workdir=runs/hoof                  # synth_me
    python -m mejax.main --config=configs/hoof.py:casme2 --workdir=runs/hoof_casme2

Arguments: `synth` (default; about a minute on 2 CPU cores), `casme2`, `casme`,
`samm` (10 TIM frames at 224^2). Flow from the onset frame to every frame instead:
``--config.baseline.descriptor.pairs=onset``.

The setting is the hand-crafted baselines' one, stated once in ``configs/lbp_top.py``
(``hand_crafted``), with this descriptor.
"""

from pathlib import Path

from mejax import config_args

# The baselines' setting (configs/lbp_top.py), loaded by its path as mejax.main loads a config.
LBP_TOP = config_args.load_module(Path(__file__).with_name("lbp_top.py"))

DESCRIPTOR = {
    "name": "hoof",
    "num_bins": 8,
    "method": "farneback",
    "pairs": "consecutive",
    "norm": "l1",
}

ARGS = LBP_TOP.ARGS  # the argument's token groups (mejax.paper_settings)


def get_config(arg=None):
    return LBP_TOP.hand_crafted(arg, name="HOOF", descriptor=DESCRIPTOR, stap_row=False)
