"""Oulu-CASIA builder on its dummy data (synthetic frames in the real folder layout)."""

import shutil

import numpy as np
import pytest
import tensorflow_datasets as tfds

from mejax.datasets import builder, readers
from mejax.datasets.oulu_casia import OuluCasia

DUMMY = OuluCasia.code_path.parent / "dummy_data"
MANUAL = tfds.download.DownloadConfig(manual_dir=str(DUMMY))


class OuluCasiaTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = OuluCasia
    BUILDER_CONFIG_NAMES_TO_TEST = ["frames"]
    SPLITS = {"P001": 6, "P002": 6}  # one clip per expression folder


class OuluCasiaPeakTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = OuluCasia
    BUILDER_CONFIG_NAMES_TO_TEST = ["peak", "peak_apex_64"]
    SPLITS = {"P001": 18, "P002": 17}  # the last 3 frames of each; P002/Surprise has 2


def _examples(data_dir, name):
    b = tfds.builder(name, data_dir=str(data_dir))
    b.download_and_prepare(download_config=MANUAL)
    return {ex["clip"].decode(): ex for ex in tfds.as_numpy(b.as_dataset(split="all"))}


def test_labels_phases_and_peak_frames(tmp_path):
    clips = _examples(tmp_path, "oulu_casia/frames")
    ex = clips["P001_Anger"]
    assert ex["emotion"].decode() == "anger" and ex["subject"].decode() == "P001"
    assert (ex["onset"], ex["apex"], ex["offset"]) == (0, 3, 3)
    assert ex["frames"].shape == (4, 12, 16, 3) and ex["fps"] == 25.0
    assert not ex["aus"].any() and ex["au_code"].decode() == "" and ex["objective_class"] == -1
    assert ex["database"].decode() == "oulu_casia"
    peak = _examples(tmp_path, "oulu_casia/peak")
    assert sorted(c for c in peak if c.startswith("P001_Anger")) == [
        "P001_Anger_f01", "P001_Anger_f02", "P001_Anger_f03"
    ]  # fmt: skip
    assert sorted(c for c in peak if c.startswith("P002_Surprise")) == [
        "P002_Surprise_f00", "P002_Surprise_f01"
    ]  # fmt: skip
    one = peak["P001_Anger_f02"]
    assert (one["onset"], one["apex"], one["offset"]) == (0, 0, 0)
    np.testing.assert_array_equal(one["frames"][0], ex["frames"][2])
    assert one["emotion"].decode() == "anger" and one["subject"].decode() == "P001"


def test_missing_folders_are_listed_together(tmp_path):
    root = tmp_path / "oulu"
    shutil.copytree(DUMMY, root)
    strong = root / "OriginalImg" / "VL" / "Strong"
    shutil.rmtree(strong / "P001" / "Fear")
    shutil.rmtree(strong / "P002" / "Sadness")
    b = tfds.builder("oulu_casia", data_dir=str(tmp_path / "tfds"))
    with pytest.raises(builder.MissingFilesError) as error:
        b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(root)))
    missing = {p.relative_to(strong).as_posix() for p in error.value.missing}
    assert missing == {"P001/Fear", "P002/Sadness"}
    assert "P002/Sadness" in str(error.value).replace("\\", "/")
    nir_only = tmp_path / "nir_only"
    (nir_only / "OriginalImg" / "NI" / "Strong").mkdir(parents=True)
    with pytest.raises(builder.MissingFilesError) as error:
        b.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=str(nir_only))
        )
    assert [p.relative_to(nir_only).as_posix() for p in error.value.missing] == [
        "OriginalImg/VL/Strong"
    ]


@pytest.mark.parametrize(
    "rename, expected",
    [
        (("P001/Anger", "P001/Angry"), r"Angry: malformed expression folder name; expected one of "
         r"Anger, Disgust"),
        (("P002", "S002"), r"S002: malformed subject folder name; expected P<3 digits>"),
        (("P001/Anger/001.jpeg", "P001/Anger/frame.jpeg"), r"frame.jpeg: malformed frame file "
         r"name; expected <frame number>.jpeg"),
    ],
)  # fmt: skip
def test_malformed_names_name_the_file_and_the_expectation(tmp_path, rename, expected):
    root = tmp_path / "oulu"
    shutil.copytree(DUMMY, root)
    strong = root / "OriginalImg" / "VL" / "Strong"
    (strong / rename[0]).rename(strong / rename[1])
    b = tfds.builder("oulu_casia/peak", data_dir=str(tmp_path / "tfds"))
    with pytest.raises(readers.AnnotationError, match=expected):
        b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(root)))
