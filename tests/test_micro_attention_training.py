"""Micro-Attention through the training loop: the staged chain (stage 1 on macro-expressions
without attention, stage 2 with it from stage 1's weights), its augmentations, and the paper
configs on the builders' dummy data."""

from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from test_mer import config_file

from mejax import experiment, input_pipeline, models, tasks
from mejax.datasets import labels
from mejax.preprocess import augment
from mejax.weights import init_from
from tests import tiny_configs

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO / "mejax" / "datasets"


def test_basic_5_label_set_maps_every_macro_database_and_leaves_the_rest_out():
    emotions = ["happy", "Happiness", "surprise", "anger", "disgust", "sadness", "fear",
                "neutral", "contempt"]  # fmt: skip
    classes = labels.class_names("basic_5", emotions, np.zeros(9))
    assert classes == ("happiness", "surprise", "anger", "disgust", "sadness")
    got = labels.class_labels("basic_5", classes, emotions, np.zeros(9))
    np.testing.assert_array_equal(got, [0, 0, 1, 2, 3, 4, -1, -1, -1])


def test_photometric_augmentation_and_corner_crops():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (16, 16, 1), np.uint8)
    same = augment.random_photometric(image, rng, max_color_shift=20, probability=0.0)
    np.testing.assert_array_equal(same, image)
    shifted = augment.random_photometric(image, rng, max_color_shift=20, probability=1.0)
    assert shifted.shape == image.shape and 0 < np.abs(shifted.astype(int) - image).max() <= 20
    for kwargs in ({"max_rotation": 10}, {"max_smoothing": 6}):
        out = augment.random_photometric(image, rng, probability=1.0, **kwargs)
        assert out.shape == image.shape and out.dtype == np.uint8 and (out != image).any()
    inputs = np.arange(2 * 6 * 6).reshape(2, 6, 6, 1).astype(np.uint8)
    batches = input_pipeline.TrainBatches(
        np.repeat(inputs, 10, axis=0), np.zeros(20, np.int32), 20, seed=0, flip=False, crop=4,
        crop_mode="corners",
    )  # fmt: skip
    # The top-left pixel of a window is that of one of the four corner windows of its image.
    corners = {int(v) for v in batches(0)["inputs"][:, 0, 0, 0]}
    assert corners <= {0, 2, 12, 14, 36, 38, 48, 50} and len(corners) > 2
    with pytest.raises(ValueError, match="uint8"):
        input_pipeline.TrainBatches(np.zeros((4, 2, 2, 2), np.float32), np.zeros(4), 2, 0, False,
                                    photometric={"max_color_shift": 20})  # fmt: skip


def test_staged_chain_pretrains_without_attention_and_fine_tunes_with_it(tmp_path, tiny_data_dir):
    stage1 = tiny_configs.tiny("micro_attention", "pretrain").unlock()
    assert not stage1.model.attention and stage1.task.label_set == "basic_5"
    stage1.dataset.data_dir = str(tiny_data_dir)
    first = experiment.run(stage1.lock(), tmp_path / "stage1")
    assert first["num_test_clips"] == 0 and first["protocol"] == "pretrain"
    stage2 = tiny_configs.tiny("micro_attention").unlock()
    assert stage2.model.attention and stage2.train.balance_classes
    stage2.dataset.data_dir = str(tiny_data_dir)
    stage2.init_from = str(tmp_path / "stage1")
    stage2.protocol.rounds = (0,)
    second = experiment.run(stage2.lock(), tmp_path / "stage2")
    assert second["experiment"] == "MA" and second["num_test_clips"] > 0
    # What stage 2 took of stage 1: everything but the four attention units' kernels.
    task = tasks.build(stage2.task)
    model = models.build(stage2.model, task.outputs_per_model)
    apex = jnp.zeros((1, stage2.input.crop_size, stage2.input.crop_size, 1))
    variables = model.init(jax.random.PRNGKey(0), apex, train=False)
    _, report = init_from.initialize(variables, str(tmp_path / "stage1"))
    assert len(report.left_at_init) == 4
    assert all("mask_Concat" in name for name in report.left_at_init)


def test_paper_stage1_reads_the_four_macro_databases(tmp_path):
    """Stage 1 on the peak frames of CK+, Oulu-CASIA, JAFFE and MUG (their dummy data)."""
    config = config_file("micro_attention", "casme2,pretrain")
    config.dataset.data_dir = str(tmp_path / "tfds")
    clips = {}
    for name in ("ckplus", "oulu_casia", "jaffe", "mug"):
        block = {"name": f"{name}/peak", "data_dir": str(tmp_path / "tfds"),
                 "manual_dir": str(DATASETS / name / "dummy_data")}  # fmt: skip
        clips[name] = input_pipeline.load_database(
            ml_collections.ConfigDict(block), config.input, prefix=True
        )
    assert {c.inputs.shape[1:] for c in clips.values()} == {(240, 240, 1)}
    assert {name for name in clips} == {config.dataset.name.split("/")[0]} | {
        e.split("/")[0] for e in config.dataset.extra
    }
