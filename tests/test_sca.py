"""SCA end to end on synth_me/tiny: the multi-task AU task through the training loop, then its
class-activation maps."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mejax import cam, models, presets, tasks, train


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
    config = presets.sca("synth_tiny").unlock()
    config.dataset.data_dir = str(tiny_data_dir)
    config.protocol.rounds = (0,)
    config = config.lock()
    workdir = tmp_path_factory.mktemp("sca")
    return config, workdir, train.run(config, workdir)


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


def test_cam_refuses_a_clip_no_round_tested(sca_run):
    _, workdir, _ = sca_run
    with pytest.raises(ValueError, match="in no test fold"):
        cam.write_cams(workdir, ["sub02_ep01"])
