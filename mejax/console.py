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


class MissingExtra(ModuleNotFoundError):
    """Training and the databases need the ``data`` extra, which a models-only install lacks."""


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow with its C++ INFO lines off (``TF_CPP_MIN_LOG_LEVEL`` 2 unless set).

    Raises:
      MissingExtra: TensorFlow is not installed (a models-only install), saying what to install.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with native_stderr_to_null():
            import tensorflow  # noqa: F401
    except ModuleNotFoundError as error:
        if error.name != "tensorflow":
            raise
        raise MissingExtra(
            "training, the databases and mejax.predict need TensorFlow and the other packages of "
            "the extra 'data', which this install lacks (a models-only install): pip install "
            "'mejax[data]' (or, in a checkout, pip install -e \".[data]\")",
            name="tensorflow",
        ) from None
