"""CK+ builder on its dummy data (synthetic grey frames in the real layout)."""

import tensorflow_datasets as tfds

from mejax.datasets import aus
from mejax.datasets.ckplus import Ckplus


class CkplusTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Ckplus
    SPLITS = {"S005": 1, "S010": 1}  # S010/004 has no emotion file: kept out
    # The raw frames and the reduced flow of the macro source (the other variants run the same
    # code on other parameters; TV-L1 at 112^2 would take minutes here).
    BUILDER_CONFIG_NAMES_TO_TEST = ["frames", "flow_farneback_112_reduced"]


def test_labels(tmp_path):
    b = tfds.builder("ckplus", data_dir=str(tmp_path))
    manual = tfds.download.DownloadConfig(manual_dir=str(Ckplus.code_path.parent / "dummy_data"))
    b.download_and_prepare(download_config=manual)
    (ex,) = tfds.as_numpy(b.as_dataset(split="S005"))
    assert ex["emotion"].decode() == "disgust" and ex["au_code"].decode() == "9+17"
    assert [au for au, on in zip(aus.AU_VOCAB, ex["aus"], strict=True) if on] == [9, 17]
    assert (ex["onset"], ex["apex"], ex["offset"]) == (0, 3, 3)
    assert ex["frames"].shape == (4, 12, 16, 3)
    (excluded,) = b.info.metadata["build_report"]["excluded"]
    assert excluded["clip"] == "S010/004"
