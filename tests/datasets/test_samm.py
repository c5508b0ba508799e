"""SAMM builder on its dummy data (synthetic pixels, invented rows in the real format)."""

import pytest
import tensorflow_datasets as tfds

from mejax.datasets import aus
from mejax.datasets.samm import Samm

DUMMY = Samm.code_path.parent / "dummy_data"


class SammTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Samm
    BUILDER_CONFIG_NAMES_TO_TEST = ["frames", "apex_224"]  # raw clips, a cached variant
    SPLITS = {"006": 2, "028": 2}  # 028_3_9 ('soft focus', no AU) is kept out


def test_default_config_and_variant_names():
    assert tfds.builder("samm").builder_config.name == "frames"
    names = [c.name for c in Samm.BUILDER_CONFIGS]
    assert names[0] == "frames" and {"apex_224", "tim10_224", "flow_tvl1_28_aug70"} <= set(names)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    b = tfds.builder("samm", data_dir=str(tmp_path_factory.mktemp("tfds")))
    b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(DUMMY)))
    return b, {ex["clip"].decode(): ex for ex in tfds.as_numpy(b.as_dataset(split="all"))}


def test_grammar_errata_and_report(built):
    b, examples = built
    # 028_4_1: apex 1143 corrected to 1113, which is the second of its frames 1071/1072/1113/1134.
    assert (examples["028_4_1"]["onset"], examples["028_4_1"]["apex"]) == (0, 2)
    hot = dict(zip(aus.AU_VOCAB, examples["006_1_3"]["aus"], strict=True))
    assert hot[6] and hot[12] and hot[15]  # '(R6 or R12)+R15'
    hot = dict(zip(aus.AU_VOCAB, examples["028_2_2"]["aus"], strict=True))
    assert hot[12] and not hot[7]  # 'ref(7B)+12'
    assert examples["006_1_2"]["emotion"].decode() == "anger"
    report = b.info.metadata["build_report"]
    (excluded,) = report["excluded"]
    assert excluded["text"] == "soft focus" and excluded["row"] == 10
    assert len(report["errata_applied"]) == 1
