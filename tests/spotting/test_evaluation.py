"""MEGC spotting evaluation and STRS on hand-built cases, the STRS-Metric script's defects, and
the STRS-Metric repository's example data."""

import json
from types import SimpleNamespace

import pytest
from conftest import SHARED

from mejax.spotting.evaluation import (
    Counts,
    Interval,
    analysis_scores,
    evaluate_databases,
    evaluate_spotting,
    evaluate_strs,
    iou,
    match_video,
    pool,
)

STRS_EXAMPLE = SHARED / "annotations" / "MEGC-spotting" / "MEGC2024_STR" / "STRS-Metric"


def micro(onset, offset, emotion="", score=1.0):
    return Interval(onset, offset, "micro", score=score, emotion=emotion)


def macro(onset, offset, emotion=""):
    return Interval(onset, offset, "macro", emotion=emotion)


def counts(result, kind="overall"):
    c = result.overall if kind == "overall" else result.by_type[kind]
    return c.tp, c.fp, c.fn


# --- intervals and IoU ---------------------------------------------------------------------


def test_interval_checks_and_length():
    assert micro(5, 5).length == 1
    assert micro(1, 10).length == 10
    assert micro(-3, 65).length == 69  # the STRS example predictions have negative onsets
    with pytest.raises(ValueError, match="before its onset"):
        micro(10, 9)
    with pytest.raises(ValueError, match="type"):
        Interval(1, 2, "me")
    event = SimpleNamespace(onset=3, apex=5, offset=9, type="macro", emotion="happiness")
    assert Interval.from_event(event) == Interval(3, 9, "macro", emotion="happiness")


def test_iou_counts_frames_inclusively():
    assert iou(micro(1, 10), micro(1, 10)) == 1.0
    assert iou(micro(5, 5), micro(5, 5)) == 1.0  # one frame, not 0 / 0
    assert iou(micro(1, 10), micro(6, 15)) == pytest.approx(5 / 15)  # [6, 10] of [1, 15]
    assert iou(micro(1, 10), micro(10, 19)) == pytest.approx(1 / 19)  # sharing frame 10
    # Adjacent and disjoint intervals share nothing (the MEGC2020 baseline counts 1 frame: 1/10).
    assert iou(micro(1, 5), micro(6, 10)) == 0.0
    assert iou(micro(1, 5), micro(50, 60)) == 0.0


def test_iou_exactly_half_is_a_true_positive_and_just_below_is_not():
    assert iou(micro(1, 10), micro(1, 5)) == 0.5
    result = evaluate_spotting({"v": [micro(1, 10)]}, {"v": [micro(1, 5)]})
    assert counts(result) == (1, 0, 0)
    assert iou(micro(1, 11), micro(1, 5)) == pytest.approx(5 / 11)  # < 0.5
    result = evaluate_spotting({"v": [micro(1, 11)]}, {"v": [micro(1, 5)]})
    assert counts(result) == (0, 1, 1)


# --- matching --------------------------------------------------------------------------------


def test_one_prediction_overlapping_two_truths_is_one_tp_and_one_fn():
    # Two adjacent truths, one prediction covering both: IoU exactly 0.5 with each.
    truths = {"v": [micro(1, 10), micro(11, 20)]}
    predictions = {"v": [micro(1, 20)]}
    assert [iou(t, predictions["v"][0]) for t in truths["v"]] == [0.5, 0.5]
    assert counts(evaluate_spotting(truths, predictions)) == (1, 0, 1)
    assert counts(evaluate_spotting(truths, predictions, rule="voc")) == (1, 0, 1)


def test_each_truth_is_matched_once():
    # Two predictions on one truth: one TP, the other a FP.
    result = evaluate_spotting({"v": [micro(1, 10)]}, {"v": [micro(1, 10), micro(2, 10)]})
    assert counts(result) == (1, 1, 0)
    # The better-fitting prediction is the one matched, whatever the order of the rows.
    match = match_video([micro(1, 10)], [micro(1, 12), micro(1, 10)])
    assert match.pairs == ((0, 1, 1.0),)
    assert match.unmatched_predictions == (0,)
    match = match_video([micro(1, 10)], [micro(1, 10), micro(1, 12)])
    assert match.pairs == ((0, 0, 1.0),)


