"""I3DF: the I3D baseline with focal loss.

Li, Huang, Zhao, "Micro-expression Action Unit Detection with Spatio-temporal Adaptive Pooling"
(arXiv:1907.05023): the "I3DF" row of Tables III (CASME II), IV (CASME) and V (SAMM), under the
subject-independent 2-fold protocol, per-AU F1.

    python -m mejax.main --config=configs/i3df.py --workdir=runs/i3df            # synth_me
    python -m mejax.main --config=configs/i3df.py:casme2 --workdir=runs/i3df_casme2

Arguments: `synth` (default; the embedded synthetic database, a 1/4-width I3D on 80^2 clips,
one round; a few minutes on 2 CPU cores), `casme2`, `casme`, `samm` (the paper setting: full
I3D, 10 frames at 224^2, SGD 0.01 / momentum 0.9, dropout 0.5, batch 6, all four rounds; hours
on one GPU), or a cross-database order `cross_<A>_<B>_<C>` (Sec. IV-E, Tables VI and VII).

The paper settings evaluate the AUs and clips of their table (mejax/paper_sets.py): CASME II
Table III (AUs 1, 2, 4, 6, 7, 9, 10, 12, 14, 15, 17; 243 clips in the paper, 250 with the
2014 coding sheet), CASME Table IV (AUs 1, 2, 4, 9, 14, 15, 17, 18; the 171 clips of the
emotions disgust, repression, surprise, tense), SAMM Table V (AUs 2, 4, 5, 7, 12, 14, 24; all
159 clips). They start from the Kinetics-400 I3D (DeepMind's ``rgb_scratch``; the paper's
ImageNet-pretrained I3D is not obtainable here) and do not start without it: install
``mejax[pretrained]``, or pass ``--config.init_from=none`` to train from scratch knowingly.
The paper states no augmentation; the paper settings flip nothing (``--config.input.flip=True``
adds random horizontal flips).

The four deep rows of Tables III-V share every setting but the head and the loss (Sec. IV-B):
this row's config is the family's setting, stated once in ``configs/stapf.py``
(``stap_family``), with the average-pool head and focal loss.
"""

from pathlib import Path

from mejax import config_args

# The STAP family's setting (configs/stapf.py), loaded by its path as mejax.main loads a config.
STAPF = config_args.load_module(Path(__file__).with_name("stapf.py"))
ARGS = STAPF.ARGS  # the argument's token groups (mejax.paper_settings)


def get_config(arg=None):
    return STAPF.stap_family(arg, name="I3DF", head="i3d", loss="focal")
