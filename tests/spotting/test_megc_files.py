"""Reading and writing MEGC spotting files: the shipped examples round-trip, tiny written files,
and malformed rows named by file and line."""

from pathlib import Path

import pytest
from conftest import SHARED

from mejax.spotting.evaluation import Interval, evaluate_databases
from mejax.spotting.megc_files import (
    MegcFileError,
    read_megc2020_baseline,
    read_megc2022,
    read_megc2023,
    read_str,
    write_megc2022,
    write_megc2023,
    write_str,
)

EXAMPLES = SHARED / "annotations" / "MEGC-spotting"
needs_examples = pytest.mark.skipif(not EXAMPLES.exists(), reason="needs the shared annotations")


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# --- tiny written files ----------------------------------------------------------------------


def test_megc2022_tiny_round_trip(tmp_path):
    text = "vid,pred_onset,pred_offset,type\nsub01,1785,1799,me\nsub01,44,114,mae\n006_1,5,5,me\n"
    path = write(tmp_path / "cas_pred.csv", text)
    intervals = read_megc2022(path)
    assert intervals == {
        "sub01": [Interval(1785, 1799, "micro"), Interval(44, 114, "macro")],
        "006_1": [Interval(5, 5, "micro")],
    }
    write_megc2022(tmp_path / "out.csv", intervals)
    assert (tmp_path / "out.csv").read_text() == text


def test_megc2023_tiny_round_trip(tmp_path):
    text = "vid,onset,offset,type\ndzw_d1,6,46,mae\ndzw_s3,9,22,me\n"
    intervals = read_megc2023(write(tmp_path / "cas_pred.csv", text))
    assert intervals == {"dzw_d1": [Interval(6, 46, "macro")], "dzw_s3": [Interval(9, 22, "micro")]}
    write_megc2023(tmp_path / "out.csv", intervals)
    assert (tmp_path / "out.csv").read_text() == text
    # The two submission headers are not interchangeable.
    with pytest.raises(MegcFileError, match="header vid,pred_onset,pred_offset,type"):
        read_megc2022(tmp_path / "out.csv")


def test_str_tiny_round_trip(tmp_path):
    text = (
        "subject,video,onset,offset,emotion\n"
        "1,EP02_01f,7,75,happiness\n1,EP04_03,-3,65,others\n17,017_3,316,428,positive\n"
    )
    intervals = read_str(write(tmp_path / "pred.csv", text))
    assert intervals == {
        "1/EP02_01f": [Interval(7, 75, "micro", emotion="happiness")],
        "1/EP04_03": [Interval(-3, 65, "micro", emotion="others")],
        "17/017_3": [Interval(316, 428, "micro", emotion="positive")],
    }
    write_str(tmp_path / "out.csv", intervals)
    assert (tmp_path / "out.csv").read_text() == text
    assert read_str(tmp_path / "out.csv", type="macro")["1/EP02_01f"][0].type == "macro"
    with pytest.raises(ValueError, match="subject/video"):
        write_str(tmp_path / "bad.csv", {"EP02_01f": [Interval(1, 2, "micro")]})


def test_integral_floats_are_frame_numbers(tmp_path):
    path = write(tmp_path / "p.csv", "vid,onset,offset,type\nv,557.0,572.0,mae\n")
    assert read_megc2023(path) == {"v": [Interval(557, 572, "macro")]}


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            "v,1,2,micro\n",
            "line 3: expected type 'me' \\(micro\\) or 'mae' \\(macro\\), got 'micro'",
        ),
        ("v,1.5,2,me\n", "line 3: expected an integer frame number as onset, got '1.5'"),
        ("v,one,2,me\n", "line 3: expected an integer frame number as onset, got 'one'"),
        ("v,9,2,me\n", "line 3: expected offset >= onset, got onset 9, offset 2"),
        ("v,1,2\n", "line 3: expected 4 fields \\(vid,onset,offset,type\\), got 3"),
        (",1,2,me\n", "line 3: expected a video name"),
    ],
)
def test_malformed_rows_name_file_line_and_expectation(tmp_path, body, expected):
    path = write(tmp_path / "sub.csv", "vid,onset,offset,type\nv,1,2,me\n" + body)
    with pytest.raises(MegcFileError, match=f"sub.csv, {expected}"):
        read_megc2023(path)


def test_malformed_headers_and_files(tmp_path):
    with pytest.raises(MegcFileError, match="line 1: expected the header subject,video"):
        read_str(write(tmp_path / "a.csv", "vid,onset,offset,type\nv,1,2,me\n"))
    with pytest.raises(MegcFileError, match="an empty file"):
        read_str(write(tmp_path / "b.csv", ""))
    with pytest.raises(MegcFileError, match="cannot be read"):
        read_str(tmp_path / "missing.csv")
    with pytest.raises(MegcFileError, match="c.csv, line 2: expected a subject"):
        read_str(write(tmp_path / "c.csv", "subject,video,onset,offset,emotion\n,v,1,2,x\n"))


