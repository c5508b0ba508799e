"""STAPF: STAP with focal loss (the proposed method).

Li, Huang, Zhao, "Micro-expression Action Unit Detection with Spatio-temporal Adaptive Pooling"
(arXiv:1907.05023): the "STAPF" row of Tables III (CASME II), IV (CASME) and V (SAMM), under the
subject-independent 2-fold protocol, per-AU F1.

    python -m mejax.main --config=configs/stapf.py --workdir=runs/stapf            # synth_me
    python -m mejax.main --config=configs/stapf.py:casme2 --workdir=runs/stapf_casme2

Arguments: `synth` (default; the embedded synthetic database, a 1/4-width I3D on 80^2 clips,
one round; a few minutes on 2 CPU cores), `synth_tiny` (tests), `casme2`, `casme`, `samm`
(the paper setting: full I3D, 10 frames at 224^2, SGD 0.01 / momentum 0.9, dropout 0.5, batch 6,
all four rounds; hours on one GPU).
"""

from mejax import presets


def get_config(arg=None):
    return presets.stap_family("STAPF", head="stap", loss="focal", arg=arg)
