"""Hostile annotation cells and layouts: non-ASCII digits, space-joined numbers, duplicated
rows, gaps in a clip's frame numbers and frame folders outside the manual directory."""

import shutil

import openpyxl
import pytest
import tensorflow_datasets as tfds

from mejax.datasets import aus, builder, readers
from mejax.datasets.casme2 import Casme2, casme2

DUMMY = Casme2.code_path.parent / "dummy_data"
SHEET = casme2.CODING_2019


@pytest.mark.parametrize(
    "code",
    ["1 2", "L3 4", "4+①", "1²", "٣", "4+1 2", "ref(1 2)", "R6 or 1 2", "5 6 7"],
)
def test_malformed_codes_are_code_errors(code):
    with pytest.raises(aus.AUCodeError, match="is not"):
        aus.parse_code(code)


def test_spaces_beside_letters_and_around_terms_still_parse():
    assert aus.parse_code(" 4 + L 10 ").aus == {4, 10}
    assert aus.parse_code("7 B").intensity == {7: "B"}
    with pytest.raises(ValueError, match="token '1 2'"):
        aus.au_numbers("4+1 2")


def _sheet(tmp_path, edit):
    """The dummy CASME II coding sheet with ``edit(worksheet)`` applied."""
    book = openpyxl.load_workbook(DUMMY / SHEET)
    edit(book.worksheets[0])
    path = tmp_path / SHEET
    book.save(path)
    return path


def test_a_malformed_code_keeps_its_row_out_naming_file_and_row(tmp_path):
    path = _sheet(tmp_path, lambda ws: ws.__setitem__("H3", "4+①"))
    annotations = readers.casme2(path)
    (excluded,) = annotations.excluded
    assert (excluded.file, excluded.row, excluded.text) == (SHEET, 3, "4+①")
    assert "is not" in excluded.reason
    assert [s.clip for s in annotations.samples] == ["EP01_01", "EP03_02", "EP12_01f"]


@pytest.mark.parametrize("value", ["①", "1²", "1 2", "١٢"])
def test_a_malformed_frame_number_names_file_row_and_cell(tmp_path, value):
    path = _sheet(tmp_path, lambda ws: ws.__setitem__("D2", value))
    with pytest.raises(readers.AnnotationError, match=rf"{SHEET}, row 2, cell D2 \(OnsetFrame\)"):
        readers.casme2(path)


def test_a_duplicated_row_is_named(tmp_path):
    def duplicate(ws):
        ws.append([cell.value for cell in ws[2]])

    path = _sheet(tmp_path, duplicate)
    with pytest.raises(readers.AnnotationError, match="rows 2 and 6: clip EP01_01 of subject"):
        readers.casme2(path)


def _second_onset_column(ws):
    ws["J1"] = "OnsetFrame"  # the last of two same-named columns would win: empty onsets


def _blank_keys(ws):
    ws["A4"], ws["B4"] = None, None  # the row keeps its frames, AUs and emotion


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            _second_onset_column,
            "row 1: two header columns are named 'onsetframe' \\(cells D1 and J1",
        ),
        (_blank_keys, "row 4: cells .* are filled but the key cells A4 and B4"),
        (lambda ws: ws.__setitem__("A3", -1), "row 3, cell A3: subject -1 is not a subject"),
        (lambda ws: ws.__setitem__("D3", "=C3+1"), "row 3, cell D3: the formula '=C3\\+1' has no"),
    ],
)
def test_annotation_edits_that_would_change_labels_silently_are_refused(tmp_path, edit, message):
    path = _sheet(tmp_path, edit)
    with pytest.raises(readers.AnnotationError, match=rf"{SHEET}, {message}"):
        readers.casme2(path)


def _sample(clip, source):
    return readers.Sample("casme2", "sub01", clip, 1, 2, 3, "12", frozenset({12}), "", None, source)


def test_duplicated_clips_and_folders_outside_the_manual_directory(tmp_path):
    root = tmp_path / "manual"
    inside = builder.Clip(
        _sample("EP01_01", "a.xlsx:2"), root / "Cropped/sub01/EP01_01", "s", "c", 1
    )
    builder.check_clips("casme2", root, [inside])
    again = builder.Clip(_sample("EP01_01", "a.xlsx:7"), inside.folder, "s", "c", 1)
    with pytest.raises(readers.AnnotationError, match="listed twice, at a.xlsx:2 and a.xlsx:7"):
        builder.check_clips("casme2", root, [inside, again])
    escaping = builder.Clip(
        _sample("../../../x", "a.xlsx:4"), root / "Cropped/sub01/../../../x", "s", "c", 1
    )
    with pytest.raises(readers.AnnotationError, match="a.xlsx:4: .* outside the manual directory"):
        builder.check_clips("casme2", root, [escaping])


def test_a_frame_folder_linked_outside_the_manual_directory_is_in_the_build_report(tmp_path):
    root = tmp_path / "manual"
    shutil.copytree(DUMMY, root)
    clip = root / "Cropped" / "sub01" / "EP01_01"
    elsewhere = tmp_path / "another_copy" / "EP01_01"
    shutil.move(clip, elsewhere)
    clip.symlink_to(elsewhere, target_is_directory=True)
    build = tfds.builder("casme2/cropped", data_dir=tmp_path / "tfds")
    build.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=root))
    (link,) = build.info.metadata["build_report"]["linked_outside"]
    assert (link["folder"], link["target"]) == (str(clip), str(elsewhere.resolve()))
    assert link["source"].startswith(f"{SHEET}:")


def test_a_gap_in_the_frame_numbers_is_in_the_build_report(tmp_path):
    root = tmp_path / "manual"
    shutil.copytree(DUMMY, root)
    (root / "Cropped/sub01/EP01_01/reg_img11.jpg").unlink()
    clips, _ = casme2.clips(root, "cropped", SHEET)
    assert builder.frame_gaps(clips) == {"sub01_EP01_01": [11]}
    b = tfds.builder("casme2/cropped", data_dir=str(tmp_path / "tfds"))
    b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(root)))
    report = b.info.metadata["build_report"]
    assert report["frame_gaps"] == {"sub01_EP01_01": [11]}
    assert report["manual_dir"] == str(root)
    assert set(report["annotation_sha256"]) == {p.name for p in DUMMY.glob("*.xlsx")}


def test_a_reused_build_of_changed_annotations_is_reported(tmp_path, caplog):
    root = tmp_path / "manual"
    shutil.copytree(DUMMY, root)
    config = tfds.download.DownloadConfig(manual_dir=str(root))
    tfds.builder("casme2/cropped", data_dir=str(tmp_path / "tfds")).download_and_prepare(
        download_config=config
    )
    _sheet(root, lambda ws: ws.__setitem__("H2", "4+L10+17"))  # overwrites the coding sheet
    moved = tmp_path / "moved"
    root.rename(moved)
    b = tfds.builder("casme2/cropped", data_dir=str(tmp_path / "tfds"))
    b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(moved)))
    assert f"built from {root}, now given {moved}" in caplog.text
    assert f"{SHEET} changed" in caplog.text and "delete that folder to rebuild" in caplog.text
