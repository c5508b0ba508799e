"""STAP's cross-database protocol (Sec. IV-E, Tables VI and VII): the configs of all six orders
of CASME II, CASME and SAMM, and a STAPF and an LBP-TOP run on the dummy data of the three
builders, gathered into the Tables VI/VII layout."""

import itertools
from pathlib import Path

import ml_collections
import pytest
import tensorflow_datasets as tfds

from mejax import config_args, cross_database_table, experiment, paper_sets, presets
from mejax.datasets.casme import Casme
from mejax.datasets.casme2 import Casme2
from mejax.datasets.samm import Samm
from mejax.weights import pretrained

CONFIGS = Path(__file__).parents[1] / "configs"
ORDERS = list(itertools.permutations(("casme2", "casme", "samm")))
# The dummy data's builds (synthetic pixels, invented rows in the real sheet formats); CASME and
# SAMM as frames, not the paper settings' face crops (tested in tests/datasets/test_face_crops.py),
# which would add a face detector's seconds per clip.
DUMMY = {"casme2/cropped_2014": Casme2, "casme": Casme, "samm": Samm}


def load_config(name: str, arg: str) -> ml_collections.ConfigDict:
    return config_args.load_file(CONFIGS / f"{name}.py", arg)


def test_six_orders_with_the_seven_common_aus():
    assert len(presets.CROSS_ORDERS) == 6
    assert sorted(presets.CROSS_ORDERS.values()) == sorted(ORDERS)
    for name in ("stapf", "lbp_top"):
        for a, b, c in ORDERS:
            config = load_config(name, f"cross_{a}_{b}_{c}")
            assert config.protocol.to_dict() == {
                "name": "cross_database", "train": a, "validation": b, "test": c, "rounds": ()
            }  # fmt: skip
            assert config.dataset.name == presets.PAPER_DATASETS[a]
            assert list(config.dataset.extra) == [presets.PAPER_DATASETS[d] for d in (b, c)]
            assert tuple(config.task.aus) == (1, 2, 4, 9, 12, 14, 17)
            assert config.task.samples == "any_au"
    assert load_config("stapf", "cross_samm_casme2_casme").init_from == pretrained.KINETICS400
    # The paper's clip counts of the three databases under the protocol's sample rule.
    assert {d: s.num_samples for d, s in paper_sets.STAP_CROSS_DATABASE.items()} == {
        "casme2": 228, "casme": 154, "samm": 78
    }  # fmt: skip


def test_an_order_and_a_database_together_are_refused():
    with pytest.raises(ValueError, match="names its databases"):
        load_config("stapf", "casme2,cross_casme2_casme_samm")
    with pytest.raises(ValueError, match="takes no database or setting"):
        load_config("lbp_top", "cross_casme2_casme_samm,sca")


@pytest.fixture(scope="module")
def dummy_data_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("tfds")
    for name, builder_class in DUMMY.items():
        manual = builder_class.code_path.parent / "dummy_data"
        tfds.builder(name, data_dir=str(data_dir)).download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=str(manual))
        )
    return data_dir


def on_dummy_data(config, data_dir) -> ml_collections.ConfigDict:
    """``config`` reading the three dummy builds at 32^2, 8 frames."""
    config = config.unlock()
    config.dataset.data_dir = str(data_dir)
    config.dataset.extra = tuple(n for n in DUMMY if n != config.dataset.name)
    config.input.image_size, config.input.num_frames = 32, 8
    return config


