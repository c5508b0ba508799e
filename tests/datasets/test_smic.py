"""SMIC builder on its dummy data (synthetic pixels in the real folder layout)."""

import tensorflow_datasets as tfds

from mejax.datasets.smic import Smic


class SmicTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Smic
    BUILDER_CONFIG_NAMES_TO_TEST = ["hs", "nir_cropped", "hs_cropped_apex_224"]
    SPLITS = {"s01": 2, "s02": 1}


def test_labels_from_folders(tmp_path):
    b = tfds.builder("smic/vis", data_dir=str(tmp_path))
    manual = tfds.download.DownloadConfig(manual_dir=str(Smic.code_path.parent / "dummy_data"))
    b.download_and_prepare(download_config=manual)
    examples = {ex["clip"].decode(): ex for ex in tfds.as_numpy(b.as_dataset(split="all"))}
    assert sorted(examples) == ["s01_ne_01", "s01_po_02", "s02_sur_01"]
    ex = examples["s02_sur_01"]
    assert ex["emotion"].decode() == "surprise" and ex["subject"].decode() == "s02"
    assert (ex["onset"], ex["apex"], ex["offset"]) == (0, -1, 3) and ex["fps"] == 25.0
    assert not ex["aus"].any() and ex["objective_class"] == -1
