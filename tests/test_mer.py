"""Recognition through the training loop: auxiliary clips in batches, staged transfer, clear
errors. (Killed-and-resumed runs with an auxiliary database: tests/test_train.py.)"""

import importlib.util
import json
from pathlib import Path

import ml_collections
import numpy as np
import pytest

from mejax import input_pipeline, protocols, tasks, train
from mejax.datasets import labels
from mejax.weights import init_from

REPO = Path(__file__).resolve().parents[1]


def config_file(name: str, arg: str):
    """The unlocked config of ``configs/<name>.py:<arg>``."""
    spec = importlib.util.spec_from_file_location(name, REPO / "configs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg).unlock()


def mer_config(data_dir, **overrides):
    config = config_file("mer_resnet", "synth_tiny")
    config.dataset.data_dir = str(data_dir)
    config.aux_dataset.data_dir = str(data_dir)
    config.update_from_flattened_dict(overrides)
    return config.lock()


def test_aux_clips_fill_their_share_of_every_batch_and_resume_exactly():
    inputs = np.arange(12, dtype=np.float32).reshape(12, 1, 1, 1) * np.ones((1, 2, 2, 2))
    aux = (100 + np.arange(30, dtype=np.float32).reshape(30, 1, 1, 1) * np.ones((1, 2, 2, 2)),
           np.full(30, 2, np.int32))  # fmt: skip
    batches = input_pipeline.TrainBatches(
        inputs, np.zeros(12, np.int32), 8, seed=1, flip=False, aux=aux, aux_ratio=0.25
    )
    seen = set()
    for step in range(6):
        batch = batches(step)
        values = batch["inputs"][:, 0, 0, 0]
        is_aux = values >= 100
        assert is_aux.sum() == 2 and (batch["domain"] == ~is_aux).all()  # 1: the run's own
        assert (batch["targets"][is_aux] == 2).all() and (batch["targets"][~is_aux] == 0).all()
        seen |= set(values[is_aux].tolist())
        np.testing.assert_array_equal(batches(step)["inputs"], batch["inputs"])  # pure in step
    assert len(seen) > 2  # the draw changes from step to step
    with pytest.raises(ValueError, match="at least one clip of each database"):
        input_pipeline.TrainBatches(inputs, np.zeros(12), 4, 0, False, aux=aux, aux_ratio=0.9)


def test_class_balanced_resampling_evens_out_the_classes():
    classes = np.r_[np.zeros(90, np.int64), np.ones(10, np.int64)]
    inputs = np.zeros((100, 1, 1, 1), np.uint8)
    batches = input_pipeline.TrainBatches(
        inputs, classes, 10, seed=0, flip=False, balance_classes=classes
    )
    drawn = np.concatenate([batches(step)["targets"] for step in range(50)])
    assert 0.4 < drawn.mean() < 0.6  # 0.1 without resampling


def test_flip_mirrors_flow_and_negates_its_horizontal_component():
    flow = np.zeros((1, 2, 3, 2), np.float32)
    flow[0, :, 0] = (1.0, 5.0)  # left column moves right and down
    mirrored = input_pipeline.flip(flow)
    np.testing.assert_array_equal(mirrored[0, :, 2], [[-1.0, 5.0]] * 2)
    np.testing.assert_array_equal(mirrored[0, :, 0], 0)


def test_aux_clips_train_but_are_never_validated_or_tested(tmp_path, tiny_data_dir):
    config = mer_config(tiny_data_dir, **{"aux_dataset.name": "synth_me/macro_tiny",
                                          "aux_dataset.ratio": 0.5})  # fmt: skip
    results = train.run(config, tmp_path)
    for round_dir in ("loso_sub01", "loso_sub02"):
        with np.load(tmp_path / round_dir / "predictions.npz") as record:
            assert all(name.startswith("sub") for name in record["names"].tolist())
    assert results["num_test_clips"] == 7 and set(results["per_database"]) == {"synth_me"}
    assert "| negative |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "confusion.png").exists()


def test_pretrain_then_init_from_its_workdir(tmp_path, tiny_data_dir):
    source = tmp_path / "pretrain"
    # Two classes: the 16 clips of macro_tiny hold no surprise.
    two = {"task.classes": ("negative", "positive")}
    pretrain = mer_config(
        tiny_data_dir, **two, **{"dataset.name": "synth_me/macro_tiny", "protocol.name": "pretrain"}
    )
    results = train.run(pretrain, source)
    assert results["num_test_clips"] == 0 and [r["name"] for r in results["rounds"]] == ["pretrain"]
    assert len(results["rounds"][0]["validation"]) == 1  # 9:1 of the 12 negative / positive
    assert "No test side" in (source / "results.md").read_text()

    seen = json.loads((source / "pretrain" / "subjects.json").read_text())
    assert all(s.startswith("synth_me_macro:mac") for s in seen["train"] + seen["validation"])
    loaded = init_from.load_source(str(source))
    assert any(key.startswith("params/backbone/conv1") for key in loaded.flat)
    target = mer_config(tiny_data_dir, **two, **{"init_from": str(source), "protocol.rounds": (0,)})
    finetuned = train.run(target, tmp_path / "finetune")
    assert finetuned["num_test_clips"] == 4 and finetuned["classes"] == ["negative", "positive"]
    assert json.loads((tmp_path / "finetune" / "config.json").read_text())["init_from"]


def test_unknown_label_set_and_missing_variant_are_clear(tiny_data_dir):
    with pytest.raises(ValueError, match="task.label_set 'emotions' not in"):
        tasks.build(ml_collections.ConfigDict({"name": "mer", "label_set": "emotions"}))
    dataset = ml_collections.ConfigDict(
        {"name": "synth_me/tiny", "data_dir": str(tiny_data_dir), "manual_dir": ""}
    )
    apex_99 = ml_collections.ConfigDict({"variant": "apex", "image_size": 99})
    with pytest.raises(ValueError, match="no cached variant 'synth_me_cached/tiny_apex_99'"):
        input_pipeline.database_builder(dataset, apex_99)
    casme2 = ml_collections.ConfigDict(
        {"name": "casme2/cropped_2014", "data_dir": str(tiny_data_dir), "manual_dir": ""}
    )
    flow = ml_collections.ConfigDict({"variant": "flow", "image_size": 28})
    with pytest.raises(
        ValueError, match=r"not built .*\n.*tfds.builder\('casme2/cropped_2014_flow"
    ):
        input_pipeline.database_builder(casme2, flow)


def test_a_class_absent_from_training_stops_the_round():
    task = tasks.Recognition(classes=labels.MEGC2019_CLASSES)
    with pytest.raises(ValueError, match=r"round r0: the class\(es\) \['surprise'\] have no clip"):
        task.check_training(np.array([0, 1, 1, 0]), "r0")


def test_several_databases_in_one_run_keep_their_subjects_apart(tiny_data_dir):
    config = mer_config(tiny_data_dir, **{"dataset.extra": ("synth_me/macro_tiny",)})
    clips = input_pipeline.load(config)
    assert len(clips) == 24 + 16 and len(set(clips.names)) == 40
    assert set(clips.databases) == {"synth_me", "synth_me_macro"}
    assert {s.split("_sub")[0] for s in clips.subjects if "_sub" in s} == {"synth_me"}
    assert sum(s.startswith("synth_me_macro_mac") for s in clips.subjects) == 16
    assert clips.inputs.shape[1:] == (28, 28, 2) and clips.inputs.dtype == np.float32
    # HDE over the two: train on one database, test on the other.
    rounds = protocols.build(ml_collections.ConfigDict({"name": "hde", "rounds": ()}), clips)
    for r in rounds:
        trained = {clips.databases[i] for i in r.indices("train", clips)}
        tested = {clips.databases[i] for i in r.indices("test", clips)}
        assert len(trained) == len(tested) == 1 and trained != tested


def test_builder_names_of_the_input_variants():
    def name(dataset, **fields):
        return input_pipeline.builder_name(dataset, ml_collections.ConfigDict(fields))

    assert name("synth_me/small", variant="frames", image_size=80) == "synth_me/small"
    assert name("synth_me/small", variant="flow", image_size=64) == (
        "synth_me_cached/small_flow_tvl1_64"
    )
    reduced = name(
        "synth_me/macro", variant="flow", image_size=64, flow_method="farneback", flow_emr="reduced"
    )
    assert reduced == "synth_me_cached/macro_flow_farneback_64_reduced"
    assert name("casme2/cropped_2014", variant="tim", image_size=224, num_frames=10) == (
        "casme2/cropped_2014_tim10_224"
    )
    assert name("samm", variant="apex", image_size=224) == "samm/apex_224"
    assert name("megc2019/cropped", variant="flow", image_size=112, flow_emr="evm") == (
        "megc2019/cropped_flow_tvl1_112_evm"
    )
    with pytest.raises(ValueError, match="input.variant 'optical' not in"):
        name("samm", variant="optical", image_size=224)


def test_part_based_recogniser_with_adversarial_adaptation_trains(tmp_path, tiny_data_dir):
    config = config_file("neural_mer", "synth_tiny")
    config.dataset.data_dir = config.aux_dataset.data_dir = str(tiny_data_dir)
    config.protocol.rounds = (0,)
    results = train.run(config.lock(), tmp_path)
    assert results["experiment"] == "Part+Adv+EMR" and results["num_test_clips"] == 4
    logged = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    rates = [r for r in logged if "learning_rate/backbone" in r]
    assert rates and {"learning_rate/heads", "learning_rate/discriminator"} <= set(rates[0])


def test_megc2019_paper_setting_reads_its_builders_and_runs_two_folds(tmp_path):
    """The paper configuration on the builders' dummy data (synthetic pixels in the real
    layouts): MEGC2019's cached EMR flow, CK+ as the reduced source, two LOSO folds."""
    config = config_file("neural_mer", "megc2019")
    datasets = REPO / "mejax" / "datasets"
    config.dataset.data_dir = config.aux_dataset.data_dir = str(tmp_path / "tfds")
    config.dataset.manual_dir = str(datasets / "megc2019" / "dummy_data")
    config.aux_dataset.manual_dir = str(datasets / "ckplus" / "dummy_data")
    # CPU-sized: the smallest ResNet, two folds of one epoch each.
    config.update_from_flattened_dict(
        {
            "model.depth": 10,
            "model.width": 1 / 16,
            "train.batch_size": 2,
            "train.eval_batch_size": 2,
            "train.num_epochs": 1,
            "protocol.rounds": (0, 1),
        }  # fmt: skip
    )
    results = train.run(config.lock(), tmp_path / "run")
    assert len(results["per_fold"]) == 2 and results["num_test_clips"] > 0
    assert set(results["per_database"]) <= {"casme2", "samm", "smic"}
