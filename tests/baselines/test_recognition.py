"""The baselines' recognition results come from mejax.recognition_report, with the SVM extras."""

import json

import numpy as np

from mejax import experiment, input_pipeline, protocols, recognition_report, tasks
from mejax.baselines import features
from tests import tiny_configs

DESCRIPTOR = {"name": "lbp_sip", "radii": (2, 2, 2), "layout": "split", "norm": "l1"}


def test_recognition_results_through_the_report(tiny_data_dir, tmp_path):
    config = tiny_configs.tiny("lbp_sip", "mer").unlock()
    config.baseline.descriptor = DESCRIPTOR
    config.dataset.data_dir = str(tiny_data_dir)
    config.baseline.cache_dir = str(tmp_path / "cache")
    config = config.lock()
    workdir = tmp_path / "run"
    results = experiment.run(config, workdir)

    # Each round's majority class: the most frequent class of its own training clips.
    builder = input_pipeline.database_builder(config.dataset)
    data, _ = features.extract(config, builder)
    task = tasks.build(config.task, data)
    classes, labels = task.classes, task.targets(data)
    rounds = protocols.build(config.protocol, data)
    records = []
    for round_, row in zip(rounds, results["per_fold"], strict=True):
        train = labels[round_.indices("train", data)]
        counts = np.bincount(train[train >= 0], minlength=len(classes))
        assert row["name"] == round_.name
        assert row["majority_class"] == classes[int(np.argmax(counts))]
        with np.load(workdir / round_.name / "predictions.npz") as saved:
            record = dict(saved)
        assert classes[int(record["majority"][0])] == row["majority_class"]
        records.append(record)

    # The report's figures, plus the SVM's per-round extras and the descriptor.
    expected = recognition_report.summarize(records, [r.name for r in rounds], classes)
    assert {k: results[k] for k in expected} == expected
    assert [r["name"] for r in results["rounds"]] == [r.name for r in rounds]
    assert all("selected_c" in r and "validation_uf1" in r for r in results["rounds"])
    assert results["feature_dim"] == data.inputs.shape[1]
    assert json.loads((workdir / "results.json").read_text()) == results
    text = (workdir / "results.md").read_text()
    assert recognition_report.markdown(results, "x", "y").split("\n", 4)[4] in text
    assert (workdir / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # A second call reads every round's record instead of fitting again.
    assert experiment.run(config, workdir) == results
