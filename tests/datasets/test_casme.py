"""CASME builder on its dummy data (synthetic pixels, invented rows in the real format)."""

import json
import shutil

import pytest
import tensorflow_datasets as tfds

from mejax.datasets import aus, builder, readers, stats
from mejax.datasets.casme import Casme

DUMMY = Casme.code_path.parent / "dummy_data"


class CasmeTest(tfds.testing.DatasetBuilderTestCase):
    """Both sections; sub03/EP10 (AU '?') is kept out."""

    DATASET_CLASS = Casme
    BUILDER_CONFIG_NAMES_TO_TEST = ["frames"]  # the face configs: tests/datasets/test_face_crops.py
    SPLITS = {"sub01": 2, "sub03": 1, "sub08": 1, "sub19": 1}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    b = tfds.builder("casme", data_dir=str(tmp_path_factory.mktemp("tfds")))
    b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(DUMMY)))
    examples = {ex["clip"].decode(): ex for ex in tfds.as_numpy(b.as_dataset(split="all"))}
    return b, examples


def test_labels_frames_and_backslash_cells(built):
    b, examples = built
    ex = examples["EP01_5"]
    assert ex["frames"].shape == (5, 144, 144, 3)  # full frames (the dummy face frames' size)
    assert (ex["onset"], ex["apex"], ex["offset"]) == (0, 2, 4)
    assert ex["au_code"].decode() == "4+L10" and ex["subject"].decode() == "sub01"
    assert [au for au, on in zip(aus.AU_VOCAB, ex["aus"], strict=True) if on] == [4, 10]
    assert ex["emotion"].decode() == "disgust" and ex["fps"] == 60.0
    assert ex["objective_class"] == aus.NO_OBJECTIVE_CLASS
    # OffsetF '\': not annotated, the offset is the clip's last frame.
    assert (examples["EP03_2"]["apex"], examples["EP03_2"]["offset"]) == (1, 3)
    # '<clip>-<N>.jpg' frame names are ordered by N.
    assert (examples["EP09_4"]["onset"], examples["EP09_4"]["offset"]) == (0, 3)
    assert examples["EP12_3"]["subject"].decode() == "sub19"
    report = b.info.metadata["build_report"]
    assert report["file"] == ["CASME_A_Section_coding.xls", "CASME_B_Section_coding.xls"]
    (excluded,) = report["excluded"]
    assert (excluded["file"], excluded["row"], excluded["text"]) == (
        "CASME_A_Section_coding.xls", 5, "?"
    )  # fmt: skip


def test_reader_of_the_xls_sheet():
    annotations = readers.casme(DUMMY / "CASME_B_Section_coding.xls")
    sample = annotations.samples[0]
    assert (sample.subject, sample.clip) == ("sub08", "EP02_01")
    assert (sample.onset, sample.apex, sample.offset) == (40, 42, 44)
    assert readers.sniff(DUMMY / "CASME_A_Section_coding.xls") == "casme"


def test_stats_of_the_dummy_sheets(capsys):
    sheets = [str(DUMMY / f"CASME_{s}_Section_coding.xls") for s in "AB"]
    assert stats.main(["--database", "casme", "--annotations", *sheets]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["num_samples"], result["num_subjects"]) == (5, 4)
    assert result["emotion_counts"]["tense"] == 1 and len(result["excluded"]) == 1


def test_missing_paths_are_listed_together(tmp_path):
    root = tmp_path / "casme"
    shutil.copytree(DUMMY, root)
    shutil.rmtree(root / "CASME_A" / "Section A" / "sub01")
    shutil.rmtree(root / "CASME_B" / "Section B" / "sub19" / "EP12_3")
    b = tfds.builder("casme", data_dir=str(tmp_path / "tfds"))
    with pytest.raises(builder.MissingFilesError) as error:
        b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(root)))
    missing = {p.relative_to(root).as_posix() for p in error.value.missing}
    assert missing == {
        "CASME_A/Section A/sub01/EP01_5",
        "CASME_A/Section A/sub01/EP03_2",
        "CASME_B/Section B/sub19/EP12_3",
    }


def test_missing_sheets_and_sections_are_listed(tmp_path):
    b = tfds.builder("casme", data_dir=str(tmp_path / "tfds"))
    with pytest.raises(builder.MissingFilesError) as error:
        b.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=str(tmp_path))
        )
    names = sorted(p.relative_to(tmp_path).as_posix() for p in error.value.missing)
    assert names == [
        "CASME_A/Section A",
        "CASME_A_Section_coding.xls",
        "CASME_B/Section B",
        "CASME_B_Section_coding.xls",
    ]