def test_iou_rule_versus_voc_rule():
    # A [1,10], B [3,12]; P1 [1,10] (IoU 1 with A, 8/12 with B), P2 [2,10] (9/10 with A,
    # 8/11 with B). Greedy by IoU: P1-A, then P2-B. VOC (by score): P1 takes A; P2's best truth
    # is A, taken, so P2 is a FP and B a FN (VOC does not fall back on the second-best truth).
    truths = [micro(1, 10), micro(3, 12)]
    predictions = [micro(1, 10, score=0.9), micro(2, 10, score=0.5)]
    by_iou = match_video(truths, predictions)
    assert [(t, p) for t, p, _ in by_iou.pairs] == [(0, 0), (1, 1)]
    assert by_iou.counts == Counts(2, 0, 0)
    voc = match_video(truths, predictions, rule="voc")
    assert [(t, p) for t, p, _ in voc.pairs] == [(0, 0)]
    assert voc.counts == Counts(1, 1, 1)
    # VOC follows the scores: with P2 first, P2 takes A and P1 (best A) is left a FP.
    swapped = [micro(1, 10, score=0.1), micro(2, 10, score=0.5)]
    assert [(t, p) for t, p, _ in match_video(truths, swapped, rule="voc").pairs] == [(0, 1)]
    with pytest.raises(ValueError, match="rule"):
        match_video(truths, predictions, rule="score")


def test_empty_sides():
    assert match_video([], []).counts == Counts()
    assert match_video([micro(1, 2)], []).counts == Counts(0, 0, 1)
    assert match_video([], [micro(1, 2)], rule="voc").counts == Counts(0, 1, 0)


def test_types_are_scored_separately():
    # A macro prediction on a micro truth matches nothing: a micro FN and a macro FP.
    result = evaluate_spotting({"v": [micro(1, 10)]}, {"v": [macro(1, 10)]})
    assert counts(result, "micro") == (0, 0, 1)
    assert counts(result, "macro") == (0, 1, 0)
    assert counts(result) == (0, 1, 1)
    result = evaluate_spotting(
        {"v": [micro(1, 10), macro(1, 40)]}, {"v": [micro(2, 10), macro(5, 40), macro(60, 90)]}
    )
    assert counts(result, "micro") == (1, 0, 0)
    assert counts(result, "macro") == (1, 1, 0)
    assert counts(result) == (2, 1, 0)


def test_every_video_of_either_side_is_scored():
    truths = {"a": [micro(1, 10)], "b": [micro(1, 10), micro(30, 40)], "c": []}
    predictions = {"a": [micro(1, 10)], "c": [micro(5, 9)], "d": [micro(1, 3), macro(1, 30)]}
    result = evaluate_spotting(truths, predictions)
    assert sorted(result.by_video) == ["a", "b", "c", "d"]
    assert counts(result) == (1, 3, 2)  # FP: 1 on c and 2 on d; FN: both truths of b
    assert result.by_video["b"]["micro"] == Counts(0, 0, 2)
    assert result.by_video["d"]["macro"] == Counts(0, 1, 0)


def test_pooling_sums_counts_over_videos_types_and_databases():
    cas = (
        {"15_0401": [micro(1, 10), macro(100, 140)], "15_0402": [macro(10, 50)]},
        {"15_0401": [micro(1, 10), micro(50, 55)], "15_0402": [macro(10, 50), macro(200, 240)]},
    )
    samm = ({"006_1": [micro(1, 60), micro(100, 160)]}, {"006_1": [micro(1, 60)]})
    table = evaluate_databases({"cas": cas, "samm": samm})
    json.dumps(table)  # JSON-serialisable
    assert {k: table["cas"]["micro"][k] for k in ("tp", "fp", "fn")} == {"tp": 1, "fp": 1, "fn": 0}
    assert {k: table["cas"]["macro"][k] for k in ("tp", "fp", "fn")} == {"tp": 1, "fp": 1, "fn": 1}
    cas_all = table["cas"]["overall"]
    assert (cas_all["tp"], cas_all["fp"], cas_all["fn"]) == (2, 2, 1)
    assert cas_all["precision"] == 0.5 and cas_all["recall"] == pytest.approx(2 / 3)
    assert cas_all["f1"] == pytest.approx(2 * 2 / (2 * 2 + 2 + 1))  # from the pooled counts
    assert table["cas"]["num_videos"] == 2
    pooled = table["all"]
    assert (pooled["micro"]["tp"], pooled["micro"]["fp"], pooled["micro"]["fn"]) == (2, 1, 1)
    assert (pooled["overall"]["tp"], pooled["overall"]["fp"], pooled["overall"]["fn"]) == (3, 2, 2)
    assert pooled["overall"]["f1"] == pytest.approx(6 / 10)
    # Pooled F1 is not the mean of the databases' F1.
    assert pooled["overall"]["f1"] != pytest.approx(
        (table["cas"]["overall"]["f1"] + table["samm"]["overall"]["f1"]) / 2
    )
    assert pool([evaluate_spotting(*cas), evaluate_spotting(*samm)]).to_dict() == {
        k: v for k, v in pooled.items()
    }
    with pytest.raises(ValueError, match="more than one"):
        pool([evaluate_spotting(*cas), evaluate_spotting(*cas)])


