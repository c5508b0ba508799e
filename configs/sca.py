"""SCA: Res3D with second-order spatial and channel attention (and its ablation rows).

Li, Huang, Zhao, "Micro-expression action unit detection with spatial and channel attention"
(Neurocomputing, 2021): every deep row of Tables 1-6 -- Res3D-18/50/101 without attention,
with spatial (SA) or channel (CA) attention, and with both (SCA) fused by learned weights or by
max / average / concatenation -- under the subject-independent 4-fold protocol, per-AU F1.

    python -m mejax.main --config=configs/sca.py --workdir=runs/sca              # synth_me
    python -m mejax.main --config=configs/sca.py:synth,none --workdir=runs/res3d  # no attention
    python -m mejax.main --config=configs/sca.py:casme2,r50,sca_max --workdir=runs/sca_r50

The argument is comma-separated tokens, each optional: a database (`synth` default: the
embedded synthetic database, a 1/4-width Res3D-18, one round, minutes on 2 CPU cores;
`synth_tiny` for tests; `casme2`, `casme`, `samm` for the paper setting), a depth (`r18`
default, `r50`, `r101`) and an attention (`sca` default, `none`, `sa`, `ca`, `sca_max`,
`sca_avg`, `sca_concat`).
"""

from mejax import presets


def get_config(arg=None):
    return presets.sca(arg)
