"""What a run ran on: Python, the versions of the libraries that make its numbers, and JAX's
platform and devices; ``results.json`` records it under ``"environment"``
(:func:`mejax.reporting.write_results`).

A library that is not installed is recorded as None. Versions are read from the installed
distributions' metadata (no library is imported for it); a library that ships under several
distribution names (``tensorflow`` / ``tensorflow-cpu``, the OpenCV builds) records the one found
beside its version.
"""

from __future__ import annotations

import importlib.metadata
import platform as _platform

# Recorded name -> the distributions that provide it, the first installed one taken.
LIBRARIES = {
    "mejax": ("mejax",),
    "jax": ("jax",),
    "jaxlib": ("jaxlib",),
    "flax": ("flax",),
    "optax": ("optax",),
    "orbax-checkpoint": ("orbax-checkpoint",),
    "numpy": ("numpy",),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tf-nightly"),
    "tensorflow-datasets": ("tensorflow-datasets", "tfds-nightly"),
    "scikit-learn": ("scikit-learn",),
    "opencv": (
        "opencv-contrib-python-headless",
        "opencv-contrib-python",
        "opencv-python-headless",
        "opencv-python",
    ),
}


def version(distributions: tuple[str, ...]) -> str | None:
    """The version of the first installed of ``distributions`` (``"2.21.0 (tensorflow-cpu)"``
    where that is not the first named), or None."""
    for name in distributions:
        try:
            found = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        return found if name == distributions[0] else f"{found} ({name})"
    return None


def devices() -> dict:
    """JAX's platform (``jax.default_backend()``: cpu, gpu, tpu), the kind of its first device
    and the device counts."""
    import jax

    local = jax.local_devices()
    return {
        "platform": jax.default_backend(),
        "device_kind": local[0].device_kind,
        "device_count": jax.device_count(),
        "local_device_count": len(local),
        "process_count": jax.process_count(),
    }


def describe() -> dict:
    """``{"python": ..., "system": ..., "versions": {library: version}, "devices": ...}``."""
    return {
        "python": _platform.python_version(),
        "system": f"{_platform.system()} {_platform.machine()}",
        "versions": {name: version(names) for name, names in LIBRARIES.items()},
        "devices": devices(),
    }
