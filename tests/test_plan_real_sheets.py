"""Every paper setting planned on the real coding sheets (label-only mock copies: the sheets and
the frame folders, no frame; the long videos' frame files empty), with the counts the papers
publish pinned. Skipped where the
sheets are not at hand (a user's clone has none)."""

import collections

import pytest

from mejax import paper_settings, plan
from mejax.datasets import mock, mock_long
from tests.conftest import SHARED

ANNOTATIONS = SHARED / "annotations"
pytestmark = pytest.mark.skipif(
    not ANNOTATIONS.is_dir(), reason="the real coding sheets (../shared/annotations) are absent"
)
MACRO = ("ckplus", "oulu_casia", "jaffe", "mug")


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    """A label-only copy of every database the paper settings read, in one folder each."""
    root = tmp_path_factory.mktemp("copies")
    for database in mock.DATABASES:
        mock.write(database, root / database, annotations=ANNOTATIONS, frames=False,
                   progress=False)  # fmt: skip
    from mejax.datasets import mock_macro

    for database in MACRO:
        mock_macro.write(database, root / database, frame_size=(32, 32), progress=False)
    for database in mock_long.DATABASES:
        mock_long.write(database, root / database, annotations=ANNOTATIONS, frames=False,
                        progress=False)  # fmt: skip
    return root


@pytest.fixture(scope="module")
def plans(copies, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("tfds")
    result = {}
    for setting in paper_settings.settings():
        config = paper_settings.on_copies(setting.load(), copies, data_dir)
        config.init_from = "none"  # the weights are the user's; the plan checks them apart
        result[setting.name] = plan.plan(config)
    return result


def test_every_paper_setting_plans_without_an_impossible_run_problem(plans):
    impossible = {name: p.impossible for name, p in plans.items() if p.impossible}
    assert not impossible
    assert len(plans) >= 150 and all(p.rounds for p in plans.values())


def test_sca_samm_trains_every_fold_smaller_than_its_batch(plans):
    rounds = plans["sca:samm"].rounds
    assert [r["train"]["clips"] for r in rounds] == [41, 51, 62, 52]
    assert [r["steps_per_epoch"] for r in rounds] == [1, 1, 1, 1]
    assert sum(r["test"]["clips"] for r in rounds) == 103  # SCA Table 3: 101 in the paper
    assert [r["clips_dropped_per_epoch"] for r in rounds] == [0, 0, 0, 0]


def test_sca_casme2_four_folds_keep_every_clip(plans):
    rounds = plans["sca:casme2"].rounds
    assert [r["train"]["clips"] for r in rounds] == [101, 137, 149, 113]
    assert [r["steps_per_epoch"] for r in rounds] == [2, 3, 3, 2]
    assert sum(r["test"]["clips"] for r in rounds) == 250  # the 2014 sheet's clips


def test_stap_two_fold_sizes(plans):
    casme2 = plans["stapf:casme2"].rounds
    assert [r["train"]["clips"] for r in casme2] == [148, 148, 102, 102]
    assert sum(r["test"]["clips"] for r in casme2) == 250
    samm = plans["stapf:samm"].rounds
    assert [r["train"]["clips"] for r in samm] == [81, 81, 78, 78]
    assert sum(r["test"]["clips"] for r in samm) == 159  # STAP Table V: 159
    assert set(samm[0]["train"]["counts"]) == {f"AU{au}" for au in (2, 4, 5, 7, 12, 14, 24)}


def test_megc2019_loso_rounds_and_classes(plans):
    """MEGC2019 (See et al., FG 2019): 68 subjects, 442 clips, 250 / 109 / 83 per class."""
    for name in ("neural_mer:megc2019", "mer_resnet:megc2019", "lbp_top:megc2019,mer"):
        rounds = plans[name].rounds
        assert len(rounds) == 68
        assert sum(r["test"]["clips"] for r in rounds) == 442
        per_class = collections.Counter()
        for r in rounds:
            per_class.update(r["test"]["counts"])
        assert dict(per_class) == {"negative": 250, "positive": 109, "surprise": 83}


def test_megc2018_hde_two_rounds_and_cde_subjects(plans):
    """MEGC2018 (Yap et al., FG 2018): HDE trains on one database and tests on the other (185
    CASME II + 68 SAMM clips of classes I-V); CDE is LOSO over the 26 + 21 subjects."""
    hde = plans["au_gcn:megc2018"].rounds
    assert len(hde) == 2
    assert sorted(r["test"]["clips"] for r in hde) == [68, 185]
    assert {r["train"]["clips"] + r["validation"]["clips"] for r in hde} == {68, 185}
    cde = plans["au_gcn:megc2018,cde"].rounds
    assert len(cde) == 47 and sum(r["test"]["clips"] for r in cde) == 253
    tested = [s for r in cde for s in r["test"]["subjects"]]
    assert len(tested) == len(set(tested)) == 47


@pytest.mark.parametrize(
    "database, rounds, videos, micro, macro",
    [("casme_sq", 22, 98, 57, 300), ("samm_lv", 30, 147, 159, 343), ("casme3", 98, 958, 860, 3346)],
)
def test_spotting_loso_over_every_subjects_videos(plans, database, rounds, videos, micro, macro):
    for name in (f"spotting:{database}", f"spot_then_recognise:{database}"):
        planned = plans[name].rounds
        assert len(planned) == rounds
        assert sum(r["test"]["clips"] for r in planned) == videos
        tested = collections.Counter()
        for r in planned:
            tested.update(r["test"]["counts"])
        assert (tested["micro"], tested["macro"]) == (micro, macro if "spotting" in name else 0)
        assert all(r["windows"]["micro"]["train"] > 0 for r in planned)


def test_softnet_k_of_the_whole_databases_is_softnets(copies, tmp_path):
    """SPECS-SPOT §2: SOFTNet's rule gives CAS(ME)² 6 / 18 and SAMM-LV 37 / 174 (its onset-0
    rows left out: 217 with them)."""
    from mejax.spotting import flow_features, videos

    for database, expected in (("casme_sq", (6, 18)), ("samm_lv", (37, 174))):
        (setting,) = [s for s in paper_settings.settings() if s.name == f"spotting:{database}"]
        config = paper_settings.on_copies(setting.load(), copies, tmp_path)
        data = videos.from_folders(config.dataset).videos
        assert tuple(flow_features.softnet_k(data, kind) for kind in ("micro", "macro")) == expected


def test_samm_lv_micro_movements_carry_samms_emotions(copies, tmp_path):
    from mejax.spotting import videos

    (setting,) = [s for s in paper_settings.settings() if s.name == "spot_then_recognise:samm_lv"]
    config = paper_settings.on_copies(setting.load(), copies, tmp_path)
    events = [e for v in videos.from_folders(config.dataset).videos for e in v.events]
    emotions = collections.Counter(e.emotion for e in events if e.type == "micro")
    assert sum(emotions.values()) == 159 and emotions["anger"] == 57 and "" not in emotions
