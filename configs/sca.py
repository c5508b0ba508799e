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

The paper settings evaluate the AUs and clips of their table (mejax/paper_sets.py): CASME II
Table 1 (AUs 1, 2, 4, 7, 12, 14, 15, 17; 243 clips in the paper, 250 with the 2014 coding
sheet), CASME Table 2 (AUs 1, 4, 9, 14; the 124 clips of the emotions disgust, repression,
surprise, tense), SAMM Table 3 (AUs 2, 4, 7, 12; the 101 clips with at least one of them, 103
with the public sheet); the AU set sizes the network's output layer. The channel attention is
GSoP's (the paper's "[35]"): C -> 128 channels, 128 row groups of 4 outputs, back to C
(``--config.model.channel_attention=row_groups`` for the earlier reading). Batch 64 (Sec. 4.4)
for 60 epochs, the rate / 10 every 30; the paper's 10,000 iterations would be some 5,000 epochs
at that batch, so they cannot both hold: the epochs are kept. Pre-training: the paper starts
from a Kinetics (then UCF-101) Res3D, Hara et al.'s, which mejax cannot download; a paper
setting does not start until you pass ``--config.init_from=/path/to/r3d18_K_200ep.pth`` (your
copy) or ``--config.init_from=none`` (from scratch, knowingly; not the paper's setting). The
only augmentation the paper states is the random 112^2 crop; ``--config.input.flip=True`` adds
random horizontal flips (the synthetic presets flip).
"""

from mejax import presets

ARGS = presets.SCA_ARGS  # the argument's token groups (mejax.paper_settings)


def get_config(arg=None):
    return presets.sca(arg)
