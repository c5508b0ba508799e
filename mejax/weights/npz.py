"""Variables as flat ``.npz`` files: keys are the Flax paths joined with ``/``.

``{"params": {"I3D": {"Conv3d_1a_7x7": {"Conv_0": {"kernel": ...}}}}}`` is stored under the key
``params/I3D/Conv3d_1a_7x7/Conv_0/kernel``. The format needs nothing but NumPy to read, holds no
code (``np.load(..., allow_pickle=False)``), and is the one the Kinetics-400 I3D weights are
cached in.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

SEP = "/"
_BRANCH = re.compile(r"Branch_\d+")


def flatten(tree: Mapping, prefix: str = "") -> dict[str, np.ndarray]:
    """Nested dict of arrays -> {"a/b/c": array}."""
    flat = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, name + SEP))
        else:
            flat[name] = value
    return flat


def paths(tree: Mapping, prefix: tuple = ()) -> dict[str, tuple]:
    """{"a/b/c": ("a", "b", "c")} of every leaf of ``tree``: the path each flat key stands for."""
    out = {}
    for key, value in tree.items():
        path = (*prefix, key)
        if isinstance(value, Mapping):
            out.update(paths(value, path))
        else:
            out[SEP.join(path)] = path
    return out


def split_key(key: str) -> tuple[str, ...]:
    """The path of a flat key with no template at hand.

    Keys are split at ``/``, except that I3D's unit names keep DeepMind's ``Branch_k/<Unit>``
    form as *one* module name (``Mixed_3b`` has a submodule named ``Branch_0/Conv3d_0a_1x1``).
    """
    parts = key.split(SEP)
    merged: list[str] = []
    for part in parts:
        if merged and _BRANCH.fullmatch(merged[-1]):
            merged[-1] = f"{merged[-1]}{SEP}{part}"
        else:
            merged.append(part)
    return tuple(merged)


def unflatten(flat: dict[str, np.ndarray], template: Mapping | None = None) -> dict:
    """{"a/b/c": array} -> nested dict (the inverse of :func:`flatten`).

    Args:
      flat: flat arrays.
      template: a nested dict with the same leaves (e.g. a model's variables, or their shapes);
        its paths decide how keys split. Without it keys split by :func:`split_key`.

    Raises:
      KeyError: a key that is not a leaf of ``template``.
    """
    known = paths(template) if template is not None else {}
    tree: dict = {}
    for key, value in flat.items():
        if template is not None and key not in known:
            raise KeyError(f"{key} is not a variable of the template")
        *parents, leaf = known[key] if template is not None else split_key(key)
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return tree


def save(path: str | Path, tree_or_flat: dict) -> Path:
    """Writes variables (nested or flat) to ``path`` atomically (a temporary file, renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = flatten(tree_or_flat)
    flat = {key: np.asarray(value) for key, value in flat.items()}
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **flat)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# A zip archive (``.npz``, PyTorch's ``.pth``) may declare far more than it holds (a "zip bomb":
# 28 MB inflating to 6 GiB). Arrays of weights compress little: an archive whose members declare
# more than this many times its own size, and more than MAX_UNCHECKED bytes, is refused before
# anything is inflated.
MAX_EXPANSION = 20
MAX_UNCHECKED = 64 * 2**20


def check_zip_sizes(path: str | Path, limit: int | None = None) -> None:
    """Refuses a zip archive whose members declare more bytes than it can plausibly hold (see
    :data:`MAX_EXPANSION`) or than ``limit``, before anything is read.

    Raises:
      ValueError: naming the file, the declared and the actual sizes.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        why = error or type(error).__name__
        raise ValueError(f"{path}: not a readable zip archive ({why})") from None
    actual = path.stat().st_size
    allowed = max(MAX_UNCHECKED, MAX_EXPANSION * actual)
    if limit is not None:
        allowed = min(allowed, limit)
    if declared > allowed:
        raise ValueError(
            f"{path}: its members declare {declared / 2**20:.0f} MiB for a file of "
            f"{actual / 2**20:.1f} MiB (at most {allowed / 2**20:.0f} MiB are read): a damaged "
            "or hostile archive, refused before inflating it"
        )


def load_flat(path: str | Path) -> dict[str, np.ndarray]:
    """{key: array} of an ``.npz`` file, refusing pickled objects and archives that declare
    more than they can hold (:func:`check_zip_sizes`).

    Raises:
      ValueError: naming the file: not an ``.npz`` of arrays, or an implausible archive.
    """
    path = Path(path)
    check_zip_sizes(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        why = error or type(error).__name__
        raise ValueError(f"{path}: not an .npz file of arrays ({why})") from None
