"""mejax.recognition_report on a made-up experiment whose every figure is worked out by hand.

Classes 0 neg, 1 pos, 2 sur; two database parts (casme2, samm); three rounds, the last without
test clips. (true, predicted) per clip:

  round0 (majority of its training clips: neg)
    casme2: (0,0) (0,0) (1,1) (2,1)      samm: (0,1) (1,1)
  round1 (majority: pos)
    casme2: (2,2) (0,0) (1,2)            samm: (0,0) (1,1)
  round2 (majority: sur): no test clip

samm has no "sur" clip and no "sur" prediction: its means still count "sur" (F1 0, recall 0).
F1 of a class = 2 tp / (2 tp + fp + fn).
"""

import json
import struct

import numpy as np
import pytest

from mejax import recognition_report

CLASSES = ["neg", "pos", "sur"]


def record(pairs, databases, majority):
    return {
        "labels": np.asarray([t for t, _ in pairs], np.int64),
        "predictions": np.asarray([p for _, p in pairs], np.int64),
        "databases": np.asarray(databases, dtype=str if databases else "<U6"),
        "majority": np.asarray(majority),  # 0-d or (1,)
    }


def records():
    return [
        record([(0, 0), (0, 0), (1, 1), (2, 1), (0, 1), (1, 1)], ["casme2"] * 4 + ["samm"] * 2, 0),
        record([(2, 2), (0, 0), (1, 2), (0, 0), (1, 1)], ["casme2"] * 3 + ["samm"] * 2, [1]),
        record([], [], 2),
    ]


@pytest.fixture(scope="module")
def results():
    return recognition_report.summarize(records(), ["round0", "round1", "round2"], CLASSES)


def test_pooled_figures_by_hand(results):
    assert results["classes"] == CLASSES and results["num_test_clips"] == 11
    # true neg: 4 right, 1 called pos; true pos: 3 right, 1 called sur; true sur: 1 called pos.
    assert results["confusion"] == [[4, 1, 0], [0, 3, 1], [0, 1, 1]]
    # neg: tp 4 fp 0 fn 1 -> F1 8/9, recall 4/5; pos: tp 3 fp 2 fn 1 -> F1 6/9, recall 3/4;
    # sur: tp 1 fp 1 fn 1 -> F1 1/2, recall 1/2.
    assert results["uf1"] == pytest.approx((8 / 9 + 6 / 9 + 1 / 2) / 3)  # 37/54
    assert results["uar"] == pytest.approx((4 / 5 + 3 / 4 + 1 / 2) / 3)  # 41/60
    assert results["war"] == pytest.approx(8 / 11)
    # supports 5, 4, 2
    assert results["wf1"] == pytest.approx((5 * 8 / 9 + 4 * 6 / 9 + 2 * 1 / 2) / 11)  # 73/99
    assert results["num_samples"] == 11


def test_macro_f1_fold_mean_by_hand(results):
    # round0: labels 0 0 1 2 0 1, predictions 0 0 1 1 1 1; classes present 0 1 2.
    #   neg tp 2 fp 0 fn 1 -> 4/5; pos tp 2 fp 2 fn 0 -> 4/6; sur tp 0 fn 1 -> 0: 22/45.
    # round1: labels 2 0 1 0 1, predictions 2 0 2 0 1.
    #   neg tp 2 -> 1; pos tp 1 fn 1 -> 2/3; sur tp 1 fp 1 -> 2/3: 7/9.
    # Mean (22/45 + 35/45) / 2 = 19/30; round2 has no clip and takes no part.
    assert results["macro_f1_fold_mean"] == pytest.approx(19 / 30)
    assert results["macro_f1_fold_mean"] != pytest.approx(results["uf1"])


