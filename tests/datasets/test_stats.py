"""Label statistics from the real annotation files (skipped without them) and from invented
rows in the real file formats.

The published numbers: CASME II AU counts of STAP (arXiv:1907.05023, Table II) from the
2014-05-08 coding sheet; MEGC2018 objective classes (Davison et al., J. Imaging 2018, Table 3;
Yap et al., FG 2018); MEGC2019 composite (See et al., FG 2019).
"""

import json

import openpyxl
import pytest
from conftest import SHARED

from mejax.datasets import readers, stats

ANNOTATIONS = SHARED / "annotations"
needs_annotations = pytest.mark.skipif(
    not ANNOTATIONS.is_dir(), reason="the real annotation files are not present"
)


@needs_annotations
def test_casme2_2014_reproduces_stap_table_ii():
    result = stats.statistics("casme2", [ANNOTATIONS / "CASME2/CASME2-coding-20140508.xlsx"])
    counts = result["au_counts"]
    assert (counts["AU1"], counts["AU2"], counts["AU4"]) == (26, 21, 129)
    assert (counts["AU7"], counts["AU12"], counts["AU14"], counts["AU17"]) == (38, 34, 27, 25)
    assert result["num_subjects"] == 26
    # 255 rows, 5 coded '?' kept out with their row and reason.
    assert result["num_samples"] == 250
    assert [e["text"] for e in result["excluded"]] == ["?"] * 5
    assert all(e["row"] > 1 and "undetermined" in e["reason"] for e in result["excluded"])
    assert any("EP12_01f apex" in line for line in result["errata_applied"])


@needs_annotations
def test_megc2018_objective_classes():
    result = stats.statistics(
        "megc2018",
        [
            ANNOTATIONS / "CASME2/CASME2-ObjectiveClasses.xlsx",
            ANNOTATIONS / "SAMM/SAMM_Micro_FACS_Codes_v2.xlsx",
        ],
    )
    assert result["num_samples"] == 253
    casme2, samm = result["parts"]["casme2"], result["parts"]["samm"]
    assert casme2["objective_class_counts"] == {"I": 25, "II": 15, "III": 99, "IV": 26, "V": 20}
    assert samm["objective_class_counts"] == {"I": 24, "II": 13, "III": 20, "IV": 8, "V": 3}
    assert (casme2["num_subjects"], samm["num_subjects"]) == (26, 21)


@needs_annotations
def test_megc2019_ground_truth():
    result = stats.statistics("megc2019", [ANNOTATIONS / "MEGC2019/combined_3class_gt.csv"])
    assert (result["num_samples"], result["num_subjects"]) == (442, 68)
    sizes = {name: part["num_samples"] for name, part in result["parts"].items()}
    assert sizes == {"casme2": 145, "samm": 133, "smic": 164}
    assert result["class_counts"] == {"negative": 250, "positive": 109, "surprise": 83}


@needs_annotations
def test_samm_errata_and_every_code_parses():
    for path in sorted((ANNOTATIONS / "SAMM").rglob("SAMM_Micro_FACS_Codes_v2.xlsx")):
        annotations = readers.samm(path)
        assert len(annotations.samples) == 159 and not annotations.excluded
        assert len(annotations.errata) == 2
        apex = {s.clip: s.apex for s in annotations.samples}
        assert (apex["028_4_1"], apex["032_3_1"]) == (1113, 4930)


def _sheet(path, rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


HEADER = ["Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None,
          "Action Units", "Estimated Emotion"]  # fmt: skip


def test_malformed_row_names_file_row_and_cell(tmp_path):
    path = _sheet(
        tmp_path / "coding.xlsx",
        [HEADER, ["01", "EP01_01", None, 10, 20, 30, None, "4", "others"],
         ["02", "EP02_01", None, 10, "x", 30, None, "12", "happiness"]],
    )  # fmt: skip
    with pytest.raises(readers.AnnotationError, match=r"coding.xlsx, row 3, cell E3 \(ApexFrame\)"):
        readers.casme2(path)
    path = _sheet(tmp_path / "order.xlsx", [HEADER, ["01", "EP01", None, 10, 40, 30, None, 4, "x"]])
    with pytest.raises(readers.AnnotationError, match="row 2.*onset <= apex <= offset"):
        readers.casme2(path)


def test_unparseable_code_is_excluded_with_reason(tmp_path, capsys):
    path = _sheet(
        tmp_path / "coding.xlsx",
        [HEADER, ["01", "EP01_01", None, 10, 20, 30, None, "4+L10", "disgust"],
         ["01", "EP01_02", None, 10, 20, 30, None, "?", "others"],
         ["02", "EP02_01", None, 5, 6, 7, None, "1+2", "surprise"]],
    )  # fmt: skip
    assert stats.main(["--database", "casme2", "--annotations", str(path)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["num_samples"], result["num_subjects"]) == (2, 2)
    assert result["au_counts"] == {"AU1": 1, "AU2": 1, "AU4": 1, "AU10": 1}
    (excluded,) = result["excluded"]
    assert (excluded["file"], excluded["row"], excluded["text"]) == ("coding.xlsx", 3, "?")


def test_wrong_file_for_database(tmp_path, capsys):
    path = _sheet(tmp_path / "c.xlsx", [HEADER, ["01", "EP01", None, 1, 2, 3, None, 4, "x"]])
    assert stats.main(["--database", "samm", "--annotations", str(path)]) == 1
    assert "not a samm annotation file" in capsys.readouterr().err
