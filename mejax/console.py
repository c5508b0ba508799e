"""Console helpers shared by the command-line entries (``mejax.main``, ``mejax.predict``)."""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def native_stderr_to_null():
    """Sends what native code writes to file descriptor 2 to the null device meanwhile.

    TensorFlow's libraries print INFO lines (oneDNN) while they load, before its C++ logging
    reads ``TF_CPP_MIN_LOG_LEVEL``; importing TensorFlow inside this block keeps them off a quiet
    console. A Python exception raised inside is reported after stderr is back.
    """
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow with its C++ INFO lines off (``TF_CPP_MIN_LOG_LEVEL`` 2 unless set)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with native_stderr_to_null():
        import tensorflow  # noqa: F401
