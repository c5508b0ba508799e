"""CAS(ME)³ part A builder on its dummy data: long videos (missing and damaged frames) and the
micro-expression clips config."""

import shutil

import numpy as np
import pytest
import tensorflow_datasets as tfds

from mejax.datasets import builder, labels, long_video, spotting_sheets
from mejax.datasets.casme3 import Casme3, casme3
from tests.datasets.long_video_helpers import build

DUMMY = Casme3.code_path.parent / "dummy_data"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build("casme3/faces_64", DUMMY, tmp_path_factory.mktemp("tfds"))


def test_frames_are_mapped_by_file_number(built):
    b, videos = built
    assert sorted(b.info.splits) == ["spNO1", "spNO216"]
    assert sorted(videos) == ["spNO1/spNO.1_a", "spNO1/spNO.1_b", "spNO216/spNO.216_a",
                              "spNO216/spNO.216_e"]  # fmt: skip
    video = videos["spNO1/spNO.1_a"]
    # 6 is missing, 5 is on the damaged list (unreadable: never read).
    assert video.frame_numbers.tolist() == [3, 4, 7, 8, 9, 10, 11, 12]
    assert video.position(7) == 2
    report = b.info.metadata["build_report"]
    assert report["frame_gaps"] == {"spNO1/spNO.1_a": [5, 6]}
    assert report["skipped_frames"] == {"spNO1/spNO.1_a": [5]}
    assert report["bad_quality_frames"] == {"spNO.1_b": 1}
    assert report["blinks"] == {"spNO.1_a": [[7, 8]]}
    assert report["videos_without_events"] == ["spNO216/spNO.216_a"]


def test_events_errata_and_emotions(built):
    b, videos = built
    macro, micro = videos["spNO216/spNO.216_e"].events
    assert (micro.onset, micro.apex, micro.offset) == (1, 1, 25)  # ZhouJu: onset, apex +1
    assert macro.onset == 0  # onset 0 kept: not annotated
    micro_a = [e for e in videos["spNO1/spNO.1_a"].events if e.type == "micro"]
    assert micro_a == [long_video.Event(4, 6, 9, "micro", "disgust", "4")]
    assert [e.type for e in videos["spNO1/spNO.1_b"].events] == ["micro", "macro"]  # 'B' -> b
    report = b.info.metadata["build_report"]
    assert report["num_events"] == {"micro": 3, "macro": 3, "subjects": 2, "videos": 3}
    assert report["micro_without_emotion"] == []


def test_an_unreadable_frame_off_the_damaged_list_is_named(tmp_path):
    root = tmp_path / "casme3"
    shutil.copytree(DUMMY, root)
    (root / "exception/error_info_damaged_image_partA.txt").unlink()
    with pytest.raises(ValueError, match=r"spNO.1/a/color/5.jpg: not a readable image"):
        build("casme3/faces_64", root, tmp_path / "tfds")


def test_a_missing_video_folder_is_named(tmp_path):
    root = tmp_path / "casme3"
    shutil.copytree(DUMMY, root)
    shutil.rmtree(root / "RGB/spNO.216/e")
    with pytest.raises(builder.MissingFilesError, match=r"spNO.216/e/color"):
        casme3.videos(root)


def test_me_clips(tmp_path):
    b = tfds.builder("casme3/me_faces", data_dir=str(tmp_path))
    b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(DUMMY)))
    examples = {e["clip"].decode(): e for e in tfds.as_numpy(b.as_dataset(split="all"))}
    assert sorted(examples) == ["spNO.1_a_4", "spNO.1_b_2", "spNO.216_e_1"]
    clip = examples["spNO.1_a_4"]
    # Files 4, 7, 8, 9 of onset 4..offset 9 (5 damaged, 6 missing); apex 6 -> 7, the nearest.
    assert clip["frames"].shape[0] == 4
    assert (clip["onset"], clip["apex"], clip["offset"]) == (0, 1, 3)
    assert examples["spNO.1_b_2"]["emotion"].decode() == "others"  # 'Others'
    report = b.info.metadata["build_report"]
    (excluded,) = report["excluded"]
    assert excluded["text"] == "spNO.2/e 138-143-148" and "occluded" in excluded["reason"]
    assert len(report["frames_moved"]) == 2
    emotions = [e["emotion"].decode() for e in examples.values()]
    classes = labels.class_names("casme3_4", emotions, np.array([]))
    assert labels.class_labels("casme3_4", classes, emotions, np.array([])).tolist() == [0, 3, 3]


def test_exception_list_formats(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("spNO.3 J 498.jpg  the image cannot open\n/x/RGB/spNO.3/j/color/7.jpg\n")
    assert spotting_sheets.casme3_frame_list(path) == {"spNO.3_j": [7, 498]}
    path.write_text("spNO.3 498\n")
    with pytest.raises(ValueError, match="list.txt, line 1"):
        spotting_sheets.casme3_frame_list(path)
