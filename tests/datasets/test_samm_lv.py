"""SAMM-LV long-video builder on its dummy data (synthetic grey face frames, invented rows)."""

import shutil

import pytest

from mejax.datasets import builder, long_video, readers, spotting_sheets
from mejax.datasets.samm_lv import SammLv, samm_lv
from tests.datasets.long_video_helpers import build

DUMMY = SammLv.code_path.parent / "dummy_data"
SHEET = "SAMM_LongVideos_V1_Release.xlsx"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build("samm_lv/faces_64", DUMMY, tmp_path_factory.mktemp("tfds"))


def test_videos_frames_and_rules(built):
    b, videos = built
    assert sorted(b.info.splits) == ["006", "007"]
    assert sorted(videos) == ["006/006_1", "007/007_2"]
    video = videos["006/006_1"]
    assert (video.fps, len(video)) == (200.0, 10)  # 4-digit file numbers
    assert videos["007/007_2"].frame_numbers.tolist() == list(range(1, 10))  # 5-digit
    assert video.window(0, 1).shape == (1, 64, 64, 3)  # grey frames stored as RGB
    events = {(e.type, e.au_code): e for e in video.events}
    # 1.4 / 4.5 / 7.6 rounded half up; onset 0 kept (not annotated).
    assert events["macro", "4(B/C)+7B"] == long_video.Event(1, 5, 8, "macro", "", "4(B/C)+7B")
    assert events["macro", "12"].onset == 0
    apex_missing, *_ = videos["007/007_2"].events
    assert apex_missing.apex == long_video.NOT_ANNOTATED
    report = b.info.metadata["build_report"]
    assert report["sheet_used"] == SHEET
    assert report["names_used_twice"] == ["007_2_2: rows 9 and 10"]
    assert report["num_events"] == {"micro": 3, "macro": 3, "subjects": 2, "videos": 2}
    assert len(report["rules_applied"]) == 5  # 3 fractional frames, onset 0, apex -1


def test_round_half_up():
    assert [spotting_sheets.round_half_up(x) for x in (566.4, 647.5, 743.6, 2.0)] == [
        566,
        648,
        744,
        2,
    ]


@pytest.mark.parametrize("name", ["SAMM_LongVideos_V2_Release.xlsx", "SAMMLV_gt.xlsx"])
def test_the_sheet_may_have_either_release_name(tmp_path, name):
    root = tmp_path / "samm_lv"
    shutil.copytree(DUMMY, root)
    (root / SHEET).rename(root / name)
    sources, report = samm_lv.videos(root)
    assert report["sheet_used"] == name and len(sources) == 2


def test_missing_sheet_and_folder_are_named(tmp_path):
    root = tmp_path / "samm_lv"
    shutil.copytree(DUMMY, root)
    shutil.rmtree(root / "SAMM_longvideos/007_2")
    with pytest.raises(builder.MissingFilesError, match="007_2"):
        samm_lv.videos(root)
    (root / SHEET).unlink()
    with pytest.raises(builder.MissingFilesError, match="SAMM_LongVideos_V1_Release.xlsx"):
        samm_lv.videos(root)


def test_a_malformed_row_is_named(tmp_path):
    import openpyxl

    book = openpyxl.load_workbook(DUMMY / SHEET)
    book.worksheets[0]["H6"] = "Nano"
    book.save(tmp_path / SHEET)
    with pytest.raises(readers.AnnotationError, match=rf"{SHEET}, row 6, cell H6 \(Type\)"):
        spotting_sheets.samm_lv(tmp_path / SHEET)
