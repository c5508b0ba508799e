"""MER-auGCN through the training loop: the joint task, the 70-fold augmented flows, the
synthetic and the MEGC2018 (HDE, CDE, Table VII) configs on dummy data."""

import json
from pathlib import Path

import numpy as np
import pytest
from test_mer import config_file

from mejax import au_graph, experiment, input_pipeline, tasks
from mejax.clipset import ClipSet
from tests import tiny_configs

REPO = Path(__file__).resolve().parents[1]


def joint_task(**fields):
    return tasks.RecognitionWithAUs(
        label_set="objective_5", classes=("I", "II", "III"), aus=(4, 12), **fields
    )


def test_joint_targets_hold_the_class_then_the_aus_and_keep_only_classified_clips():
    clips = ClipSet(
        inputs=np.zeros((3, 2, 2, 2), np.float32),
        names=["a", "b", "c"],
        subjects=["s1", "s1", "s2"],
        databases=["d"] * 3,
        aus=np.zeros((3, 64), bool),
        emotion=["", "", ""],
        objective_class=np.array([2, 6, 0]),
        phases=np.zeros((3, 3), np.int32),
    )
    from mejax.datasets import aus

    clips.aus[0, aus.AU_INDEX[4]] = clips.aus[2, aus.AU_INDEX[12]] = True
    targets = joint_task().targets(clips)
    np.testing.assert_array_equal(targets, [[2, 1, 0], [-1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(joint_task().keep(targets), [True, False, True])
    np.testing.assert_array_equal(joint_task(unclassified=True).keep(targets), [1, 1, 1])


def test_joint_loss_is_the_class_cross_entropy_plus_lambda_times_the_detection_loss():
    from mejax import losses

    rng = np.random.default_rng(0)
    outputs = {"logits": rng.normal(size=(4, 3)), "au_logits": rng.normal(size=(4, 2))}
    targets = np.array([[0, 1, 0], [2, 0, 1], [-1, 1, 1], [1, 0, 0]])
    loss = joint_task(unclassified=True).model_loss(outputs, {"targets": targets}, {})
    logits = outputs["logits"][[0, 1, 3]]
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    ce = -np.mean(log_p[[0, 1, 2], [0, 2, 1]])  # the unclassified clip is left out
    detection = losses.balanced_detection_loss(outputs["au_logits"], targets[:, 1:])
    np.testing.assert_allclose(loss, ce + 0.75 * float(detection), rtol=1e-5)
    without_detectors = joint_task().model_loss({"logits": outputs["logits"]},
                                                {"targets": targets}, {})  # fmt: skip
    np.testing.assert_allclose(without_detectors, ce, rtol=1e-5)


def test_summed_class_loss_is_the_papers_printed_cross_entropy_beside_the_mean_detection_loss():
    """MER-auGCN Sec. III-D: L = CE + 0.75 L_detc with the CE summed over the batch (the
    configs' ``task.class_loss_reduction="sum"``) and L_detc a mean over AUs and clips."""
    from mejax import config_args, losses

    rng = np.random.default_rng(1)
    outputs = {"logits": rng.normal(size=(4, 3)), "au_logits": rng.normal(size=(4, 2))}
    targets = np.array([[0, 1, 0], [2, 0, 1], [-1, 1, 1], [1, 0, 0]])
    loss = joint_task(unclassified=True, class_loss_reduction="sum").model_loss(
        outputs, {"targets": targets}, {}
    )
    logits = outputs["logits"][[0, 1, 3]]
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    ce_sum = -np.sum(log_p[[0, 1, 2], [0, 2, 1]])  # the unclassified clip is left out
    detection = losses.balanced_detection_loss(outputs["au_logits"], targets[:, 1:])
    np.testing.assert_allclose(loss, ce_sum + 0.75 * float(detection), rtol=1e-5)
    with pytest.raises(ValueError, match="class_loss_reduction"):
        joint_task(class_loss_reduction="total")
    for arg in ("synth", "megc2018", "megc2018,cde", "megc2018,au_detection"):
        config = config_args.load_file(REPO / "configs" / "au_gcn.py", arg)
        assert tasks.build(config.task).class_loss_reduction == "sum"


def test_augmented_flows_train_all_pairs_and_evaluate_the_plain_one():
    apex_index = np.array([3, 5, 5, 7])
    angle = np.array([0.0, 5.0, 0.0, 0.0])
    flows = np.arange(4, dtype=np.float32).reshape(4, 1, 1, 1) * np.ones((4, 2, 2, 2))
    example = {"apex": 5, "apex_index": apex_index, "angle": angle, "clip": b"x"}
    ordered = input_pipeline.plain_first(flows, example)
    np.testing.assert_array_equal(ordered[:, 0, 0, 0], [2, 0, 1, 3])
    batch = np.stack([ordered, ordered + 10])
    inputs, targets = input_pipeline.augmented_side(batch, np.array([7, 8]), train=True)
    assert inputs.shape == (8, 2, 2, 2)
    np.testing.assert_array_equal(targets, [7, 7, 7, 7, 8, 8, 8, 8])
    plain, _ = input_pipeline.augmented_side(batch, np.array([7, 8]), train=False)
    np.testing.assert_array_equal(plain[:, 0, 0, 0], [2, 12])
    with pytest.raises(ValueError, match="no unrotated"):
        input_pipeline.plain_first(flows, {**example, "apex": 4})
    # No annotated apex (CASME II sub04/EP12_01f): the builder augmented the middle frame.
    middle = {**example, "apex": -1, "onset": 3, "offset": 8}  # (3 + 8) // 2 = 5
    np.testing.assert_array_equal(input_pipeline.plain_first(flows, middle)[:, 0, 0, 0],
                                  [2, 0, 1, 3])  # fmt: skip


def test_synthetic_config_trains_with_augmented_flows_and_reports_au_f1(tmp_path, tiny_data_dir):
    config = tiny_configs.tiny("au_gcn").unlock()
    config.dataset.data_dir = str(tiny_data_dir)
    config.protocol.rounds = (0,)
    assert config.input.flow_augment == "aug70"
    assert tuple(config.task.aus) == au_graph.nodes("final")
    results = experiment.run(config.lock(), tmp_path)
    assert results["task"] == "mer_au" and results["experiment"] == "MER-auGCN"
    assert results["num_test_clips"] > 0 and 0 <= results["uf1"] <= 1
    assert set(results["au_detection"]["f1"]) == {f"AU{au}" for au in au_graph.nodes("final")}
    assert "AU detection" in (tmp_path / "results.md").read_text()
    logged = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    steps = max(r["step"] for r in logged if "loss" in r)
    # The training side is the 70 flows of each of its ~11 clips: dozens of batches of 16 in
    # one epoch (the clips alone would not fill one).
    assert steps >= 40


@pytest.fixture(scope="module")
def megc2018_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("megc2018")


@pytest.mark.xdist_group("megc2018_dir")  # one process builds the composite once
@pytest.mark.parametrize(
    "arg, rounds",
    [
        ("megc2018,no_aug", ()),
        ("megc2018,cde,no_aug", (0, 1)),
        ("megc2018,au_detection,no_aug", ()),
    ],
)
def test_megc2018_configs_read_the_composite_and_run(arg, rounds, megc2018_dir):
    """HDE (both directions), CDE and Table VII on the builder's dummy data (synthetic pixels in
    the real layouts; the two objective classes both of its databases hold). Table VII reads
    CASME II and SAMM themselves (the composite's two manual directories), not the composite."""
    config = config_file("au_gcn", arg)
    config.dataset.data_dir = str(megc2018_dir / "tfds")
    dummy = REPO / "mejax" / "datasets" / "megc2018" / "dummy_data"
    config.dataset.manual_dir = str(dummy)
    if "au_detection" in arg:
        # SAMM as frames, not the paper setting's face crops (a face detector's seconds per clip).
        config.dataset.update(manual_dir=str(dummy / "casme2"), extra=("samm",),
                              extra_manual_dirs=(str(dummy / "samm"),))  # fmt: skip
    config.update_from_flattened_dict(
        {
            # Farneback at 112^2 (a cached variant of every licensed builder) in place of
            # TV-L1 at 28^2, which takes minutes to compute on a CPU even for the dummy clips.
            "input.flow_method": "farneback",
            "input.image_size": 112,
            "model.name": "au_gcn_tiny",
            "task.classes": ("I", "III"),
            "train.batch_size": 2,
            "train.eval_batch_size": 2,
            "train.num_epochs": 1,
            "protocol.rounds": rounds,
        }
    )
    workdir = megc2018_dir / arg.replace(",", "_")
    results = experiment.run(config.lock(), workdir)
    names = [fold["name"] for fold in results["per_fold"]]
    if config.protocol.name == "hde":
        assert names == ["casme2_to_samm", "samm_to_casme2"]
    else:
        assert len(names) == 2
    if "au_detection" in arg:
        assert results["au_detection"]["aus"] == [f"AU{au}" for au in (1, 2, 4, 9, 12, 14, 17)]
        # STAP's clips (the any_au rule on the seven AUs), not the composite's classes I-V: all
        # 8 dummy clips of CASME II and SAMM carry one of the seven AUs (SAMM 006_1_3 as "R6 or
        # R12"), 3 of them are of class VII (CASME II EP01_01, SAMM 006_1_3 and 028_4_1).
        assert results["au_detection"]["num_test_clips"] == 8
        # Of them, 4 are of the classes (I, III) the test recognises: EP02_03f, EP12_01f,
        # 006_1_2 and 028_2_2 (EP03_02 is of class II).
        assert results["num_test_clips"] == 4


def test_class_loss_weights_each_clip_by_its_class_and_leaves_unclassified_clips_out():
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.0]])
    classes = np.array([0, 1, -1, 1])
    weights = np.array([1.0, 3.0])
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    per_clip = -log_p[[0, 1, 3], [0, 1, 1]]
    expected = (1.0 * per_clip[0] + 3.0 * per_clip[1] + 3.0 * per_clip[2]) / 7.0
    got = tasks.Recognition.class_loss(logits, classes, {"class_weights": weights})
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(tasks.Recognition.class_loss(logits, classes, {}),
                               per_clip.mean(), rtol=1e-6)  # fmt: skip
