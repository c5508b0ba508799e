"""SCA end to end on synth_me/tiny: the multi-task AU task through the training loop, then its
class-activation maps; the maps of I3D's two heads add up to their logits too."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from mejax import cam, clipset, experiment, models, tasks
from mejax.datasets import aus as au_vocab
from tests import tiny_configs

# The tests share a module fixture: one process under pytest -n runs them (and it) once.
pytestmark = pytest.mark.xdist_group("sca_run")


def test_multi_task_loss_is_the_bce_summed_over_aus():
    task = tasks.AUMultiTask((4, 7, 12))
    logits = jnp.array([[2.0, -1.0, 0.5], [-0.3, 0.2, -2.0]])
    labels = jnp.array([[1, 0, 0], [0, 1, 1]])
    p = 1 / (1 + np.exp(-np.asarray(logits)))
    bce = -(labels * np.log(p) + (1 - labels) * np.log(1 - p))
    loss = task.model_loss(logits, {"targets": labels}, {})
    np.testing.assert_allclose(loss, bce.sum(1).mean(), rtol=1e-6)
    # A model may return a dict: the task reads its logits.
    np.testing.assert_allclose(task.model_loss({"logits": logits}, {"targets": labels}, {}), loss)
    np.testing.assert_array_equal(task.predictions(logits[None]), [[1, 0, 1], [0, 1, 0]])
    assert task.stack_targets(labels).shape == (1, 2, 3)
    np.testing.assert_array_equal(task.per_au(np.array([7])), [7, 7, 7])
    assert task.model_scores(np.array([0.2, 0.4, 0.6]))[0] == pytest.approx(0.4)
    with pytest.raises(ValueError, match="task.loss 'focal' not in"):
        tasks.AUMultiTask((4,), "focal")


@pytest.fixture(scope="module")
def sca_run(tmp_path_factory, tiny_data_dir):
    config = tiny_configs.tiny("sca").unlock()
    config.dataset.data_dir = str(tiny_data_dir)
    config.protocol.rounds = (0,)
    config = config.lock()
    workdir = tmp_path_factory.mktemp("sca")
    return config, workdir, experiment.run(config, workdir)


def test_sca_trains_through_the_loop_and_reports_every_au(sca_run):
    config, workdir, results = sca_run
    assert set(results["f1"]) == {"AU4", "AU7"}
    assert results["experiment"] == config.name and results["protocol"] == "subject_kfold"
    record = np.load(workdir / "fold0" / "predictions.npz")
    assert record["predictions"].shape == record["labels"].shape == (len(record["names"]), 2)
    # One network: one selected step, reported for every AU.
    assert len(set(record["selected_step"].tolist())) == 1
    assert np.all((record["scores"] > 0.5) == record["predictions"].astype(bool))


def test_cam_pngs_and_the_maps_average_to_the_logits(sca_run):
    config, workdir, _ = sca_run
    clip = str(np.load(workdir / "fold0" / "predictions.npz")["names"][0])
    written = cam.write_cams(workdir, [clip], workdir / "cam")
    assert {p.name for p in written} == {f"{clip}_AU4.png", f"{clip}_AU7.png", f"{clip}.png"}
    assert all(p.stat().st_size > 1000 for p in written)

    # Global average pooling + fc: each logit is its CAM's mean plus the fc bias.
    task = tasks.build(config.task)
    model = models.build(config.model, task.outputs_per_model)
    clips = jnp.asarray(np.random.default_rng(0).normal(size=(2, 8, 48, 48, 3)), jnp.float32)
    variables = model.init(jax.random.PRNGKey(0), clips, train=False)
    maps, logits = cam.class_activation_maps(model, variables, clips)
    bias = np.asarray(variables["params"]["fc"]["bias"])
    np.testing.assert_allclose(maps.mean(axis=(2, 3)) + bias, logits, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "head, pooling", [("i3d", ""), ("stap", "softmax"), ("stap", "softmax_per_class"),
                      ("stap", "max")],
)  # fmt: skip
def test_i3d_heads_maps_add_up_to_the_logits(head, pooling):
    """I3D to Conv3d_2c_3x3 (a 4 x 4 x 4 map of 8 frames of 16^2, so that STAP's bands and its
    max over them, and the average-pool head's unequal weights of the time steps, matter): each
    map's mean plus the bias is the logit, with the head's own pooling. (The 2D models' maps:
    tests/test_predict.py, on trained models.)"""
    config = ml_collections.ConfigDict(
        {"name": "i3d_classifier_tiny", "final_endpoint": "Conv3d_2c_3x3", "head": head}
    )
    if pooling:
        config.temporal_pooling = pooling
    model = models.build(config, 2)
    clips = jnp.asarray(np.random.default_rng(1).normal(size=(2, 8, 16, 16, 3)), jnp.float32)
    variables = model.init(jax.random.PRNGKey(0), clips, train=False)
    found = jax.jit(lambda v, x: cam.activation_maps(model, v, x))(variables, clips)
    maps, logits = np.asarray(found["maps"]), np.asarray(found["logits"])
    assert maps.shape == (2, 2, 4, 4) and np.ptp(maps) > 1e-3
    np.testing.assert_allclose(maps.mean(axis=(2, 3)) + found["bias"], logits, atol=1e-6)


def test_models_without_maps_are_refused():
    model = models.build(ml_collections.ConfigDict({"name": "part_mer_tiny"}), 3)
    with pytest.raises(ValueError, match="PartMER: no class-activation maps"):
        cam.activation_maps(model, {"params": {}}, jnp.zeros((1, 28, 28, 2)))


def test_cam_refuses_a_clip_no_round_tested(sca_run):
    _, workdir, _ = sca_run
    with pytest.raises(ValueError, match="in no test fold"):
        cam.write_cams(workdir, ["sub02_ep01"])


def clip_set(names_and_subjects):
    return clipset.from_rows(
        [
            {
                "input": np.zeros(1),
                "name": name,
                "subject": subject,
                "database": "casme2",
                "aus": au_vocab.multi_hot({4}),
                "emotion": "disgust",
                "objective_class": -1,
                "phases": [0, 1, 2],
            }  # fmt: skip
            for name, subject in names_and_subjects
        ]
    )


def test_cam_finds_a_clip_and_its_subject_in_the_clip_set():
    """CASME II numbers clips per subject: EP02_01f is a clip of sub01 and of sub11. Its subject
    comes from the clip set, never from the name."""
    clips = clip_set([("EP02_01f", "sub01"), ("EP02_01f", "sub11"), ("EP03_02", "sub01")])
    index, stem = cam.find_clip(clips, "sub11/EP02_01f")
    assert (clips.subjects[index], clips.names[index], stem) == ("sub11", "EP02_01f",
                                                                 "sub11_EP02_01f")  # fmt: skip
    index, stem = cam.find_clip(clips, "EP03_02")
    assert (clips.subjects[index], stem) == ("sub01", "EP03_02")
    with pytest.raises(ValueError, match="several subjects: name one of sub01/EP02_01f, sub11/EP"):
        cam.find_clip(clips, "EP02_01f")
    with pytest.raises(ValueError, match="'sub02/EP03_02' is not a clip of the run"):
        cam.find_clip(clips, "sub02/EP03_02")


def test_cam_names_an_unknown_clip(sca_run):
    _, workdir, _ = sca_run
    with pytest.raises(ValueError, match="synth_me/tiny: clip 'EP02_01f' is not a clip of the run"):
        cam.write_cams(workdir, ["EP02_01f"])


def test_sca_config_takes_gsop_channel_attention_and_the_earlier_reading():
    config = tiny_configs.config("sca", "casme2")
    assert (config.model.channel_attention, config.model.channel_reduction) == ("gsop", 128)
    assert config.model.channel_outputs_per_row == 4
    for mode in ("gsop", "row_groups"):
        tiny = tiny_configs.tiny("sca").unlock()
        tiny.model.channel_attention = mode
        model = models.build(tiny.model, 2)
        clips = jnp.zeros((2, 8, 32, 32, 3))
        variables = model.init(jax.random.PRNGKey(0), clips, train=False)
        channel = variables["params"]["attention"]["channel"]
        # 32 channels reduced to 8; GSoP: 8 row groups of 4 outputs; rows: 2 groups of 4 rows.
        shape = (8, 8, 4) if mode == "gsop" else (2, 4 * 8, 4)
        assert channel["row_conv"]["kernel"].shape == shape
        logits, _ = model.apply(
            variables, clips, train=True, mutable=["batch_stats"],
            rngs={"dropout": jax.random.PRNGKey(1)},
        )  # fmt: skip
        assert logits.shape == (2, 2) and np.all(np.isfinite(logits))
