"""CAS(ME)² long-video builder on its dummy data (synthetic face frames, invented rows)."""

import shutil

import numpy as np
import openpyxl
import pytest

from mejax.datasets import builder, long_video, readers, spotting_sheets
from mejax.datasets.casme_sq import CasmeSq
from tests.datasets.long_video_helpers import build

DUMMY = CasmeSq.code_path.parent / "dummy_data"
SHEET = "CAS(ME)^2code_final.xlsx"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build("casme_sq/faces_64", DUMMY, tmp_path_factory.mktemp("tfds"))


def test_one_example_per_video_folder_split_by_subject(built):
    b, videos = built
    assert sorted(b.info.splits) == ["s15", "s30"]
    assert sorted(videos) == ["s15/15_0101", "s15/15_0401", "s30/30_0401", "s30/30_0502"]
    video = videos["s15/15_0101"]
    assert (video.fps, video.database, len(video)) == (30.0, "casme_sq", 8)
    assert video.frame_numbers.tolist() == list(range(1, 9))
    assert video.window(0, 3).shape == (3, 64, 64, 3)
    assert videos["s30/30_0502"].events == []  # a video without events is kept


def test_rules_and_errata(built):
    b, videos = built
    micro, offset_zero = videos["s15/15_0101"].events
    assert micro == long_video.Event(2, 4, 6, "micro", "disgust", "4+7")
    assert (offset_zero.apex, offset_zero.offset) == (7, 7)  # offset 0 -> the apex
    (apex_zero,) = videos["s15/15_0401"].events
    assert apex_zero.apex == 6  # apex 0 -> the midpoint of 3 and 9
    (typo,) = videos["s30/30_0401"].events
    assert typo.emotion == "happiness"
    report = b.info.metadata["build_report"]
    assert any("happyiness" in line for line in report["errata_applied"])
    assert len(report["rules_applied"]) == 2
    assert report["num_events"] == {"micro": 1, "macro": 3, "subjects": 2, "videos": 3}
    assert report["videos_without_events"] == ["s30/30_0502"]
    assert sorted(report["face_crops"]) == sorted(videos)


def test_the_stored_frames_are_the_one_box_resized(built):
    b, videos = built
    entry = b.info.metadata["build_report"]["face_crops"]["s15/15_0401"]
    files = builder.frame_files(DUMMY / "rawpic/s15/15_0401anger")
    import cv2

    from mejax.preprocess import face

    crop = face.apply_crop(builder.read_frame(files[4][1])[None], entry)[0]
    expected = cv2.resize(crop, (64, 64), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(videos["s15/15_0401"].window(4, 5)[0], expected)


def test_a_missing_video_folder_is_named(tmp_path):
    root = tmp_path / "casme_sq"
    shutil.copytree(DUMMY, root)
    shutil.rmtree(root / "rawpic/s30/30_0401anger")
    from mejax.datasets.casme_sq import casme_sq

    with pytest.raises(builder.MissingFilesError, match="30_0401"):
        casme_sq.videos(root)
    (root / SHEET).unlink()
    with pytest.raises(builder.MissingFilesError, match="CASME_sq_gt.xlsx"):
        casme_sq.videos(root)


@pytest.mark.parametrize(
    "cell, value, message",
    [
        ("C2", "x", r"row 2, cell C2 \(onset\): expected a frame number"),
        ("B3", "nosuch1_2", r"row 3, cell B3 \(expression name\)"),
        ("H1", "mega-expression", r"row 1, cell H1 \(type\)"),
        ("E1", 3, r"expected onset <= apex <= offset"),
    ],
)
def test_a_malformed_row_names_file_row_and_cell(tmp_path, cell, value, message):
    book = openpyxl.load_workbook(DUMMY / SHEET)
    book["CASFEcode_final"][cell] = value
    book.save(tmp_path / SHEET)
    with pytest.raises(readers.AnnotationError, match=message):
        spotting_sheets.casme_sq(tmp_path / SHEET)


def test_naming_rule1_must_match_its_row(tmp_path):
    book = openpyxl.load_workbook(DUMMY / SHEET)
    book["naming rule1"]["C4"] = 7
    book.save(tmp_path / SHEET)
    with pytest.raises(readers.AnnotationError, match="'naming rule1', row 4"):
        spotting_sheets.casme_sq(tmp_path / SHEET)
