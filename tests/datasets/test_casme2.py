"""CASME II builder on its dummy data (synthetic pixels, invented rows in the real format)."""

import shutil

import numpy as np
import pytest
import tensorflow_datasets as tfds

from mejax.datasets import aus, builder
from mejax.datasets.casme2 import Casme2, casme2
from mejax.preprocess import cached


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


class Casme2CachedVariantsTest(tfds.testing.DatasetBuilderTestCase):
    """Cached variants of the cropped frames: TIM and (batched TV-L1) flow."""

    DATASET_CLASS = Casme2
    BUILDER_CONFIG_NAMES_TO_TEST = ["cropped_tim10_112", "cropped_flow_tvl1_28"]
    SPLITS = {"sub01": 2, "sub02": 1, "sub04": 1}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The dummy frames are 12x16: the flow is computed at 28x28 in batches of 4 (the real
        # builds use builder.FLOW_WORK_SIZE and FLOW_BATCH_SIZE) to keep the test quick.
        cls._saved = builder.FLOW_WORK_SIZE, builder.FLOW_BATCH_SIZE
        builder.FLOW_WORK_SIZE, builder.FLOW_BATCH_SIZE = 28, 4

    @classmethod
    def tearDownClass(cls):
        builder.FLOW_WORK_SIZE, builder.FLOW_BATCH_SIZE = cls._saved
        super().tearDownClass()


def test_variant_configs_and_missing_apex(tmp_path):
    names = {c.name for c in Casme2.BUILDER_CONFIGS}
    assert {"cropped", "raw", "cropped_2014"} <= names  # the frames configs are kept
    assert {"cropped_tim10_224", "cropped_flow_tvl1_28_aug70", "cropped_2014_apex_224"} <= names
    b = tfds.builder("casme2/cropped_apex_224", data_dir=str(tmp_path))
    b.download_and_prepare(
        download_config=tfds.download.DownloadConfig(
            manual_dir=str(Casme2.code_path.parent / "dummy_data")
        )
    )
    examples = {ex["clip"].decode(): ex for ex in tfds.as_numpy(b.as_dataset(split="all"))}
    assert "frames" not in examples["EP01_01"]
    assert examples["EP01_01"]["apex_frame"].shape == (224, 224, 3)
    # EP12_01f has no apex: the middle frame stands in; the label stays -1 and is reported.
    ex = examples["EP12_01f"]
    assert ex["apex"] == builder.NOT_ANNOTATED and (ex["onset"], ex["offset"]) == (0, 3)
    clip = next(c for c in _dummy_clips() if c.sample.clip == "EP12_01f")
    middle = builder.read_clip(clip)["frames"][(0 + 3) // 2]
    np.testing.assert_array_equal(ex["apex_frame"], cached._resize(middle, 224))
    assert b.info.metadata["build_report"]["apex_substituted"] == ["sub04_EP12_01f"]


def _dummy_clips():
    root = Casme2.code_path.parent / "dummy_data"
    return casme2.clips(root, "cropped", casme2.CODING_2019)[0]


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
