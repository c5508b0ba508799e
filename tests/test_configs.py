"""Every config file loads with every argument and builds its model; the paper settings read
their real-database builders (on the builders' dummy data: synthetic pixels, real layout)."""

import ast
import functools
import importlib.util
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import pytest

from mejax import input_pipeline, models, optim, presets, tasks
from tests import tiny_configs

REPO = Path(__file__).resolve().parents[1]

CONFIG_FILES = sorted((REPO / "configs").glob("*.py"))


def load_config(path, arg):
    """``configs/<path>:<arg>``; ``tiny[,<tokens>]`` the tests' tiny config of the file
    (tests/tiny_configs.py)."""
    if arg and arg.split(",")[0] == "tiny":
        return tiny_configs.tiny(path.stem, arg.partition(",")[2])
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg)


def test_the_four_stap_rows_exist():
    assert {p.stem for p in CONFIG_FILES} >= {"stapf", "stap", "i3df", "i3d"}


# Arguments each deep-model config file is checked with (baseline configs have their own tests).
SCA_ARGS = [None, "tiny", "casme2", "casme2,r50,sca_max", "samm,r101,sca_concat",
            "casme,none", "sa", "ca", "sca_avg", "tiny,sca_max,r50"]  # fmt: skip


def deep_config_cases():
    for path in CONFIG_FILES:
        config = load_config(path, None)
        if "baseline" in config or "spotter" in config:  # tests/baselines, tests/spotting
            continue
        if path.stem in ("mer_resnet", "neural_mer", "au_gcn", "micro_attention"):
            continue  # test_mer_resnet_config_builds, test_neural_mer_config_builds, ...
        tiny = ["tiny"] if path.stem in tiny_configs.STAP_FAMILY else []
        args = SCA_ARGS if path.stem == "sca" else [None, *tiny, *presets.ARGS]
        yield from (pytest.param(path, arg, id=f"{path.stem}:{arg}") for arg in args)


@pytest.mark.parametrize("path, arg", list(deep_config_cases()))
def test_config_loads_and_builds(path, arg):
    config = load_config(path, arg)
    assert config.is_locked
    with pytest.raises(AttributeError):
        config.not_a_field = 1  # locked: a typo in an override fails loudly
    task = tasks.build(config.task)
    model = models.build(config.model, task.outputs_per_model)
    size = config.input.get("crop_size", 0) or config.input.image_size
    clips = jnp.zeros((1, config.input.num_frames, size, size, 3))
    variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), clips, train=False))
    logits = jax.eval_shape(lambda v: model.apply(v, clips, train=False), variables)
    assert logits.shape == (1, task.outputs_per_model)
    assert task.num_models * task.outputs_per_model in (2 * len(task.aus), len(task.aus))


def test_sca_arguments():
    config = load_config(REPO / "configs" / "sca.py", "samm,r50,sca_concat")
    assert (config.dataset.name, config.model.depth) == ("samm/faces", 50)
    assert (config.model.attention, config.model.fusion) == ("sca", "concat")
    paper = load_config(REPO / "configs" / "sca.py", "casme2")
    assert (paper.input.num_frames, paper.input.temporal_model) == (10, "tim50")
    assert (paper.input.crop_size, paper.optimizer.weight_decay) == (112, 1e-3)
    assert (paper.optimizer.decay_every_epochs, paper.train.num_epochs) == (30, 60)
    assert (paper.protocol.name, paper.task.name) == ("subject_kfold", "multi_task")
    assert load_config(REPO / "configs" / "sca.py", "sca_concat,r50,samm") == config
    with pytest.raises(ValueError, match="unknown config argument 'r34'.*r18.*r50.*r101"):
        load_config(REPO / "configs" / "sca.py", "casme2,r34")
    with pytest.raises(ValueError, match="two tokens of the group 'depth', 'r18' and 'r50'"):
        load_config(REPO / "configs" / "sca.py", "r18,casme2,r50")


def test_paper_setting():
    config = load_config(REPO / "configs" / "stapf.py", "casme2")
    assert (config.input.num_frames, config.input.image_size) == (10, 224)
    assert (config.optimizer.name, config.optimizer.learning_rate) == ("sgd", 0.01)
    assert config.optimizer.momentum == 0.9 and config.model.dropout_rate == 0.5
    assert config.train.batch_size == 6 and config.model.width == 1.0
    assert config.task.loss == "focal" and config.model.head == "stap"
    assert load_config(REPO / "configs" / "i3d.py", "casme2").model.head == "i3d"


