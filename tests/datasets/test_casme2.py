"""CASME II builder on its dummy data (synthetic pixels, invented rows in the real format)."""

import shutil

import pytest
import tensorflow_datasets as tfds

from mejax.datasets import aus, builder
from mejax.datasets.casme2 import Casme2


class Casme2Test(tfds.testing.DatasetBuilderTestCase):
    """Both frame variants with the 2019 coding sheet."""

    DATASET_CLASS = Casme2
    BUILDER_CONFIG_NAMES_TO_TEST = ["cropped", "raw"]
    SPLITS = {"sub01": 2, "sub02": 1, "sub04": 1}


class Casme2CodingOf2014Test(tfds.testing.DatasetBuilderTestCase):
    """The 2014 sheet: the clip coded '?' is kept out."""

    DATASET_CLASS = Casme2
    BUILDER_CONFIG_NAMES_TO_TEST = ["cropped_2014"]
    SPLITS = {"sub01": 2, "sub02": 1, "sub04": 1}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("tfds")
    b = tfds.builder("casme2/cropped", data_dir=str(data_dir))
    b.download_and_prepare(
        download_config=tfds.download.DownloadConfig(
            manual_dir=str(Casme2.code_path.parent / "dummy_data")
        )
    )
    examples = {ex["clip"].decode(): ex for ex in tfds.as_numpy(b.as_dataset(split="all"))}
    return b, examples


def test_labels_frames_and_errata(built):
    b, examples = built
    ex = examples["EP01_01"]
    assert ex["frames"].shape == (4, 12, 16, 3)
    assert (ex["onset"], ex["apex"], ex["offset"]) == (0, 2, 3)
    assert ex["au_code"].decode() == "4+L10"
    assert [au for au, on in zip(aus.AU_VOCAB, ex["aus"], strict=True) if on] == [4, 10]
    assert aus.OBJECTIVE_CLASSES[ex["objective_class"]] == "VII"
    assert ex["emotion"].decode() == "disgust" and ex["fps"] == 200.0
    assert examples["EP02_03f"]["au_code"].decode() == "12"  # a numeric cell
    assert examples["EP12_01f"]["apex"] == builder.NOT_ANNOTATED  # erratum: '/' apex
    report = b.info.metadata["build_report"]
    assert any("EP12_01f apex" in line for line in report["errata_applied"])


def test_missing_folders_are_listed_together(tmp_path):
    root = tmp_path / "casme2"
    shutil.copytree(Casme2.code_path.parent / "dummy_data", root)
    shutil.rmtree(root / "Cropped" / "sub01")
    shutil.rmtree(root / "Cropped" / "sub04" / "EP12_01f")
    b = tfds.builder("casme2/cropped", data_dir=str(tmp_path / "tfds"))
    with pytest.raises(builder.MissingFilesError) as error:
        b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(root)))
    missing = {p.relative_to(root).as_posix() for p in error.value.missing}
    assert missing == {"Cropped/sub01/EP01_01", "Cropped/sub01/EP02_03f", "Cropped/sub04/EP12_01f"}
    assert "Cropped/sub01/EP02_03f" in str(error.value).replace("\\", "/")


def test_missing_coding_sheet_and_frames_folder_are_listed(tmp_path):
    b = tfds.builder("casme2/raw", data_dir=str(tmp_path / "tfds"))
    with pytest.raises(builder.MissingFilesError) as error:
        b.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=str(tmp_path))
        )
    names = sorted(p.name for p in error.value.missing)
    assert names == ["CASME2-coding-20190701.xlsx", "CASME2_RAW_selected"]
