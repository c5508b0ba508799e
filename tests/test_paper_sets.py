"""The AU sets and sample rules of STAP's and SCA's tables (mejax.paper_sets), the configs that
use them, and the counts the public coding sheets give against the papers' numbers.

Tests named ``..._reproduces_...`` assert a paper's number; tests named ``..._differs_...``
assert what the sheet gives where it is not the paper's number, and say both.
"""

from pathlib import Path

import ml_collections
import numpy as np
import pytest
from conftest import SHARED

from mejax import clipset, config_args, input_pipeline, paper_sets
from mejax.datasets import aus as au_vocab
from mejax.datasets import readers
from tests import tiny_configs

REPO = Path(__file__).resolve().parents[1]
ANNOTATIONS = SHARED / "annotations"
needs_annotations = pytest.mark.skipif(
    not ANNOTATIONS.is_dir(), reason="the real annotation files are not present"
)
CASME2_2014 = ANNOTATIONS / "CASME2" / "CASME2-coding-20140508.xlsx"
CASME2_2019 = ANNOTATIONS / "CASME2" / "CASME2-coding-20190701.xlsx"
SAMM_SHEET = ANNOTATIONS / "SAMM" / "SAMM_Micro_FACS_Codes_v2.xlsx"


def load_config(stem, arg):
    return config_args.load_file(REPO / "configs" / f"{stem}.py", arg)


# ----------------------------------------------------------------------------------------------
# The tables, as the papers print them.
# ----------------------------------------------------------------------------------------------


def test_stap_tables_iii_to_v():
    casme2, casme, samm = (paper_sets.STAP[d] for d in ("casme2", "casme", "samm"))
    # Table III: 11 AUs; AU6, not the text's AU5.
    assert casme2.aus == (1, 2, 4, 6, 7, 9, 10, 12, 14, 15, 17) and 5 not in casme2.aus
    assert (casme2.num_samples, casme2.samples) == (243, "all")
    assert casme.aus == (1, 2, 4, 9, 14, 15, 17, 18)
    assert (casme.num_samples, casme.samples) == (171, "emotions")
    assert casme.emotions == ("disgust", "repression", "surprise", "tense")
    assert samm.aus == (2, 4, 5, 7, 12, 14, 24)
    assert (samm.num_samples, samm.samples) == (159, "all")
    assert [s.name for s in (casme2, casme, samm)] == [
        "STAP Table III",
        "STAP Table IV",
        "STAP Table V",
    ]


def test_stap_cross_database_tables_vi_vii():
    sets = paper_sets.STAP_CROSS_DATABASE
    assert {d: s.aus for d, s in sets.items()} == {d: (1, 2, 4, 9, 12, 14, 17) for d in sets}
    assert {d: s.num_samples for d, s in sets.items()} == {"casme2": 228, "casme": 154, "samm": 78}
    assert {s.samples for s in sets.values()} == {"any_au"}
    assert sets["samm"].name == "STAP Tables VI, VII"


def test_sca_tables_1_to_3():
    casme2, casme, samm = (paper_sets.SCA[d] for d in ("casme2", "casme", "samm"))
    assert casme2.aus == (1, 2, 4, 7, 12, 14, 15, 17)
    assert (casme2.num_samples, casme2.samples) == (243, "all")
    assert casme.aus == (1, 4, 9, 14)
    assert (casme.num_samples, casme.samples) == (124, "emotions")
    assert casme.emotions == paper_sets.CASME_EMOTIONS
    assert samm.aus == (2, 4, 7, 12)
    assert (samm.num_samples, samm.samples) == (101, "any_au")


def test_a_paper_set_checks_itself():
    with pytest.raises(ValueError, match="samples 'some'"):
        paper_sets.PaperSet("X", "1", "casme", (1,), 1, "some")
    with pytest.raises(ValueError, match="needs emotions"):
        paper_sets.PaperSet("X", "1", "casme", (1,), 1, "emotions")
    with pytest.raises(ValueError, match=r"AUs \[3\]"):
        paper_sets.PaperSet("X", "1", "casme", (3,), 1)
    with pytest.raises(ValueError, match="sca has no table for 'smic'"):
        paper_sets.paper_set("sca", "smic")