def test_stapf_and_lbp_top_on_three_dummy_builders(dummy_data_dir, tmp_path):
    stapf = on_dummy_data(load_config("stapf", "cross_casme2_casme_samm"), dummy_data_dir)
    stapf.init_from = "none"
    del stapf.model["width"]
    stapf.model.name = "i3d_classifier_tiny"
    stapf.train.update(batch_size=2, eval_batch_size=4, num_epochs=1, log_every_steps=1)
    stapf.task.aus = (4, 12)  # two of the seven one-vs-rest detectors: half a minute on a CPU
    deep = experiment.run(stapf, tmp_path / "stapf")

    lbp = on_dummy_data(load_config("lbp_top", "cross_casme2_casme_samm"), dummy_data_dir)
    lbp.baseline.blocks = (2, 2, 1)
    lbp.baseline.cache_dir = str(tmp_path / "features")
    shallow = experiment.run(lbp, tmp_path / "lbp_top")

    for results in (deep, shallow):
        (round_,) = results["rounds"]
        assert (round_["train"], round_["validation"], round_["test"]) == (
            ["casme2"], ["casme"], ["samm"]
        )  # fmt: skip
        assert results["positives"]["AU12"] == 2
    # The four SAMM dummy clips all carry one of the seven AUs (AU4, AU12, AU14); with AUs 4
    # and 12 only, the sample rule keeps three.
    assert (shallow["num_test_clips"], deep["num_test_clips"]) == (4, 3)
    assert list(shallow["f1"]) == [f"AU{au}" for au in (1, 2, 4, 9, 12, 14, 17)]
    assert shallow["positives"]["AU1"] == 0

    with pytest.raises(ValueError, match="different AUs"):
        cross_database_table.markdown(
            cross_database_table.read([tmp_path / "stapf", tmp_path / "lbp_top"])
        )
    table = cross_database_table.markdown(cross_database_table.read([tmp_path / "lbp_top"]))
    assert "## LBP-TOP" in table and "## all-positive detector" in table
    lines = table.splitlines()
    # AUs as rows, the six orders as columns: this run's order first, the others blank.
    assert next(line for line in lines if line.startswith("| AU |")).startswith(
        "| AU | CASME II → CASME → SAMM |")  # fmt: skip
    row = next(line for line in lines if line.startswith("| AU12 |"))
    assert row == f"| AU12 | {shallow['f1']['AU12']:.3f} |" + "  |" * 5
    average = next(line for line in lines if line.startswith("| Avg |"))
    assert average == f"| Avg | **{shallow['average_f1']:.3f}** |" + "  |" * 5


def _result(experiment, order, f1):
    train, validation, test = order
    aus = ("AU1", "AU4")
    return {
        "experiment": experiment,
        "rounds": [{"train": [train], "validation": [validation], "test": [test]}],
        "f1": dict(zip(aus, f1, strict=True)),
        "average_f1": sum(f1) / 2,
        "f1_all_positive": dict.fromkeys(aus, 0.5),
        "average_f1_all_positive": 0.5,
    }


def test_table_lays_out_aus_as_rows_and_the_six_orders_as_columns():
    """STAP Tables VI and VII: a row per AU and the average, a column per train / validation /
    test order."""
    results = [_result("STAPF", order, (0.1 * k, 0.2)) for k, order in enumerate(ORDERS)]
    results.append(_result("LBP-TOP", ("samm", "casme", "casme2"), (0.0, 0.4)))
    table = cross_database_table.markdown(results).splitlines()
    header = table[table.index("## STAPF") + 2]
    columns = [cell.strip() for cell in header.split("|")[2:-1]]
    assert columns == [" → ".join(cross_database_table.NAMES[d] for d in o)
                       for o in presets.CROSS_ORDERS.values()]  # fmt: skip
    stapf = table[table.index("## STAPF") + 2 :]
    assert stapf[2] == "| AU1 | " + " | ".join(f"{0.1 * k:.3f}" for k in range(6)) + " |"
    assert stapf[3] == "| AU4 |" + " 0.200 |" * 6
    assert stapf[4].startswith("| Avg | **0.100** | **0.150** |")
    lbp = table[table.index("## LBP-TOP") + 2 :]
    column = list(presets.CROSS_ORDERS.values()).index(("samm", "casme", "casme2"))
    assert lbp[3].split("|")[2 + column].strip() == "0.400"
    assert sum(cell.strip() == "" for cell in lbp[3].split("|")[2:-1]) == 5
    with pytest.raises(ValueError, match="two runs of LBP-TOP"):
        cross_database_table.markdown([*results, results[-1]])


def test_table_refuses_other_protocols(tmp_path):
    (tmp_path / "results.json").write_text('{"protocol": "stap_two_fold"}')
    with pytest.raises(ValueError, match="not cross_database"):
        cross_database_table.read([tmp_path])
    with pytest.raises(FileNotFoundError, match="is the run finished"):
        cross_database_table.read([tmp_path / "missing"])
