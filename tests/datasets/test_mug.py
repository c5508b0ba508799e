"""MUG builder on its dummy data (synthetic frames in the real folder layout)."""

import shutil

import numpy as np
import pytest
import tensorflow_datasets as tfds

from mejax.datasets import builder, readers
from mejax.datasets.mug import Mug, mug

DUMMY = Mug.code_path.parent / "dummy_data"
MANUAL = tfds.download.DownloadConfig(manual_dir=str(DUMMY))


class MugTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Mug
    BUILDER_CONFIG_NAMES_TO_TEST = ["frames"]
    SPLITS = {"001": 2, "002": 2}  # one clip per take; 002 has two sessions


class MugPeakTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Mug
    BUILDER_CONFIG_NAMES_TO_TEST = ["peak", "peak_apex_64"]
    SPLITS = {"001": 8 + 5, "002": 8 + 6}  # 8 frames around the apex; all of a shorter take


def test_peak_positions_are_the_8_around_the_middle():
    assert (mug.middle(10), list(mug.peak_positions(10))) == (4, [1, 2, 3, 4, 5, 6, 7, 8])
    assert (mug.middle(9), list(mug.peak_positions(9))) == (4, [1, 2, 3, 4, 5, 6, 7, 8])
    assert list(mug.peak_positions(100)) == list(range(46, 54))  # apex 49
    assert list(mug.peak_positions(5)) == [0, 1, 2, 3, 4]


def _examples(data_dir, name):
    b = tfds.builder(name, data_dir=str(data_dir))
    b.download_and_prepare(download_config=MANUAL)
    return {ex["clip"].decode(): ex for ex in tfds.as_numpy(b.as_dataset(split="all"))}


def test_labels_middle_apex_and_peak_frames(tmp_path):
    clips = _examples(tmp_path, "mug/frames")
    assert sorted(clips) == [
        "001_anger_take001",
        "001_happiness_take000",
        "002_session0_surprise_take000",
        "002_session1_neutral_take000",
    ]
    ex = clips["001_happiness_take000"]
    assert ex["emotion"].decode() == "happiness" and ex["subject"].decode() == "001"
    assert (ex["onset"], ex["apex"], ex["offset"]) == (0, 4, 9)  # apex: the middle of 10
    assert ex["frames"].shape == (10, 12, 16, 3) and ex["fps"] == 19.0
    assert not ex["aus"].any() and ex["objective_class"] == -1
    assert ex["database"].decode() == "mug"
    assert clips["002_session1_neutral_take000"]["emotion"].decode() == "neutral"
    peak = _examples(tmp_path, "mug/peak")
    names = sorted(c for c in peak if c.startswith("001_happiness_take000"))
    assert names == [f"001_happiness_take000_f{n:02d}" for n in range(1, 9)]
    one = peak["001_happiness_take000_f04"]
    assert (one["onset"], one["apex"], one["offset"]) == (0, 0, 0)
    np.testing.assert_array_equal(one["frames"][0], ex["frames"][4])


def test_missing_folder_is_named(tmp_path):
    root = tmp_path / "manual"
    shutil.copytree(DUMMY / "subjects3", root / "subjects")  # not the distributed name
    b = tfds.builder("mug", data_dir=str(tmp_path / "tfds"))
    with pytest.raises(builder.MissingFilesError) as error:
        b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(root)))
    assert [p.relative_to(root).as_posix() for p in error.value.missing] == ["subjects3"]


@pytest.mark.parametrize(
    "rename, expected",
    [
        (("001/happiness/take000", "001/happiness/take_a"), r"take_a: malformed folder name; "
         r"expected a take folder, take<number>"),
        (("001/anger", "001/angry"), r"angry: malformed folder name; expected one of anger, "
         r"disgust, .* or session<number>"),
        (("002", "subject2"), r"subject2: malformed folder name; expected a subject folder"),
        (("001/anger/take001/img_0002.jpg", "001/anger/take001/img_last.jpg"),
         r"img_last.jpg: malformed frame file name; expected <prefix><frame number>.jpg"),
    ],
)  # fmt: skip
def test_malformed_names_name_the_file_and_the_expectation(tmp_path, rename, expected):
    root = tmp_path / "manual"
    shutil.copytree(DUMMY, root)
    subjects = root / "subjects3"
    (subjects / rename[0]).rename(subjects / rename[1])
    b = tfds.builder("mug/peak", data_dir=str(tmp_path / "tfds"))
    with pytest.raises(readers.AnnotationError, match=expected):
        b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(root)))
