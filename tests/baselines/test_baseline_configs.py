"""Every baseline config loads with every argument, is locked, and its descriptor runs on
clips of its input size."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from mejax import presets, protocols
from mejax.baselines import descriptors, svm
from tests import tiny_configs

REPO = Path(__file__).resolve().parents[2]
BASELINES = {
    "lbp_top": 3 * 59,
    "lbp_sip": 20,
    "lpq_top": 3 * 256,
    "hog3d": 20,
    "hog3d_polikovsky": 16,
    "hoof": 8,
}


def load_config(stem, arg):
    path = REPO / "configs" / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(f"baseline_config_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg)


def test_baseline_configs_have_a_baseline_block():
    for path in sorted((REPO / "configs").glob("*.py")):
        config = load_config(path.stem, None)
        assert ("baseline" in config) == (path.stem in BASELINES), path.stem


@pytest.mark.parametrize("stem", sorted(BASELINES))
@pytest.mark.parametrize("arg", [None, *presets.ARGS, "casme2,sca", "sca,samm", "synth,mer"])
def test_config_loads(stem, arg):
    config = load_config(stem, arg)
    assert config.is_locked
    with pytest.raises(AttributeError):
        config.baseline.not_a_field = 1
    assert config.baseline.descriptor.name == stem
    descriptors.make(config.baseline.descriptor, config.baseline.blocks)  # parameters valid
    svm.Settings.from_config(config.baseline.classifier)
    assert config.protocol.name in protocols.PROTOCOLS
    assert config.input.temporal_model == "tim"
    if arg == "synth,mer":
        assert config.task.label_set == "emotion" and config.protocol.name == "loso"
        assert "aus" not in config.task
    else:
        assert len(config.task.aus) >= 2


@pytest.mark.parametrize("stem", sorted(BASELINES))
@pytest.mark.parametrize("arg", ["tiny", "synth", "casme2"])
def test_descriptor_runs_on_clips_of_the_config(stem, arg):
    config = tiny_configs.tiny(stem) if arg == "tiny" else load_config(stem, arg)
    size, frames = config.input.image_size, config.input.num_frames
    clip = np.random.default_rng(0).integers(0, 256, (frames, size, size, 3), dtype=np.uint8)
    if arg == "casme2" and stem == "hoof":
        clip = clip[:2]  # Farneback on 224^2 noise is the slow part: one pair will do
    vector = descriptors.make(config.baseline.descriptor, config.baseline.blocks)(clip)
    rows, cols, segments = config.baseline.blocks
    assert vector.shape == (rows * cols * segments * BASELINES[stem],)
    assert np.all(np.isfinite(vector))


def test_paper_settings():
    for stem in BASELINES:
        for database in presets.PAPER_AUS:
            config = load_config(stem, database)
            assert config.dataset.name == presets.PAPER_DATASETS[database]
            assert tuple(config.task.aus) == presets.PAPER_AUS[database]
            assert (config.input.num_frames, config.input.image_size) == (10, 224)
            assert tuple(config.baseline.blocks) == (5, 5, 1)
            assert config.protocol.name == "stap_two_fold"
            assert tuple(config.protocol.rounds) == (0, 1, 2, 3)
            classifier = config.baseline.classifier
            if stem in ("lbp_top", "lpq_top"):  # STAP's rows: C = 1000
                assert (classifier.c_selection, classifier.fixed_c) == ("fixed", 1000.0)
            else:
                assert classifier.c_selection == "validation"
            sca = load_config(stem, f"{database},sca")
            assert sca.protocol.name == "subject_kfold"
            assert sca.baseline.classifier.c_selection == "validation"
            assert tuple(sca.baseline.classifier.log10_c) == (-3, -2, -1, 0, 1, 2, 3)
    radii = load_config("lbp_top", "casme2").baseline.descriptor
    assert tuple(radii.radii) == (3, 3, 3) and tuple(radii.neighbours) == (8, 8, 8)
    assert radii.mapping == "u2"


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown config argument"):
        load_config("lbp_top", "casme3")
    with pytest.raises(ValueError, match="two tokens of the group 'setting', 'sca' and 'mer'"):
        load_config("lbp_top", "casme2,sca,mer")
    with pytest.raises(ValueError, match="database 'smic' is not one this config takes"):
        load_config("lbp_top", "smic,mer")
    assert load_config("lbp_top", "mer,casme2") == load_config("lbp_top", "casme2,mer")


def test_megc2019_is_a_recognition_database():
    config = load_config("lbp_top", "megc2019,mer")
    assert (config.dataset.name, config.protocol.name) == ("megc2019/cropped", "megc2019_loso")
    assert config.task.label_set == "megc2019"
    with pytest.raises(ValueError, match="megc2019 is a recognition database"):
        load_config("lbp_top", "megc2019")


@pytest.mark.parametrize("protocol", ["hde", "cde"])
def test_megc2018_objective_classes_under_hde_and_cde(protocol):
    """The hand-crafted rows of MER-auGCN's Table VI and Micro-Attention's Tables 2 and 4."""
    config = load_config("lbp_top", f"megc2018,{protocol}")
    assert (config.dataset.name, config.protocol.name) == ("megc2018/cropped", protocol)
    assert (config.task.name, config.task.label_set) == ("mer", "objective_5")
    with pytest.raises(ValueError, match="hde and cde are the protocols of megc2018"):
        load_config("lbp_top", "megc2018")
    with pytest.raises(ValueError, match="hde and cde are the protocols of megc2018"):
        load_config("lbp_top", f"casme2,{protocol}")