def test_per_fold_rows(results):
    round0, round1, round2 = results["per_fold"]
    assert [f["name"] for f in results["per_fold"]] == ["round0", "round1", "round2"]
    assert [f["majority_class"] for f in results["per_fold"]] == ["neg", "pos", "sur"]
    # round0: F1 as above; recalls neg 2/3, pos 2/2, sur 0/1; 4 of 6 right.
    assert round0["num_samples"] == 6
    assert round0["uf1"] == pytest.approx(22 / 45)
    assert round0["uar"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert round0["war"] == pytest.approx(4 / 6)
    # round1: recalls neg 2/2, pos 1/2, sur 1/1; 4 of 5 right.
    assert round1["uf1"] == pytest.approx(7 / 9)
    assert round1["uar"] == pytest.approx((1 + 1 / 2 + 1) / 3)
    assert round1["war"] == pytest.approx(4 / 5)
    assert round2 == {
        "name": "round2", "num_samples": 0, "uf1": None, "uar": None, "war": None,
        "majority_class": "sur",
    }  # fmt: skip
    # MEGC2018 HDE's "Avg": the mean over the rounds with test clips, in results.md too.
    uar = ((2 / 3 + 1 + 0) / 3 + (1 + 1 / 2 + 1) / 3) / 2
    assert recognition_report.fold_mean(results["per_fold"], "uar") == pytest.approx(uar)
    uf1, war = (22 / 45 + 7 / 9) / 2, (4 / 6 + 4 / 5) / 2
    row = f"| mean over rounds | | {uf1:.3f} | {uar:.3f} | {war:.3f} |"
    assert row in recognition_report.markdown(results, "t", "")


def test_majority_class_predictor_by_hand(results):
    m = results["majority"]
    # round0 predicts neg for its 6 clips (true 0 0 1 2 0 1), round1 pos for its 5 (2 0 1 0 1).
    assert m["confusion"] == [[3, 2, 0], [2, 2, 0], [1, 1, 0]]
    # neg: tp 3 fp 3 fn 2 -> F1 6/11, recall 3/5; pos: tp 2 fp 3 fn 2 -> F1 4/9, recall 2/4;
    # sur: never predicted -> 0.
    assert m["uf1"] == pytest.approx((6 / 11 + 4 / 9 + 0) / 3)  # 98/297
    assert m["uar"] == pytest.approx((3 / 5 + 1 / 2 + 0) / 3)  # 11/30
    assert m["war"] == pytest.approx(5 / 11)
    assert m["wf1"] == pytest.approx((5 * 6 / 11 + 4 * 4 / 9) / 11)
    # Per round: round0 neg tp 3 fp 3 -> 6/9, others 0: 2/9; round1 pos tp 2 fp 3 -> 4/7: 4/21.
    assert m["macro_f1_fold_mean"] == pytest.approx((2 / 9 + 4 / 21) / 2)  # 13/63


def test_per_database_part_by_hand(results):
    parts = results["per_database"]
    assert list(parts) == ["casme2", "samm"]
    casme2, samm = parts["casme2"], parts["samm"]
    # casme2: (0,0) (0,0) (1,1) (2,1) | (2,2) (0,0) (1,2)
    assert casme2["confusion"] == [[3, 0, 0], [0, 1, 1], [0, 1, 1]]
    # neg F1 1 recall 1; pos tp 1 fp 1 fn 1 -> 1/2, recall 1/2; sur likewise.
    assert casme2["uf1"] == pytest.approx((1 + 1 / 2 + 1 / 2) / 3)
    assert casme2["uar"] == pytest.approx((1 + 1 / 2 + 1 / 2) / 3)
    assert casme2["war"] == pytest.approx(5 / 7)
    assert casme2["wf1"] == pytest.approx((3 * 1 + 2 * 1 / 2 + 2 * 1 / 2) / 7)
    # round0 casme2: 0 0 1 2 -> 0 0 1 1: neg 1, pos 2/3, sur 0 -> 5/9; round1: 2 0 1 -> 2 0 2:
    # neg 1, pos 0, sur 2/3 -> 5/9.
    assert casme2["macro_f1_fold_mean"] == pytest.approx(5 / 9)
    # samm: (0,1) (1,1) | (0,0) (1,1); no sur at all, yet sur counts in the means.
    assert samm["confusion"] == [[1, 1, 0], [0, 2, 0], [0, 0, 0]]
    # neg tp 1 fn 1 -> F1 2/3, recall 1/2; pos tp 2 fp 1 -> F1 4/5, recall 1; sur 0.
    assert samm["uf1"] == pytest.approx((2 / 3 + 4 / 5 + 0) / 3)  # not over 2 classes
    assert samm["uar"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert samm["war"] == pytest.approx(3 / 4)
    assert samm["wf1"] == pytest.approx((2 * 2 / 3 + 2 * 4 / 5) / 4)
    # round0 samm: 0 1 -> 1 1: neg 0, pos 2/3 -> 1/3; round1 samm: right -> 1. The round's
    # mean is over the classes present in it (neg, pos).
    assert samm["macro_f1_fold_mean"] == pytest.approx((1 / 3 + 1) / 2)
    # Majority-class predictor per part. casme2: round0 neg for 0 0 1 2, round1 pos for 2 0 1.
    mc = casme2["majority"]
    assert mc["confusion"] == [[2, 1, 0], [1, 1, 0], [1, 1, 0]]
    # neg tp 2 fp 2 fn 1 -> 4/7, recall 2/3; pos tp 1 fp 2 fn 1 -> 2/5, recall 1/2.
    assert mc["uf1"] == pytest.approx((4 / 7 + 2 / 5) / 3)
    assert mc["uar"] == pytest.approx((2 / 3 + 1 / 2) / 3)
    assert mc["war"] == pytest.approx(3 / 7)
    # samm: round0 neg for 0 1, round1 pos for 0 1: neg and pos F1 1/2, recall 1/2.
    ms = samm["majority"]
    assert ms["uf1"] == pytest.approx((1 / 2 + 1 / 2 + 0) / 3)
    assert ms["uar"] == pytest.approx((1 / 2 + 1 / 2 + 0) / 3)
    assert ms["war"] == pytest.approx(2 / 4)
    assert ms["wf1"] == pytest.approx((2 * 1 / 2 + 2 * 1 / 2) / 4)


def test_results_are_json_serialisable(results):
    assert json.loads(json.dumps(results)) == results


def test_markdown_and_headline_carry_the_figures(results):
    text = recognition_report.markdown(results, "SVM on MEGC2019", "C selected on validation.")
    assert text.startswith("# SVM on MEGC2019\n")
    assert "11 test clips pooled over 3 round(s); C selected on validation." in text
    assert "| part | clips | UF1 | UAR | WAR | WF1 |" in text
    # all: UF1 37/54 = 0.685 (majority 98/297 = 0.330), UAR 41/60 = 0.683 (11/30 = 0.367),
    # WAR 8/11 = 0.727 (5/11 = 0.455), WF1 73/99 = 0.737 (446/1089 = 0.410).
    assert "| all | 11 | 0.685 (0.330) | 0.683 (0.367) | 0.727 (0.455) | 0.737 (0.410) |" in text
    # samm: UF1 22/45 = 0.489 (1/3), UAR 1/2 (1/3), WAR 3/4 (1/2), WF1 11/15 = 0.733 (1/2:
    # neg and pos F1 1/2 on 2 clips each).
    assert "| samm | 4 | 0.489 (0.333) | 0.500 (0.333) | 0.750 (0.500) | 0.733 (0.500) |" in text
    assert "| casme2 | 7 | 0.667 (0.324) |" in text  # 2/3 (34/105)
    assert "all 0.633 (0.206)" in text  # macro F1 fold mean 19/30 (13/63)
    assert "| true \\ predicted | neg | pos | sur |" in text
    assert "| pos | 0 | 3 | 1 |" in text
    assert "| round0 | 6 | 0.489 | 0.556 | 0.667 | neg |" in text
    assert "| round2 | 0 | - | - | - | sur |" in text
    assert "confusion.png" in text
    # The parts side by side as MEGC2019's tables lay them out (same figures, 4 decimals).
    assert "| method | Full | casme2 | samm |" in text
    assert "| SVM | 0.6852 / 0.6833 | 0.6667 / " in text and " | 0.4889 / 0.5000 |" in text
    unpunctuated = recognition_report.markdown(results, "t", "models selected on validation")
    assert "3 round(s); models selected on validation.\n" in unpunctuated
    assert recognition_report.headline(results) == (
        "UF1 0.685 (majority 0.330), UAR 0.683 (0.367), WAR 0.727 (0.455)"
    )


def test_plot_confusion_writes_a_png(results, tmp_path):
    path = tmp_path / "confusion.png"
    recognition_report.plot_confusion(results["confusion"], CLASSES, path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert 200 <= width <= 2000 and 200 <= height <= 2000
    assert 5_000 < len(data) < 500_000
    with pytest.raises(ValueError, match="does not match"):
        recognition_report.plot_confusion(results["confusion"], CLASSES[:2], path)


def test_bad_records_are_refused():
    bad = records()
    bad[0]["predictions"] = bad[0]["predictions"] + 2  # predictions 2 and 3 of 3 classes
    with pytest.raises(ValueError, match="predictions outside"):
        recognition_report.summarize(bad, ["a", "b", "c"], CLASSES)
    with pytest.raises(ValueError, match="round names"):
        recognition_report.summarize(records(), ["a", "b"], CLASSES)
    with pytest.raises(ValueError, match="no test clip"):
        recognition_report.summarize([records()[2]], ["a"], CLASSES)