def test_unknown_config_argument_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown config argument 'casme3'.*casme2"):
        load_config(REPO / "configs" / "stapf.py", "casme3")
    with pytest.raises(ValueError, match="two tokens of the group 'database'.*samm"):
        load_config(REPO / "configs" / "stapf.py", "casme2,samm")
    with pytest.raises(ValueError, match="database 'megc2019' is not one this config takes"):
        load_config(REPO / "configs" / "stapf.py", "megc2019")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mejax.main",
            "--config=configs/stapf.py:casme3",
            "--workdir=unused",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "unknown config argument 'casme3'" in result.stderr
    assert not (REPO / "unused").exists()


@pytest.mark.parametrize("arg", ["casme2", "samm"])
def test_paper_setting_reads_the_database_builder(arg, tmp_path):
    config = load_config(REPO / "configs" / "stapf.py", arg)
    database = config.dataset.name.split("/")[0]
    dataset = ml_collections.ConfigDict(
        {
            "name": config.dataset.name,
            "data_dir": str(tmp_path),
            "manual_dir": str(REPO / "mejax" / "datasets" / database / "dummy_data"),
        }
    )
    subjects = input_pipeline.subjects(input_pipeline.database_builder(dataset))
    data = input_pipeline.load_database(dataset, config.input)
    assert data.inputs.shape[1:] == (10, 224, 224, 3)
    assert sorted(set(data.subjects)) == subjects
    task = tasks.AUOneVsRest(tuple(config.task.aus), config.task.loss)
    labels = task.labels(data.aus)
    assert labels.shape == (len(data), len(config.task.aus))
    assert labels.any(), "the dummy annotations code some of the paper's AUs"


MER_ARGS = [None, "tiny", "tiny,apex,r10", "apex", "megc2019", "megc2018,hde", "cde,megc2018",
            "casme2,r10", "samm,apex", "smic"]  # fmt: skip


@pytest.mark.parametrize("arg", MER_ARGS)
def test_mer_resnet_config_builds(arg):
    config = load_config(REPO / "configs" / "mer_resnet.py", arg)
    assert config.is_locked and config.task.name == "mer"
    # Emotion label sets take their classes from the clips; stand in three.
    classes = () if config.task.label_set != "emotion" else ("a", "b", "c")
    task = tasks.build(ml_collections.ConfigDict({**config.task, "classes": classes}))
    model = models.build(config.model, task.outputs_per_model)
    channels = 2 if config.input.variant == "flow" else 3
    size = config.input.image_size
    images = jnp.zeros((1, size, size, channels))
    variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), images, train=False))
    outputs = jax.eval_shape(lambda v: model.apply(v, images, train=False), variables)
    assert outputs["logits"].shape == (1, len(task.classes))


def test_mer_resnet_settings():
    paper = load_config(REPO / "configs" / "mer_resnet.py", "megc2019")
    assert (paper.dataset.name, paper.protocol.name) == ("megc2019/cropped", "megc2019_loso")
    assert (paper.task.label_set, paper.model.depth) == ("megc2019", 18)
    hde = load_config(REPO / "configs" / "mer_resnet.py", "megc2018,hde")
    assert (hde.protocol.name, hde.task.label_set) == ("hde", "objective_5")
    assert load_config(REPO / "configs" / "mer_resnet.py", "megc2018").protocol.name == "cde"
    synth = load_config(REPO / "configs" / "mer_resnet.py", None)
    assert (synth.task.label_set, synth.protocol.rounds) == ("megc2019", ())
    with pytest.raises(ValueError, match="protocols of megc2018"):
        load_config(REPO / "configs" / "mer_resnet.py", "casme2,hde")


@pytest.mark.parametrize(
    "arg",
    [None, "tiny", "megc2019", "megc2019,part_emr", "resnet_emr", "tiny,part_emr"],
)
def test_neural_mer_config_builds(arg):
    config = load_config(REPO / "configs" / "neural_mer.py", arg)
    task = tasks.build(config.task)
    model = models.build(config.model, task.outputs_per_model)
    size = config.input.image_size
    flow = jnp.zeros((1, size, size, 3))  # the HSV rendering
    variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), flow, train=False))
    outputs = jax.eval_shape(lambda v: model.apply(v, flow, train=False), variables)
    assert outputs["logits"].shape == (1, 3)
    adversarial = config.model.discriminator
    assert ("domain_logits" in outputs) == adversarial and config.aux_dataset.name
    assert ("aux_logits" in outputs) == config.model.parts
    assert (task.grl_schedule == "dann") == adversarial
    # Every parameter is in exactly one of the reference's groups.
    jax.eval_shape(optim.make_optimizer(config.optimizer).init, variables["params"])


