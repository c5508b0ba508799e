"""Recognition through the training loop: auxiliary clips in batches, staged transfer, clear
errors. (Killed-and-resumed runs with an auxiliary database: tests/test_train.py.)"""

import importlib.util
import json
from pathlib import Path

import ml_collections
import numpy as np
import pytest

from mejax import experiment, input_pipeline, protocols, tasks, train
from mejax.datasets import labels
from mejax.preprocess import flow as flow_lib
from mejax.weights import init_from
from tests import tiny_configs

REPO = Path(__file__).resolve().parents[1]


def config_file(name: str, arg: str):
    """The unlocked config of ``configs/<name>.py:<arg>``."""
    spec = importlib.util.spec_from_file_location(name, REPO / "configs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg).unlock()


def mer_config(data_dir, **overrides):
    config = tiny_configs.tiny("mer_resnet").unlock()
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


def test_largest_class_epochs_resample_every_class_up_to_the_largest():
    """Micro-Attention's "resample every class up to the largest" (balance_epoch="largest"):
    an epoch of C x n_max clips, n_max of each class, the largest's clips once each and a
    smaller class's clips n_max // n_c or one more times; its steps count those draws."""
    classes = np.r_[np.zeros(12, np.int64), np.ones(5, np.int64), np.full(3, 2, np.int64)]
    inputs = np.arange(20, dtype=np.uint8).reshape(20, 1, 1, 1)
    batches = input_pipeline.TrainBatches(
        inputs, classes, 4, seed=0, flip=False, balance_classes=classes, balance_epoch="largest"
    )
    assert batches.steps_per_epoch == 3 * 12 // 4  # 20 // 4 = 5 with balance_epoch="clips"
    for epoch in range(3):
        steps = range(epoch * 9, epoch * 9 + 9)
        drawn = np.concatenate([batches(step)["inputs"].ravel() for step in steps]).astype(int)
        per_clip = np.bincount(drawn, minlength=20)
        assert (np.bincount(classes[drawn], minlength=3) == 12).all()
        assert (per_clip[:12] == 1).all()  # the largest class: each clip once
        assert set(per_clip[12:17]) == {2, 3} and per_clip[12:17].sum() == 12  # 12 = 2 x 5 + 2
        assert (per_clip[17:] == 4).all()  # 12 = 4 x 3
    clips = input_pipeline.TrainBatches(inputs, classes, 4, 0, False, balance_classes=classes)
    assert clips.steps_per_epoch == 5
    with pytest.raises(ValueError, match="balance_epoch"):
        input_pipeline.TrainBatches(inputs, classes, 4, 0, False, balance_epoch="max")


def test_rendered_flow_is_what_the_step_would_encode():
    """input.render_flow: the hsv image rendered when the clips are read reaches the model as
    the same values as the float flow encoded in the step; no flips of a rendering."""
    flow = np.random.default_rng(0).normal(size=(3, 8, 8, 2)).astype(np.float32)
    in_step = ml_collections.ConfigDict({"variant": "flow", "flow_encoding": "hsv"})
    at_load = ml_collections.ConfigDict({**in_step, "render_flow": True, "flip": False})
    rendered = np.stack([input_pipeline.example_input({"flow": f}, at_load) for f in flow])
    assert rendered.dtype == np.uint8 and rendered.shape == (3, 8, 8, 3)
    np.testing.assert_array_equal(rendered, flow_lib.encode(flow, "hsv"))
    np.testing.assert_allclose(
        input_pipeline.normalize(rendered, at_load),
        input_pipeline.normalize(flow, in_step),
        atol=1e-6,
    )
    with pytest.raises(ValueError, match="flip"):
        input_pipeline.example_input({"flow": flow[0]}, {**at_load, "flip": True})
    with pytest.raises(ValueError, match="hsv"):
        input_pipeline.example_input({"flow": flow[0]}, {**at_load, "flow_encoding": "uv"})


def test_recognition_loss_is_the_three_class_cross_entropies_plus_the_domain_one():
    """Liu et al.'s loss (the reference's Train/main.py): CE(parts) + CE(top) + CE(bottom) +
    BCE-with-logits(domain; macro 0, micro 1), each a mean over the batch, by hand."""
    rng = np.random.default_rng(0)
    logits, top, bottom = (rng.normal(size=(6, 3)).astype(np.float32) for _ in range(3))
    domain_logits = rng.normal(size=(6, 1)).astype(np.float32)
    targets = np.array([0, 2, 1, 1, 0, 2], np.int32)
    domain = np.array([1, 1, 1, 1, 0, 0], np.int32)

    def ce(z):
        z = z.astype(np.float64)
        log_p = z - z.max(1, keepdims=True)
        log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
        return -log_p[np.arange(6), targets].mean()

    z = domain_logits[:, 0].astype(np.float64)
    p = 1 / (1 + np.exp(-z))
    bce = -(domain * np.log(p) + (1 - domain) * np.log(1 - p)).mean()
    outputs = {"logits": logits, "aux_logits": (top, bottom), "domain_logits": domain_logits}
    task = tasks.Recognition(grl_schedule="dann")
    got = task.model_loss(outputs, {"targets": targets, "domain": domain}, {})
    assert float(got) == pytest.approx(ce(logits) + ce(top) + ce(bottom) + bce, rel=1e-6)
    weighted = tasks.Recognition(aux_loss_weight=0.5, domain_loss_weight=2.0)
    got = weighted.model_loss(outputs, {"targets": targets, "domain": domain}, {})
    want = ce(logits) + 0.5 * (ce(top) + ce(bottom)) + 2.0 * bce
    assert float(got) == pytest.approx(want, rel=1e-6)
    # No domain in the batch (no auxiliary database): the class terms only.
    got = task.model_loss(outputs, {"targets": targets}, {})
    assert float(got) == pytest.approx(ce(logits) + ce(top) + ce(bottom), rel=1e-6)


def test_the_steps_reversal_factor_reaches_the_model(monkeypatch):
    """The train step hands the task's lambda to the model: with SGD at lr 1, the parameters
    below the features move, beyond their move at lambda 0, by +lambda times the domain loss's
    plain gradient (a plain step would move them by minus it: the sign is reversed and scaled
    by lambda); the discriminator's and the classifiers' updates do not depend on lambda."""
    import jax
    import optax
    from flax import traverse_util

    from mejax import optim, presets, sharding
    from mejax.models import grl, part_mer

    model = part_mer.PartMER(3, depth=10, width=1 / 16, max_pool=False)
    task = tasks.Recognition(grl_schedule="dann")
    tx = optim.make_optimizer(presets.sgd_optimizer(learning_rate=1.0, momentum=0.0))
    mesh = sharding.data_mesh()
    steps = train.make_steps(model, task, tx, mesh, 1, ml_collections.ConfigDict())
    rng = np.random.default_rng(0)
    batch = {
        "inputs": rng.integers(0, 256, (4, 32, 32, 3), np.uint8),
        "targets": np.array([0, 1, 2, 0], np.int32),
        "domain": np.array([1, 1, 0, 0], np.int32),
    }
    keys = jax.random.split(jax.random.PRNGKey(0), 1)
    flat = lambda tree: traverse_util.flatten_dict(tree, sep="/")

    def update(hparams):
        state = steps.init(keys, batch["inputs"][:1])
        before = jax.tree.map(np.array, state["params"])
        new, _, _ = steps.train_step(
            state,
            jax.tree.map(lambda x: sharding.global_batch(mesh, x), batch),
            {"learning_rate": np.float32(1.0), **hparams},
        )
        return flat(jax.tree.map(lambda a, b: np.asarray(a)[0] - b[0], new["params"], before))

    zero = update({"model": {"grl_lambda": np.float32(0.0)}})
    moved = {p: update(task.step_hparams(p)) for p in (0.1, 0.6)}

    # The domain loss's gradient without the reversal, on the step's forward pass (same
    # dropout key, batch statistics).
    state = steps.init(keys, batch["inputs"][:1])
    params = jax.tree.map(lambda x: x[0], state["params"])
    batch_stats = jax.tree.map(lambda x: x[0], state["batch_stats"])
    inputs = input_pipeline.normalize(batch["inputs"], ml_collections.ConfigDict())

    def domain_loss(params):
        outputs, _ = model.apply(
            {"params": params, "batch_stats": batch_stats}, inputs, train=True,
            rngs={"dropout": jax.random.fold_in(keys[0], 0)}, mutable=["batch_stats"],
        )  # fmt: skip
        logits = outputs["domain_logits"].reshape(-1)
        return optax.sigmoid_binary_cross_entropy(logits, batch["domain"].astype(np.float32)).mean()

    with monkeypatch.context() as patch:
        patch.setattr(grl, "reverse_gradient", lambda x, lam: x)
        plain = flat(jax.grad(domain_loss)(params))
    assert np.abs(plain["backbone/conv1/kernel"]).max() > 0
    for progress, deltas in moved.items():
        lam = float(task.step_hparams(progress)["model"]["grl_lambda"])
        assert 0 < lam < 1
        for key, delta in deltas.items():
            below = not key.startswith(("discriminator", "classifier"))
            want = lam * np.asarray(plain[key]) if below else np.zeros_like(delta)
            atol = 1e-3 * float(np.abs(plain[key]).max()) + 1e-6 * float(np.abs(zero[key]).max())
            np.testing.assert_allclose(
                delta - zero[key], want, rtol=1e-3, atol=atol + 1e-9, err_msg=key
            )


def test_flip_mirrors_flow_and_negates_its_horizontal_component():
    flow = np.zeros((1, 2, 3, 2), np.float32)
    flow[0, :, 0] = (1.0, 5.0)  # left column moves right and down
    mirrored = input_pipeline.flip(flow)
    np.testing.assert_array_equal(mirrored[0, :, 2], [[-1.0, 5.0]] * 2)
    np.testing.assert_array_equal(mirrored[0, :, 0], 0)


def test_aux_clips_train_but_are_never_validated_or_tested(tmp_path, tiny_data_dir):
    config = mer_config(tiny_data_dir, **{"aux_dataset.name": "synth_me/macro_tiny",
                                          "aux_dataset.ratio": 0.5})  # fmt: skip
    results = experiment.run(config, tmp_path)
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
    results = experiment.run(pretrain, source)
    assert results["num_test_clips"] == 0 and [r["name"] for r in results["rounds"]] == ["pretrain"]
    assert len(results["rounds"][0]["validation"]) == 1  # 9:1 of the 12 negative / positive
    assert "No test side" in (source / "results.md").read_text()

    seen = json.loads((source / "pretrain" / "subjects.json").read_text())
    assert all(s.startswith("synth_me_macro:mac") for s in seen["train"] + seen["validation"])
    loaded = init_from.load_source(str(source))
    assert any(key.startswith("params/backbone/conv1") for key in loaded.flat)
    target = mer_config(tiny_data_dir, **two, **{"init_from": str(source), "protocol.rounds": (0,)})
    finetuned = experiment.run(target, tmp_path / "finetune")
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
    config = tiny_configs.tiny("neural_mer").unlock()
    config.dataset.data_dir = config.aux_dataset.data_dir = str(tiny_data_dir)
    config.protocol.rounds = (0,)
    results = experiment.run(config.lock(), tmp_path)
    assert results["experiment"] == "Part+Adv+EMR" and results["num_test_clips"] == 4
    logged = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    rates = [r for r in logged if "learning_rate/backbone" in r]
    assert rates and {"learning_rate/heads", "learning_rate/discriminator"} <= set(rates[0])


def test_megc2019_paper_setting_reads_its_builders_and_runs_two_folds(tmp_path):
    """The paper configuration on the builders' dummy data (synthetic pixels in the real
    layouts): MEGC2019's cached EMR flow, CK+ as the reduced source, two LOSO folds."""
    config = config_file("neural_mer", "megc2019")
    config.init_from = "none"  # no ImageNet ResNet-18 here, knowingly
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
    results = experiment.run(config.lock(), tmp_path / "run")
    assert len(results["per_fold"]) == 2 and results["num_test_clips"] > 0
    assert set(results["per_database"]) <= {"casme2", "samm", "smic"}