def test_counts_ratios_without_denominator_are_zero():
    assert Counts().to_dict() == {
        "tp": 0, "fp": 0, "fn": 0, "precision": 0.0, "recall": 0.0, "f1": 0.0
    }  # fmt: skip
    assert Counts(0, 3, 0).f1 == 0.0
    assert Counts(1, 1, 2) + Counts(2, 0, 1) == Counts(3, 1, 3)


# --- STRS ------------------------------------------------------------------------------------


def test_strs_by_hand():
    # Video v: truths happy [1,10], sad [20,30], happy [50,60]; predictions happy [1,10] (TP,
    # right), happy [20,30] (TP, wrong), [80,90] (FP). Video w: truth sad [1,10], no prediction
    # (FN). Spotting: TP 2, FP 1, FN 2: P 2/3, R 1/2, F1 4/7.
    truths = {
        "s1/v": [micro(1, 10, "happy"), micro(20, 30, "sad"), micro(50, 60, "happy")],
        "s2/w": [micro(1, 10, "sad")],
    }
    predictions = {
        "s1/v": [micro(1, 10, "happy"), micro(20, 30, "happy"), micro(80, 90, "sad")],
    }
    result = evaluate_strs(truths, predictions)
    json.dumps(result)
    spot = result["spotting"]["overall"]
    assert (spot["tp"], spot["fp"], spot["fn"]) == (2, 1, 2)
    assert spot["f1"] == pytest.approx(4 / 7)
    # Analysis over the 2 pairs (happy->happy, sad->happy), classes happy and sad:
    # happy P 1/2, R 1; sad P 0 (none predicted), R 0. Means P 1/4, R 1/2; F1 = 2 (1/4)(1/2) /
    # (3/4) = 1/3; UF1 = mean(2/3, 0) = 1/3; UAR = 1/2.
    analysis = result["analysis"]
    assert analysis["classes"] == ["happy", "sad"]
    assert analysis["num_pairs"] == 2
    assert analysis["precision"] == pytest.approx(1 / 4)
    assert analysis["recall"] == pytest.approx(1 / 2)
    assert analysis["f1"] == pytest.approx(1 / 3)
    assert analysis["uf1"] == pytest.approx(1 / 3)
    assert analysis["uar"] == pytest.approx(1 / 2)
    assert analysis["confusion"] == [[1, 0], [1, 0]]
    assert result["strs"] == pytest.approx(4 / 7 * 1 / 3)


def test_strs_classes_filter_pairs_and_no_pairs_score_zero():
    truths = {"s/v": [micro(1, 10, "happy"), micro(20, 30, "others")]}
    predictions = {"s/v": [micro(1, 10, "happy"), micro(20, 30, "others")]}
    result = evaluate_strs(truths, predictions, classes=["happy"])
    assert result["analysis"]["num_pairs"] == 1  # the "others" pair is left out
    assert result["strs"] == 1.0
    missed = evaluate_strs(truths, {"s/v": [micro(100, 110, "happy")]})
    assert missed["analysis"]["num_pairs"] == 0
    assert missed["analysis"]["f1"] == 0.0 and missed["strs"] == 0.0


# The STRS-Metric script's defects (genbing99/STRS-Metric, strs_metric.py at eb86468), each
# shown on a hand-built case; the script's numbers are those its code gives on these cases.


def test_defect_uar_is_mean_recall_not_mean_precision():
    # 4 pairs, truths a a b c, predictions a b b b: a P 1 R 1/2; b P 1/3 R 1; c P 0 R 0.
    # Mean recall (UAR) 1/2; the script reports the mean precision 4/9 = 0.4444 as "UAR".
    analysis = analysis_scores(["a", "a", "b", "c"], ["a", "b", "b", "b"], ["a", "b", "c"])
    assert analysis["uar"] == 0.5
    assert analysis["precision"] == pytest.approx(0.4444, abs=1e-4)  # the script's "UAR"
    assert analysis["uar"] != pytest.approx(analysis["precision"])


