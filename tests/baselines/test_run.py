"""End to end: a baseline config through mejax.main; the feature cache across runs."""

import functools
import json
from pathlib import Path

import numpy as np
import pytest

from mejax import experiment, input_pipeline, metrics
from mejax.baselines import descriptors, features
from tests import tiny_configs

REPO = Path(__file__).resolve().parents[2]
DESCRIPTOR = {"name": "lbp_sip", "radii": (2, 2, 2), "layout": "split", "norm": "l1"}


def tiny_config(data_dir, cache_dir, descriptor=DESCRIPTOR):
    config = tiny_configs.tiny("lbp_sip").unlock()
    config.baseline.descriptor = descriptor
    config.dataset.data_dir = str(data_dir)
    config.baseline.cache_dir = str(cache_dir)
    return config.lock()


def test_config_through_mejax_main(tiny_data_dir, tmp_path, capsys, monkeypatch):
    from absl import flags

    from mejax import main

    workdir = tmp_path / "run"
    argv = [
        "main",
        f"--config={REPO / 'tests' / 'tiny_configs.py'}:lbp_top",
        f"--workdir={workdir}",
        f"--config.dataset.data_dir={tiny_data_dir}",
        f"--config.baseline.cache_dir={tmp_path / 'cache'}",
    ]
    monkeypatch.setattr("sys.argv", argv)  # config_flags reads the overrides from sys.argv
    flags.FLAGS(argv)
    try:
        main.main(["main"])
    finally:
        flags.FLAGS.unparse_flags()
    results = json.loads((workdir / "results.json").read_text())
    assert results["experiment"] == "LBP-TOP" and results["database"] == "synth_me/tiny"
    assert set(results["f1"]) == {"AU4", "AU7"} and len(results["rounds"]) == 2
    assert results["feature_dim"] == 2 * 2 * 3 * 59
    for round_ in results["rounds"]:
        for au, c in round_["selected_c"].items():
            assert c is None or c in (1e-2, 1.0, 1e2)
            assert round_["selected_step"][au] in (-1, 0, 1, 2)
        assert not set(round_["test"]) & set(round_["train"] + round_["validation"])
    # Every test clip of the two rounds appears once, with its subject's labels.
    assert results["num_test_clips"] == sum(4 * len(r["test"]) for r in results["rounds"])
    table = (workdir / "results.md").read_text()
    assert "| AU4 |" in table and "all-positive" in table
    printed = capsys.readouterr().out
    assert f"average F1 {results['average_f1']:.3f}" in printed
    assert (workdir / "round0" / "predictions.npz").exists()


def test_features_are_cached_and_keyed_by_settings(tiny_data_dir, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    config = tiny_config(tiny_data_dir, cache)
    builder = input_pipeline.database_builder(config.dataset)
    first = experiment.run(config, tmp_path / "a")
    extracted, stored = features.extract(config, builder)
    assert stored.from_cache and len(extracted) == 24
    assert extracted.inputs.shape == (24, 4 * 20)
    assert first["features_cache"] == str(stored.path)

    # A second experiment on the same features never calls the descriptor.
    original = descriptors.DESCRIPTORS["lbp_sip"]

    @functools.wraps(original)
    def must_not_run(*args, **kwargs):
        raise AssertionError("features recomputed")

    monkeypatch.setitem(descriptors.DESCRIPTORS, "lbp_sip", must_not_run)
    config_b = config.unlock()
    config_b.baseline.classifier.c_selection = "fixed"
    second = experiment.run(config_b.lock(), tmp_path / "b")
    assert second["features_cache"] == first["features_cache"]

    # Other descriptor settings: another file, computed afresh.
    monkeypatch.setitem(descriptors.DESCRIPTORS, "lbp_sip", original)
    other = tiny_config(tiny_data_dir, cache, {**DESCRIPTOR, "layout": "joint"})
    joint, joint_stored = features.extract(other, builder)
    assert not joint_stored.from_cache and joint_stored.path != stored.path
    assert joint.inputs.shape == (24, 4 * 64)
    assert len(list(cache.rglob("*.npz"))) == 2

    # A file whose stored settings differ is not trusted.
    joint_stored.path.write_bytes(stored.path.read_bytes())
    recomputed, recomputed_stored = features.extract(other, builder)
    assert not recomputed_stored.from_cache
    np.testing.assert_array_equal(recomputed.inputs, joint.inputs)
    # The metadata travel with the descriptors, read back from the cache as computed.
    assert recomputed.names == extracted.names and recomputed.phases.shape == (24, 3)
    np.testing.assert_array_equal(recomputed.aus, extracted.aus)


def test_bad_settings_fail_before_extraction(tiny_data_dir, tmp_path):
    config = tiny_config(tiny_data_dir, tmp_path / "cache", {**DESCRIPTOR, "radius": 3})
    with pytest.raises(ValueError, match="takes no \\['radius'\\]"):
        experiment.run(config, tmp_path / "run")
    assert not (tmp_path / "cache").exists()


def test_recognition_pools_the_loso_rounds(tiny_data_dir, tmp_path):
    config = tiny_configs.tiny("lbp_sip", "mer").unlock()
    config.baseline.descriptor = DESCRIPTOR
    config.dataset.data_dir = str(tiny_data_dir)
    config.baseline.cache_dir = str(tmp_path / "cache")
    results = experiment.run(config.lock(), tmp_path / "run")
    assert results["task"] == "mer" and results["protocol"] == "loso"
    assert len(results["rounds"]) == 6  # one per subject of synth_me/tiny
    assert sorted(s for r in results["rounds"] for s in r["test"]) == [
        f"sub{i:02d}" for i in range(1, 7)
    ]
    labels, predictions = [], []
    for r in results["rounds"]:
        record = np.load(tmp_path / "run" / r["name"] / "predictions.npz")
        labels += record["labels"].tolist()
        predictions += record["predictions"].tolist()
        assert record["scores"].shape == (len(record["labels"]), len(results["classes"]))
    expected = metrics.recognition_metrics(labels, predictions, range(len(results["classes"])))
    assert results["uf1"] == pytest.approx(expected["uf1"])
    assert results["uar"] == pytest.approx(expected["uar"])
    assert results["num_test_clips"] == 24 and "synth_me" in results["per_database"]
    assert "| all | 24 |" in (tmp_path / "run" / "results.md").read_text()
