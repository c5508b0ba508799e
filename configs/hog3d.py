"""HOG3D + linear SVM: SCA's HOG3D baseline.

Kläser, Marszałek, Schmid (BMVC 2008) HOG3D: mean 3-D gradients of 3 x 3 x 3 sub-blocks per
cell quantised on the icosahedron (20 bins, full orientation), the cells being the 5 x 5
blocks, the descriptor L2-normalised (``mejax/baselines/hog3d.py``); one linear SVM per AU,
C selected on the validation subjects over 10^-3 ... 10^3. SCA's "HOG3D" row under STAP's 2-fold
protocol by default, SCA's 4-fold with the argument ``casme2,sca`` (etc.); per-AU F1.

    python -m mejax.main --config=configs/hog3d.py --workdir=runs/hog3d                # synth_me
    python -m mejax.main --config=configs/hog3d.py:casme2 --workdir=runs/hog3d_casme2

Arguments: `synth` (default; under a minute on 2 CPU cores), `casme2`, `casme`,
`samm` (paper setting, 10 TIM frames at 224^2). The dodecahedron (12 bins):
``--config.baseline.descriptor.polyhedron=dodecahedron``.

The setting is the hand-crafted baselines' one, stated once in ``configs/lbp_top.py``
(``hand_crafted``), with this descriptor.
"""

from pathlib import Path

from mejax import config_args

# The baselines' setting (configs/lbp_top.py), loaded by its path as mejax.main loads a config.
LBP_TOP = config_args.load_module(Path(__file__).with_name("lbp_top.py"))

DESCRIPTOR = {
    "name": "hog3d",
    "sub_blocks": (3, 3, 3),  # (S_X, S_Y, S_T)
    "polyhedron": "icosahedron",
    "full_orientation": True,
    "norm": "descriptor",
}

ARGS = LBP_TOP.ARGS  # the argument's token groups (mejax.paper_settings)


def get_config(arg=None):
    return LBP_TOP.hand_crafted(arg, name="HOG3D", descriptor=DESCRIPTOR, stap_row=False)