# ----------------------------------------------------------------------------------------------
# The configs take them.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", ["stapf", "stap", "i3df", "i3d"])
@pytest.mark.parametrize("database", ["casme2", "casme", "samm"])
def test_stap_family_configs_use_stap_tables(stem, database):
    task = load_config(stem, database).task
    expected = paper_sets.STAP[database]
    assert tuple(task.aus) == expected.aus
    assert (task.samples, tuple(task.emotions)) == (expected.samples, expected.emotions)


@pytest.mark.parametrize("database", ["casme2", "casme", "samm"])
def test_sca_configs_use_sca_tables(database):
    for arg in (database, f"{database},r50,sca_max", f"{database},none"):
        task = load_config("sca", arg).task
        expected = paper_sets.SCA[database]
        assert tuple(task.aus) == expected.aus
        assert (task.samples, tuple(task.emotions)) == (expected.samples, expected.emotions)


def test_named_configs_of_the_brief():
    assert tuple(load_config("stapf", "casme2").task.aus) == (1, 2, 4, 6, 7, 9, 10, 12, 14, 15, 17)
    casme = load_config("sca", "casme").task
    assert (tuple(casme.aus), casme.samples) == ((1, 4, 9, 14), "emotions")


@pytest.mark.parametrize("database", ["casme2", "casme", "samm"])
def test_baseline_rows_use_their_papers_tables(database):
    stap = load_config("lbp_top", database).task
    assert tuple(stap.aus) == paper_sets.STAP[database].aus
    assert stap.samples == paper_sets.STAP[database].samples
    sca = load_config("hog3d", f"{database},sca").task
    assert tuple(sca.aus) == paper_sets.SCA[database].aus
    assert sca.samples == paper_sets.SCA[database].samples


def test_synthetic_configs_keep_every_clip():
    for stem, arg in (("stapf", "synth"), ("sca", "synth"), ("lbp_top", "synth,sca")):
        assert load_config(stem, arg).task.samples == "all"
    assert tiny_configs.tiny("sca").task.samples == "all"


# ----------------------------------------------------------------------------------------------
# The filter.
# ----------------------------------------------------------------------------------------------


def clips_of(rows):
    return clipset.from_rows(
        [
            {
                "input": np.zeros(1, np.uint8),
                "name": f"c{i}",
                "subject": f"s{i % 2}",
                "database": "x",
                "aus": au_vocab.multi_hot(set(aus)),
                "emotion": emotion,
                "objective_class": -1,
                "phases": [0, 1, 2],
            }
            for i, (aus, emotion) in enumerate(rows)
        ]
    )


CLIPS = [({4, 10}, "disgust"), ({12}, "happiness"), ({14}, "Repression "), ({1, 2}, "surprise"),
         ({4, 7}, "tense"), ({24}, "contempt")]  # fmt: skip


def task(paper, database):
    return ml_collections.ConfigDict(paper_sets.paper_set(paper, database).task_fields())


def test_select_four_emotions():
    kept = paper_sets.apply(clips_of(CLIPS), task("sca", "casme"))
    assert kept.names == ["c0", "c2", "c3", "c4"]


def test_select_any_evaluated_au():
    kept = paper_sets.apply(clips_of(CLIPS), task("sca", "samm"))  # AUs 2, 4, 7, 12
    assert kept.names == ["c0", "c1", "c3", "c4"]
    cross = paper_sets.apply(clips_of(CLIPS), task("stap_cross_database", "samm"))
    assert cross.names == ["c0", "c1", "c2", "c3", "c4"]


def test_select_all_and_no_rule_return_the_clips():
    clips = clips_of(CLIPS)
    assert paper_sets.apply(clips, task("stap", "samm")) is clips
    assert paper_sets.apply(clips, ml_collections.ConfigDict({"aus": (4,)})) is clips


