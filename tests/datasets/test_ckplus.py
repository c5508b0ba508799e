"""CK+ builder on its dummy data (synthetic grey frames in the real layout)."""

import numpy as np
import tensorflow_datasets as tfds

from mejax.datasets import aus
from mejax.datasets.ckplus import Ckplus


class CkplusTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Ckplus
    SPLITS = {"S005": 1, "S010": 1}  # S010/004 has no emotion file: kept out
    # The raw frames and the reduced flow of the macro source (the other variants run the same
    # code on other parameters; TV-L1 at 112^2 would take minutes here).
    BUILDER_CONFIG_NAMES_TO_TEST = ["frames", "flow_farneback_112_reduced"]


class CkplusPeakTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Ckplus
    BUILDER_CONFIG_NAMES_TO_TEST = ["peak", "peak_apex_224"]
    SPLITS = {"S005": 3, "S010": 3}  # the last 3 of the 4 frames of each labelled sequence


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


def test_peak_frames_are_the_last_three(tmp_path):
    manual = tfds.download.DownloadConfig(manual_dir=str(Ckplus.code_path.parent / "dummy_data"))
    examples = {}
    for config in ("frames", "peak"):
        b = tfds.builder(f"ckplus/{config}", data_dir=str(tmp_path))
        b.download_and_prepare(download_config=manual)
        examples |= {ex["clip"].decode(): ex for ex in tfds.as_numpy(b.as_dataset(split="S005"))}
    assert sorted(examples) == ["S005_001", "S005_001_f02", "S005_001_f03", "S005_001_f04"]
    for position, number in enumerate((2, 3, 4), start=1):
        one = examples[f"S005_001_f{number:02d}"]
        assert (one["onset"], one["apex"], one["offset"]) == (0, 0, 0)
        assert one["emotion"].decode() == "disgust" and one["au_code"].decode() == "9+17"
        np.testing.assert_array_equal(one["frames"][0], examples["S005_001"]["frames"][position])