def test_neural_mer_paper_setting():
    paper = load_config(REPO / "configs" / "neural_mer.py", "megc2019")
    assert (paper.dataset.name, paper.protocol.name) == ("megc2019/cropped", "megc2019_loso")
    assert (paper.input.flow_method, paper.input.flow_emr) == ("farneback", "evm")
    assert (paper.aux_dataset.name, paper.aux_dataset.input.flow_emr) == ("ckplus", "reduced")
    assert (paper.train.batch_size, paper.train.num_epochs) == (32, 100)
    assert paper.train.selection == "last" and paper.optimizer.weight_decay == 1e-6
    groups = paper.optimizer.groups
    assert (groups.backbone.learning_rate, groups.heads.learning_rate) == (1e-5, 1e-3)
    assert (groups.heads.clip_norm, groups.discriminator.clip_norm) == (1.0, 0.0)
    assert groups.backbone.clip_per_module and groups.heads.clip_per_module
    # Train/main.py's augmentation: rotation <= 10 degrees and colour jitter .2 on the rendered
    # flow, always; a random 7/8 crop (224 of a 256 resize); no flips.
    assert not paper.input.flip and paper.input.render_flow
    assert dict(paper.input.photometric) == {"max_rotation": 10.0, "jitter": 0.2,
                                             "probability": 1.0}  # fmt: skip
    assert (paper.input.image_size, paper.input.crop_size, paper.input.crop_mode) == (
        112, 98, "random")  # fmt: skip


AU_GCN_ROWS = ["mer_augcn", "resnet18", "dual_inception", "au_feat", "rel_feat", "con_feat",
               "no_aug", "softmax_att", "focal_loss", "dense_graph", "original_graph"]  # fmt: skip


@pytest.mark.parametrize(
    "arg",
    [f"megc2018,{row}" for row in AU_GCN_ROWS]
    + ["synth", "tiny", "tiny,resnet18", "synth,resnet18", "megc2018,cde", "megc2018,au_detection"],
)
def test_au_gcn_config_builds(arg):
    config = load_config(REPO / "configs" / "au_gcn.py", arg)
    task = tasks.build(config.task)
    model = models.build(config.model, task.outputs_per_model)
    size = config.input.image_size
    flow = jnp.zeros((1, size, size, 2))
    variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), flow, train=False))
    outputs = jax.eval_shape(lambda v: model.apply(v, flow, train=False), variables)
    assert outputs["logits"].shape == (1, len(task.classes))
    assert ("au_logits" in outputs) == config.model.au_branch
    if config.model.au_branch:  # one detector per AU target, in the task's order
        assert outputs["au_logits"].shape == (1, len(task.aus))
        assert model.nodes() == tuple(task.aus)


def test_au_gcn_paper_setting():
    """Zhou et al. Sec. IV: objective classes I-V of MEGC2018, 28^2 TV-L1 flow with the 70-fold
    augmentation, Adam 5e-4, batch 64, 50 epochs, lambda 0.75, the final 12-node graph."""
    paper = load_config(REPO / "configs" / "au_gcn.py", "megc2018")
    assert (paper.dataset.name, paper.protocol.name) == ("megc2018/cropped", "hde")
    assert (paper.input.flow_method, paper.input.image_size) == ("tvl1", 28)
    assert paper.input.flow_augment == "aug70"
    assert (paper.optimizer.name, paper.optimizer.learning_rate) == ("adam", 5e-4)
    assert (paper.train.batch_size, paper.train.num_epochs, paper.train.selection) == (
        64, 50, "last")  # fmt: skip
    assert paper.task.label_set == "objective_5" and paper.task.detection_weight == 0.75
    assert tuple(paper.task.aus) == (1, 2, 4, 5, 6, 7, 9, 10, 12, 15, 17, 25)
    assert (
        len(load_config(REPO / "configs" / "au_gcn.py", "megc2018,original_graph").task.aus) == 17
    )
    assert load_config(REPO / "configs" / "au_gcn.py", "megc2018,cde").protocol.name == "cde"
    table_vii = load_config(REPO / "configs" / "au_gcn.py", "megc2018,au_detection")
    assert tuple(table_vii.task.aus) == (1, 2, 4, 9, 12, 14, 17) and table_vii.task.unclassified
    # Table VII runs on STAP's clips of CASME II and SAMM (any of the 7 AUs), not the composite.
    databases = (table_vii.dataset.name, tuple(table_vii.dataset.extra))
    assert databases == ("casme2/cropped", ("samm/faces",))
    assert (table_vii.task.samples, table_vii.protocol.name) == ("any_au", "hde")
    assert paper.task.samples == "all" and paper.task.class_loss_reduction == "sum"
    with pytest.raises(ValueError, match="Table VII"):
        load_config(REPO / "configs" / "au_gcn.py", "megc2018,cde,au_detection")