def test_defect_one_prediction_matches_one_truth_only():
    # 1 prediction against 2 overlapping truths with IoU >= 0.5 each. The script, with no break
    # after a match, counts TP 2, FP 0 (F1 1); here TP 1, FN 1 (F1 2/3).
    truths = {"s/v": [micro(1, 10, "a"), micro(2, 11, "a")]}
    predictions = {"s/v": [micro(1, 10, "a")]}
    assert iou(truths["s/v"][1], predictions["s/v"][0]) >= 0.5
    spot = evaluate_strs(truths, predictions)["spotting"]["overall"]
    assert (spot["tp"], spot["fp"], spot["fn"]) == (1, 0, 1)
    assert spot["f1"] == pytest.approx(2 / 3)


def test_defect_coverage_subjects_without_predictions_and_unlabelled_videos():
    # Subject s2 has truths and no prediction; video s1/x has predictions and no truth. The
    # script takes subjects from the predictions and videos from the truths, so neither
    # counts and it scores spotting F1 1.0; here s2's truth is a FN and s1/x's prediction a FP.
    truths = {"s1/v": [micro(1, 10, "a")], "s2/w": [micro(1, 10, "a")]}
    predictions = {"s1/v": [micro(1, 10, "a")], "s1/x": [micro(1, 10, "a")]}
    spot = evaluate_strs(truths, predictions)["spotting"]["overall"]
    assert (spot["tp"], spot["fp"], spot["fn"]) == (1, 1, 1)
    assert spot["f1"] == 0.5


def test_defect_one_class_gives_a_finite_strs():
    # A perfect one-class toy: the script's 1x1 confusion matrix falls into its except branch
    # (TP = FP = FN = 0), so F1_analysis = 0/0 and STRS is NaN. Here it is 1.
    truths = {"s/v": [micro(1, 10, "surprise"), micro(40, 50, "surprise")]}
    result = evaluate_strs(truths, truths)
    assert result["analysis"]["f1"] == 1.0
    assert result["analysis"]["uf1"] == 1.0 and result["analysis"]["uar"] == 1.0
    assert result["strs"] == 1.0
    # One class, one of its two pairs predicted wrong ("happy", not a class): surprise P 1/1,
    # R 1/2, F1_analysis 2/3.
    wrong = {"s/v": [micro(1, 10, "surprise"), micro(40, 50, "happy")]}
    result = evaluate_strs(truths, wrong)
    assert result["analysis"]["precision"] == 1.0 and result["analysis"]["recall"] == 0.5
    assert result["analysis"]["f1"] == pytest.approx(2 / 3)
    assert result["strs"] == pytest.approx(2 / 3)


@pytest.mark.skipif(not STRS_EXAMPLE.exists(), reason="needs the shared annotations")
def test_strs_example_data_reproduces_mean_casme2_row():
    from mejax.spotting.megc_files import read_str

    truths, predictions = read_str(STRS_EXAMPLE / "gt.csv"), read_str(STRS_EXAMPLE / "pred.csv")
    result = evaluate_strs(truths, predictions)
    spot, analysis = result["spotting"]["overall"], result["analysis"]
    # MEAN's CASME II row (spot F1 .6516, analysis F1 .5927, STRS .3862): the same here as in
    # the script, since every video of the example has truths and predictions and no
    # prediction reaches IoU 0.5 with two truths.
    assert (spot["tp"], spot["fp"], spot["fn"]) == (159, 85, 85)
    assert spot["f1"] == pytest.approx(0.6516, abs=1e-4)
    assert analysis["num_pairs"] == 159
    assert analysis["precision"] == pytest.approx(0.5983, abs=1e-4)
    assert analysis["recall"] == pytest.approx(0.5872, abs=1e-4)
    assert analysis["f1"] == pytest.approx(0.5927, abs=1e-4)
    assert result["strs"] == pytest.approx(0.3862, abs=1e-4)
    # Where mejax differs: UAR. The script reports 0.5983 (the mean precision, defect 1); here
    # UAR is the mean recall, 0.5872, the figure MEAN's own table gives.
    assert analysis["uar"] == pytest.approx(0.5872, abs=1e-4)
    # The VOC rule gives the same counts on this data (no competing pairs).
    voc = evaluate_strs(truths, predictions, rule="voc")
    assert voc["spotting"]["overall"] == spot
