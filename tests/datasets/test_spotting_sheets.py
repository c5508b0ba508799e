"""The long-video sheets as released: counts pinned (skipped without the shared annotations)."""

import collections

import pytest

from mejax.datasets import labels, spotting_sheets
from tests.conftest import SHARED

ANNOTATIONS = SHARED / "annotations"
pytestmark = pytest.mark.skipif(not ANNOTATIONS.is_dir(), reason="no shared annotations")


def test_samm_lv():
    sheet = spotting_sheets.samm_lv(ANNOTATIONS / "SAMM-LV/SAMMLV_gt.xlsx")
    assert sheet.counts() == {"micro": 159, "macro": 343, "subjects": 30, "videos": 147}
    rules = "\n".join(sheet.rules)
    assert rules.count("(fractional)") >= 178 and rules.count("apex -1") == 6
    assert rules.count("onset 0") == 10
    assert sheet.names_used_twice == ["037_4_1: rows 506 and 507"]
    # The V2 export is V1 rounded: the same events.
    v2 = ANNOTATIONS / "SAMM-LV/variants/hitheyuhong_MEGC2024-CODE/SAMM_LongVideos_V2_Release.csv"
    if v2.is_file():
        assert [e.event for e in spotting_sheets.samm_lv(v2).events] == [
            e.event for e in sheet.events
        ]


def test_casme_sq():
    sheet = spotting_sheets.casme_sq(ANNOTATIONS / "CASME_sq/CASME_sq_gt.xlsx")
    assert sheet.counts() == {"micro": 57, "macro": 300, "subjects": 22, "videos": 95}
    assert sum("offset 0" in rule for rule in sheet.rules) == 44
    assert len(sheet.errata) == 5  # 3 apexes after offsets, s34 anger1_1, 'happyiness'
    anger = next(e for e in sheet.events if e.subject == "s34" and e.name == "anger1_1")
    assert (anger.video, anger.event.apex) == ("34_0401", 1775)


def test_casme3_part_a_v2():
    """860 micro + 3,346 macro in 98 subjects: the v2 release, not the paper's 1,109 micro +
    3,490 macro of 100 subjects (the release redefines a micro-expression and lacks 2
    subjects' rows)."""
    path = ANNOTATIONS / "CASME3/partA/CAS(ME)3_part_A_v2.xls"
    sheet = spotting_sheets.casme3(path)
    assert sheet.counts() == {"micro": 860, "macro": 3346, "subjects": 98, "videos": 956}
    assert len(sheet.errata) == 2  # spNO.216 e onset and apex +1
    blinks = spotting_sheets.casme3_blinks(path)
    assert sum(len(spans) for spans in blinks.values()) == 841


def test_casme3_recognition_sheet():
    path = ANNOTATIONS / "CASME3/partA/cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
    kept = spotting_sheets.casme3_me(path, occluded="keep")
    assert len(kept.samples) == 860 and len({s.subject for s in kept.samples}) == 94
    emotions = collections.Counter(s.emotion for s in kept.samples)
    assert emotions == {"disgust": 250, "surprise": 187, "others": 161, "fear": 86,
                        "anger": 64, "sad": 57, "happy": 55}  # fmt: skip
    assert set(emotions) == set(labels.CASME3_7_CLASSES)
    assert sum(e.startswith("cas(me)3") and "->" in e for e in kept.errata) >= 6
    removed = spotting_sheets.casme3_me(path)
    assert len(removed.samples) == 845 and len(removed.excluded) == 15
    # The v2 sheet's micro rows are the recognition rows after the errata.
    v2 = spotting_sheets.casme3(ANNOTATIONS / "CASME3/partA/CAS(ME)3_part_A_v2.xls")
    micro = {(e.video, e.event.onset, e.event.apex, e.event.offset)
             for e in v2.events if e.event.type == "micro"}  # fmt: skip
    clips = {(s.clip.rsplit("_", 1)[0], s.onset, s.apex, s.offset) for s in kept.samples}
    assert clips == micro


def test_casme3_exception_lists():
    folder = ANNOTATIONS / "CASME3/exception"
    damaged = spotting_sheets.casme3_frame_list(folder / spotting_sheets.CASME3_DAMAGED)
    assert sorted(damaged) == ["spNO.3_j", "spNO.4_j"]
    bad = spotting_sheets.casme3_frame_list(folder / spotting_sheets.CASME3_BAD_QUALITY)
    assert sum(len(frames) for frames in bad.values()) == 964
    zhouju = folder / "casme3_partA_error_list_ZhouJu.TEXT_ONLY_DERIVED.csv"
    rows = spotting_sheets.zhouju_rows(zhouju)
    assert sorted(rows[:-1]) == sorted(spotting_sheets.CASME3_OCCLUDED_APEX)
    assert rows[-1] == ("spNO.216", "e", 0, 0, 25)