def test_select_without_listed_emotions():
    config = ml_collections.ConfigDict(
        {"aus": (4,), "samples": "without_emotions", "emotions": ("Happiness", "tense")}
    )
    assert paper_sets.apply(clips_of(CLIPS), config).names == ["c0", "c2", "c3", "c5"]
    table_1 = paper_sets.without_sadness(paper_sets.SCA["casme2"])
    assert (table_1.samples, table_1.emotions, table_1.aus) == (
        "without_emotions", ("sadness",), paper_sets.SCA["casme2"].aus)  # fmt: skip
    with pytest.raises(ValueError, match="keeps every clip"):
        paper_sets.without_sadness(paper_sets.SCA["samm"])
    with pytest.raises(ValueError, match="'without_emotions' needs emotions"):
        paper_sets.PaperSet("STAP", "III", "casme2", (4,), 243, "without_emotions")


def test_select_keeping_nothing_is_an_error():
    config = ml_collections.ConfigDict({"aus": (4,), "samples": "emotions", "emotions": ("fear",)})
    with pytest.raises(ValueError, match="keeps none of the 6 clips"):
        paper_sets.apply(clips_of(CLIPS), config)
    with pytest.raises(ValueError, match="not in"):
        paper_sets.apply(clips_of(CLIPS), ml_collections.ConfigDict({"aus": (4,), "samples": "x"}))


def test_sca_casme_filter_on_the_builders_dummy_data(tmp_path):
    """The CASME builder's dummy sheets hold 5 clips, one of them happiness: SCA keeps 4."""
    config = load_config("sca", "casme")
    dataset = ml_collections.ConfigDict(
        {
            "name": config.dataset.name,
            "data_dir": str(tmp_path),
            "manual_dir": str(REPO / "mejax" / "datasets" / "casme" / "dummy_data"),
        }
    )
    input_config = ml_collections.ConfigDict({**config.input.to_dict(), "image_size": 32})
    clips = input_pipeline.load_database(dataset, input_config)
    kept = paper_sets.apply(clips, config.task)
    assert len(clips) == 5 and len(kept) == 4
    assert "happiness" in clips.emotion and "happiness" not in kept.emotion


# ----------------------------------------------------------------------------------------------
# The public sheets against the papers' counts.
# ----------------------------------------------------------------------------------------------


def sheet_count(samples, paper_set):
    multi_hot = np.asarray([au_vocab.multi_hot(s.aus) for s in samples], bool)
    emotion = [s.emotion for s in samples]
    rule = paper_set.samples
    return int(paper_sets.keep(multi_hot, emotion, paper_set.aus, rule, paper_set.emotions).sum())


def au_count(samples, au):
    return sum(au in s.aus for s in samples)


@needs_annotations
def test_casme2_2014_sheet_reproduces_stap_table_ii_au1_au2_au4():
    samples = readers.casme2(CASME2_2014).samples
    table = paper_sets.STAP_TABLE_II_CASME2
    assert [au_count(samples, au) for au in (1, 2, 4)] == [table[1], table[2], table[4]]


@needs_annotations
def test_casme2_au7_differs_from_stap_table_ii_38_against_58():
    """Known difference: the sheets code AU7 in 38 clips, STAP Table II says 58."""
    for path in (CASME2_2014, CASME2_2019):
        assert au_count(readers.casme2(path).samples, 7) == 38
    assert paper_sets.STAP_TABLE_II_CASME2[7] == 58


@needs_annotations
def test_samm_sheet_reproduces_stap_table_v_159_clips():
    samples = readers.samm(SAMM_SHEET).samples
    assert sheet_count(samples, paper_sets.STAP["samm"]) == paper_sets.STAP["samm"].num_samples


@needs_annotations
def test_casme2_clip_count_differs_from_stap_table_iii_and_sca_table_1():
    """Known difference: 243 clips in both papers; the 2014 sheet keeps 250, the 2019 one 255."""
    for path, count in ((CASME2_2014, 250), (CASME2_2019, 255)):
        samples = readers.casme2(path).samples
        for paper_set in (paper_sets.STAP["casme2"], paper_sets.SCA["casme2"]):
            assert paper_set.num_samples == 243
            assert sheet_count(samples, paper_set) == count


