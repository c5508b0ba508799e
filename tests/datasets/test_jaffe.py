"""JAFFE builder on its dummy data (synthetic grey TIFF images in the real layout)."""

import shutil

import numpy as np
import pytest
import tensorflow_datasets as tfds

from mejax.datasets import builder, readers
from mejax.datasets.jaffe import Jaffe

DUMMY = Jaffe.code_path.parent / "dummy_data"


class JaffeTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Jaffe
    # peak holds the same examples as frames: every image, one frame each.
    BUILDER_CONFIG_NAMES_TO_TEST = ["frames", "peak", "peak_apex_64"]
    SPLITS = {"KA": 3, "KL": 2}


def test_labels_from_file_names_and_grey_as_rgb(tmp_path):
    b = tfds.builder("jaffe", data_dir=str(tmp_path))
    b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(DUMMY)))
    examples = {ex["clip"].decode(): ex for ex in tfds.as_numpy(b.as_dataset(split="all"))}
    assert sorted(examples) == ["KA.AN1.39", "KA.HA2.30", "KA.NE1.26", "KL.FE3.176", "KL.SU1.164"]
    emotions = {clip: ex["emotion"].decode() for clip, ex in examples.items()}
    assert emotions == {"KA.AN1.39": "anger", "KA.HA2.30": "happiness", "KA.NE1.26": "neutral",
                        "KL.FE3.176": "fear", "KL.SU1.164": "surprise"}  # fmt: skip
    ex = examples["KL.SU1.164"]
    assert ex["subject"].decode() == "KL" and ex["database"].decode() == "jaffe"
    assert (ex["onset"], ex["apex"], ex["offset"]) == (0, 0, 0) and ex["fps"] == 0.0
    assert not ex["aus"].any() and ex["au_code"].decode() == "" and ex["objective_class"] == -1
    frame = ex["frames"]
    assert frame.shape == (1, 12, 16, 3)
    np.testing.assert_array_equal(frame[..., 0], frame[..., 1])  # the grey channel, repeated
    np.testing.assert_array_equal(frame[..., 0], frame[..., 2])


def test_missing_folder_is_named(tmp_path):
    root = tmp_path / "manual"
    (root / "jaffe").mkdir(parents=True)  # not the distributed folder name
    b = tfds.builder("jaffe", data_dir=str(tmp_path / "tfds"))
    with pytest.raises(builder.MissingFilesError) as error:
        b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(root)))
    assert [p.relative_to(root).as_posix() for p in error.value.missing] == ["jaffedbase"]


@pytest.mark.parametrize("name", ["KA.XX1.40.tiff", "QQ.AN1.40.tiff", "KA.AN1.tiff"])
def test_malformed_file_name_names_the_file_and_the_expectation(tmp_path, name):
    root = tmp_path / "manual"
    shutil.copytree(DUMMY, root)
    (root / "jaffedbase" / "KA.AN1.39.tiff").rename(root / "jaffedbase" / name)
    (root / "jaffedbase" / "README.txt").write_text("not an image: ignored")
    b = tfds.builder("jaffe/peak", data_dir=str(tmp_path / "tfds"))
    expected = rf"{name}: malformed JAFFE file name; expected <subject>.<expression><take>"
    with pytest.raises(readers.AnnotationError, match=expected):
        b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(root)))