def test_megc2020_baseline_tiny(tmp_path):
    write(tmp_path / "ME2_all.txt", "s15 0401\ns15 0402\ns16 0101\n")
    write(
        tmp_path / "all_Info.txt",
        "s15 0401 macro-expression 557.0 572.0 608.0\ns15 0401 micro-expression 10 12 20\n"
        "s16 0101 macro-expression 0 5 40\n",
    )
    assert read_megc2020_baseline(tmp_path) == {
        "15_0401": [Interval(557, 608, "macro"), Interval(10, 20, "micro")],
        "15_0402": [],  # a scored video without events
        "16_0101": [Interval(0, 40, "macro")],
    }
    write(tmp_path / "all_Info.txt", "s15 0401 macro 557 572 608\n")
    with pytest.raises(MegcFileError, match="all_Info.txt, line 1: expected 'subject video"):
        read_megc2020_baseline(tmp_path)
    write(tmp_path / "all_Info.txt", "s17 0401 macro-expression 1 2 3\n")
    with pytest.raises(MegcFileError, match="line 1: video 17_0401 is not in ME2_all.txt"):
        read_megc2020_baseline(tmp_path)
    write(tmp_path / "SAMM_MEGC_all.txt", "006 1\n")
    with pytest.raises(MegcFileError, match="exactly one video list"):
        read_megc2020_baseline(tmp_path)


# --- the shipped examples --------------------------------------------------------------------


@needs_examples
@pytest.mark.parametrize("name, videos, rows", [("cas_pred.csv", 5, 38), ("samm_pred.csv", 4, 11)])
def test_megc2022_examples_round_trip(tmp_path, name, videos, rows):
    path = EXAMPLES / "MEGC2022_submission_example_MTSN" / name
    intervals = read_megc2022(path)
    assert (len(intervals), sum(map(len, intervals.values()))) == (videos, rows)
    write_megc2022(tmp_path / name, intervals)
    assert (tmp_path / name).read_bytes() == path.read_bytes()


@needs_examples
def test_megc2022_examples_types():
    folder = EXAMPLES / "MEGC2022_submission_example_MTSN"
    intervals = [
        i
        for name in ("cas_pred.csv", "samm_pred.csv")
        for video in read_megc2022(folder / name).values()
        for i in video
    ]
    assert sum(i.type == "micro" for i in intervals) == 9
    assert sum(i.type == "macro" for i in intervals) == 40  # 38 + 11 = 49 rows


@needs_examples
@pytest.mark.parametrize(
    "folder, name, videos, rows",
    [
        ("STRS-Metric", "gt.csv", 244, 244),
        ("STRS-Metric", "pred.csv", 244, 244),
        ("submission_example_hitheyuhong", "cas_pred.csv", 58, 127),
        ("submission_example_hitheyuhong", "samm_pred.csv", 48, 83),
    ],
)
def test_str_examples_round_trip(tmp_path, folder, name, videos, rows):
    path = EXAMPLES / "MEGC2024_STR" / folder / name
    intervals = read_str(path)
    assert (len(intervals), sum(map(len, intervals.values()))) == (videos, rows)
    write_str(tmp_path / name, intervals)
    assert read_str(tmp_path / name) == intervals
    # The same rows; written grouped by video, so the files whose rows are not grouped
    # (hitheyuhong's) differ in row order only.
    original, written = path.read_text().splitlines(), (tmp_path / name).read_text().splitlines()
    assert original[0] == written[0] and sorted(original[1:]) == sorted(written[1:])
    if folder == "STRS-Metric":
        assert (tmp_path / name).read_bytes() == path.read_bytes()


@needs_examples
def test_megc2020_baseline_lists():
    folder = EXAMPLES / "MEGC2020_baseline_HeyingGithub"
    cas = read_megc2020_baseline(folder / "CAS_ME_2_Sets")
    samm = read_megc2020_baseline(folder / "SAMM_MEGC_Sets")
    # CAS(ME)²: 98 scored videos, 95 with events; 57 micro, 300 macro. SAMM-LV: 147 videos,
    # 159 micro, 343 macro (onset-0 rows kept as they are).
    assert (len(cas), sum(bool(v) for v in cas.values())) == (98, 95)
    assert len(samm) == 147
    for truths, (n_micro, n_macro) in ((cas, (57, 300)), (samm, (159, 343))):
        intervals = [i for video in truths.values() for i in video]
        assert sum(i.type == "micro" for i in intervals) == n_micro
        assert sum(i.type == "macro" for i in intervals) == n_macro
    assert Interval(557, 608, "macro") in cas["15_0401"]
    assert Interval(3562, 3632, "micro") in samm["006_1"]
    assert sum(i.onset == 0 for video in samm.values() for i in video) == 10
    # The truths scored against themselves: every interval a TP.
    table = evaluate_databases({"cas": (cas, cas), "samm": (samm, samm)})
    assert table["all"]["overall"]["tp"] == 357 + 502
    assert table["all"]["overall"]["f1"] == 1.0