@needs_annotations
def test_cross_database_counts_differ_from_stap_tables_vi_vii():
    """Known differences: CASME II 233 (2014 sheet) / 231 (2019) against 228; SAMM 88 against
    78."""
    sets = paper_sets.STAP_CROSS_DATABASE
    assert sheet_count(readers.casme2(CASME2_2014).samples, sets["casme2"]) == 233
    assert sheet_count(readers.casme2(CASME2_2019).samples, sets["casme2"]) == 231
    assert sheet_count(readers.samm(SAMM_SHEET).samples, sets["samm"]) == 88
    assert (sets["casme2"].num_samples, sets["samm"].num_samples) == (228, 78)


@needs_annotations
def test_samm_count_differs_from_sca_table_3_103_against_101():
    """Known difference: 103 SAMM clips have one of AUs 2, 4, 7, 12; SCA Table 3 says 101."""
    samples = readers.samm(SAMM_SHEET).samples
    assert sheet_count(samples, paper_sets.SCA["samm"]) == 103
    assert paper_sets.SCA["samm"].num_samples == 101


@needs_annotations
def test_recorded_sheet_counts_are_what_the_sheets_give():
    files = {CASME2_2014.name: CASME2_2014, CASME2_2019.name: CASME2_2019,
             SAMM_SHEET.name: SAMM_SHEET}  # fmt: skip
    every_set = [s for paper in paper_sets.PAPERS.values() for s in paper.values()]
    for file, counts in paper_sets.SHEET_COUNTS.items():
        database = "samm" if file.startswith("SAMM") else "casme2"
        samples = getattr(readers, database)(files[file]).samples
        for key, count in counts.items():
            if key == "all":
                assert len(samples) == count, (file, key)
            elif key.startswith("AU"):
                assert au_count(samples, int(key[2:])) == count, (file, key)
            else:
                name = key.removesuffix(" without sadness")
                matching = [s for s in every_set if s.name == name and s.database == database]
                assert len(matching) == 1, (file, key)
                paper_set = matching[0] if name == key else paper_sets.without_sadness(matching[0])
                assert sheet_count(samples, paper_set) == count, (file, key)


@needs_annotations
def test_casme2_2014_sheet_without_sadness_reproduces_the_papers_243_clips():
    """The papers' 243 CASME II clips are the 2014 sheet's 250 without its 7 "sadness" clips;
    STAP Table II's AU1 (26) and AU4 (129) are counted with those clips, not without."""
    samples = readers.casme2(CASME2_2014).samples
    assert sum(s.emotion == "sadness" for s in samples) == 7
    for paper_set in (paper_sets.STAP["casme2"], paper_sets.SCA["casme2"]):
        assert sheet_count(samples, paper_sets.without_sadness(paper_set)) == 243
    kept = [s for s in samples if s.emotion != "sadness"]
    table = paper_sets.STAP_TABLE_II_CASME2
    assert (au_count(kept, 1), au_count(kept, 4)) == (19, 128) != (table[1], table[4])
    assert sheet_count(readers.casme2(CASME2_2019).samples,
                       paper_sets.without_sadness(paper_sets.STAP["casme2"])) == 251  # fmt: skip


@needs_annotations
def test_casme2_au14_differs_from_sca_table_1_27_against_21():
    """Known difference: SCA Table 1 gives AU14 in 21 CASME II clips; the 2014 sheet codes it in
    27 (with or without the sadness clips), the 2019 sheet in 22."""
    samples = readers.casme2(CASME2_2014).samples
    assert au_count(samples, 14) == 27
    assert au_count([s for s in samples if s.emotion != "sadness"], 14) == 27
    assert au_count(readers.casme2(CASME2_2019).samples, 14) == 22
    assert any("AU14" in d and "21" in d and "27" in d for d in paper_sets.KNOWN_DIFFERENCES)


@needs_annotations
def test_samm_au7_is_44_clips_46_with_the_reference_codes():
    """Known difference: AU7 in 44 SAMM clips as the AU grammar reads the sheet, 46 when the two
    clips coded only as a reference AU, ``ref(7B)``, are counted."""
    samples = readers.samm(SAMM_SHEET).samples
    assert au_count(samples, 7) == 44
    referenced = sorted(s.clip for s in samples if "ref(7" in s.au_code and 7 not in s.aus)
    assert referenced == ["010_2_1", "010_4_1"]
    assert any("SAMM AU7" in d and "44" in d and "46" in d for d in paper_sets.KNOWN_DIFFERENCES)