@pytest.mark.parametrize(
    "arg",
    ["synth", "tiny", "synth,pretrain", "tiny,pretrain", "synth,resnet",
     "megc2018", "megc2018,cde", "casme2", "samm,resnet", "smic", "casme2,pretrain"],
)  # fmt: skip
def test_micro_attention_config_builds(arg):
    config = load_config(REPO / "configs" / "micro_attention.py", arg)
    task = tasks.build(config.task)
    model = models.build(config.model, task.outputs_per_model)
    size = config.input.crop_size
    apex = jnp.zeros((1, size, size, 1))  # grey
    variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), apex, train=False))
    outputs = jax.eval_shape(lambda v: model.apply(v, apex, train=False), variables)
    assert outputs["logits"].shape == (1, len(task.classes))
    assert config.model.attention == ("pretrain" not in arg and "resnet" not in arg)


def test_micro_attention_paper_settings():
    """Wang et al. Sec. 4.1: stage 1 on the four macro databases' peak frames (SGD 0.9, batch
    50, lr 0.01 / 10 every 20 epochs, 9:1 split); stage 2 per protocol (batch, lr, decay)."""
    load = functools.partial(load_config, REPO / "configs" / "micro_attention.py")
    stage1 = load("casme2,pretrain")
    assert stage1.dataset.name == "ckplus/peak"
    assert tuple(stage1.dataset.extra) == ("oulu_casia/peak", "jaffe/peak", "mug/peak")
    assert (stage1.protocol.name, stage1.protocol.holdout, stage1.task.label_set) == (
        "pretrain", 0.1, "basic_5")  # fmt: skip
    assert (stage1.optimizer.name, stage1.optimizer.momentum, stage1.train.batch_size) == (
        "sgd", 0.9, 50)  # fmt: skip
    assert (stage1.optimizer.learning_rate, stage1.optimizer.decay_every_epochs) == (0.01, 20)
    settings = {arg: load(arg) for arg in ("megc2018", "megc2018,cde", "casme2")}
    got = {a: (c.protocol.name, c.train.batch_size, c.optimizer.learning_rate,
               c.optimizer.weight_decay) for a, c in settings.items()}  # fmt: skip
    assert got == {
        "megc2018": ("hde", 10, 1e-4, 3e-2),
        "megc2018,cde": ("cde", 8, 1e-3, 5e-6),
        "casme2": ("loso", 10, 1e-3, 5e-4),
    }
    assert settings["megc2018,cde"].input.crop_mode == "corners"
    for config in settings.values():
        assert (config.input.image_size, config.input.crop_size, config.input.gray) == (
            240, 224, True)  # fmt: skip
        assert config.train.balance_classes and config.task.label_set == "objective_5"
        assert config.train.balance_epoch == "largest"  # every class up to the largest
    assert load("smic").task.label_set == "emotion"


def test_key_settings_are_pinned():
    """A few fields of the paper, synthetic and tiny settings, pinned."""
    stapf = load_config(REPO / "configs" / "stapf.py", "casme2")
    assert (stapf.train.batch_size, stapf.optimizer.learning_rate, tuple(stapf.task.aus)) == (
        6, 0.01, (1, 2, 4, 6, 7, 9, 10, 12, 14, 15, 17))  # fmt: skip
    synth = load_config(REPO / "configs" / "stapf.py", "synth")
    assert (synth.optimizer.name, synth.model.width, synth.input.image_size) == ("adam", 0.25, 80)
    sca = load_config(REPO / "configs" / "sca.py", "samm")
    assert (sca.train.batch_size, sca.train.num_epochs, tuple(sca.task.aus)) == (
        64, 60, (2, 4, 7, 12))  # fmt: skip
    tiny = tiny_configs.tiny("stapf")
    assert (tiny.dataset.name, tiny.input.num_frames, tiny.model.name) == (
        "synth_me/tiny", 8, "i3d_classifier_tiny")  # fmt: skip
    assert (tuple(tiny.protocol.rounds), tiny.train.batch_size, tuple(tiny.task.aus)) == (
        (0, 1), 4, (4, 7))  # fmt: skip
    assert "width" not in tiny.model and tiny.is_locked


def test_no_runtime_module_imports_a_config_builder():
    """mejax.presets serves the config files only: no module of the package imports it."""
    for path in (REPO / "mejax").rglob("*.py"):
        if path.name == "presets.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            assert not any(name.endswith("presets") for name in names), (path, names)
