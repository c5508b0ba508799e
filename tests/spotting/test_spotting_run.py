"""Spotting and spot-then-recognise through the one experiment path, on synth_me's tiny long
videos: the run's results and reports, its resumption, the trivial spotter beside the spotter,
STRS by its definition, and a test side whose annotations never reach the spotter."""

import dataclasses
import json

import cv2
import numpy as np
import pytest

from mejax import config_args, experiment, protocols
from mejax.spotting import evaluation, fitter, task, videos
from mejax.spotting import predict as spotting_predict

TINY = "synth_me_long/tiny"


def config_of(file: str, tmp_path, arg=None):
    config = config_args.load_file(f"configs/{file}.py", arg)
    config.dataset.name = TINY
    config.dataset.data_dir = str(tmp_path / "tfds")
    config.spotter.cache_dir = str(tmp_path / "cache")
    config.spotter.softnet.epochs = 1
    return config


@pytest.mark.slow
def test_softnet_spotting_run_reports_the_spotter_beside_the_trivial_spotter(tmp_path):
    config = config_of("spotting", tmp_path)
    results = experiment.run(config, tmp_path / "run")
    assert [r["name"] for r in results["rounds"]] == ["loso_sub01", "loso_sub02", "loso_sub03"]
    assert all(r["validation"] == [] for r in results["rounds"])  # no validation side
    assert results["num_test_videos"] == 3 and set(results["types"]) == {"micro", "macro"}
    for spotter in ("spotting", "trivial"):
        counts = results[spotter]
        overall = counts["overall"]
        assert overall["tp"] == counts["micro"]["tp"] + counts["macro"]["tp"]
        assert overall["tp"] + overall["fn"] == sum(results["num_expressions"].values())
    assert results["f1"]["overall"] == results["spotting"]["overall"]["f1"]
    assert results["trivial_f1"]["overall"] == results["trivial"]["overall"]["f1"]
    assert results["trivial"]["overall"]["recall"] > 0.5  # windows tile every video
    written = json.loads((tmp_path / "run" / "results.json").read_text())
    assert written["f1"] == results["f1"]
    report = (tmp_path / "run" / "results.md").read_text()
    assert "| trivial | overall |" in report and "| softnet | micro |" in report
    # A finished round is read back, not spotted again.
    assert experiment.run(config, tmp_path / "run") == results

    # A new long video (here a folder of one tiny video's frames): its score over time.
    video = videos.load(config.dataset).videos[0]
    folder = tmp_path / "frames"
    folder.mkdir()
    for start, frames in video.frames(64):
        for offset, frame in enumerate(frames):
            path = folder / f"img{start + offset + 1}.png"
            cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    found = spotting_predict.spot_video(
        tmp_path / "run", folder, output_dir=tmp_path / "out", fps=video.fps, face_crop=False
    )
    assert found["num_frames"] == len(video) and "synthetic" in found["warnings"][0]
    for kind in ("micro", "macro"):
        assert len(found["types"][kind]["score"]) <= len(video)
        for interval in found["types"][kind]["intervals"]:
            assert 1 <= interval["onset"] <= interval["offset"] <= len(video)
    assert json.loads((tmp_path / "out" / "frames.json").read_text()) == found
    assert (tmp_path / "out" / "frames.png").stat().st_size > 0


def test_mdmd_spots_without_training(tmp_path):
    config = config_of("spotting", tmp_path, "mdmd")
    results = experiment.run(config, tmp_path / "run")
    assert results["spotter"] == "mdmd" and results["num_test_videos"] == 3
    settings = results["rounds"][0]["settings"]
    assert settings["k_micro"] >= 1 and settings["k_macro"] > settings["k_micro"]


@pytest.mark.slow
def test_spot_then_recognise_reports_strs_as_spotting_f1_times_analysis_f1(tmp_path):
    config = config_of("spot_then_recognise", tmp_path)
    config.spotter.softnet.epochs = 2
    results = experiment.run(config, tmp_path / "run")
    assert results["types"] == ["micro"]
    analysis = results["analysis"]
    assert results["strs"] == pytest.approx(results["spotting"]["overall"]["f1"] * analysis["f1"])
    assert "Spot-then-recognise: STRS" in (tmp_path / "run" / "results.md").read_text()


def test_the_spotter_never_reads_the_test_videos_annotations(tmp_path):
    """The same round with the test video's expressions moved elsewhere spots the same
    intervals: only the record's truths change."""
    config = config_of("spotting", tmp_path, "mdmd")
    data = videos.load(config.dataset)
    spotting = task.Spotting()
    round_ = protocols.loso(data.subjects)[0]
    records = []
    for shift in (0, 40):
        moved = []
        for video in data.videos:
            if video.subject in round_.test:
                events = [dataclasses.replace(e, onset=e.onset + shift, offset=e.offset + shift)
                          for e in video.events]  # fmt: skip
                video = dataclasses.replace(video, events=events)
            moved.append(video)
        moved = videos.VideoSet(moved)
        run = fitter.SpotterFitter(config)
        run.prepare(spotting, moved, spotting.targets(moved), tmp_path)
        records.append(dict(run.fit([(0, round_.without_validation())]))[0])
    for field in task.FIELDS:
        np.testing.assert_array_equal(
            records[0][f"spotter_{field}"], records[1][f"spotter_{field}"]
        )
    assert not np.array_equal(records[0]["truth_onset"], records[1]["truth_onset"])


def test_record_intervals_round_trip():
    found = {
        "s1/v1": [evaluation.Interval(3, 9, "micro", 0.5, "happy")],
        "s1/v2": [],
    }
    record = {"videos": np.asarray(list(found)), **task.record_intervals("spotter", found)}
    assert task.read_intervals(record, "spotter") == found


def test_plan_counts_videos_expressions_and_windows_per_round(tmp_path):
    from mejax import plan

    config = config_of("spotting", tmp_path)
    result = plan.plan(config)
    assert not result.impossible and len(result.rounds) == 3
    data = videos.load(config.dataset)
    for entry in result.rounds:
        assert entry["test"]["clips"] == 1 and entry["train"]["clips"] == len(data) - 1
        for windows in entry["windows"].values():
            assert 1 <= windows["k"] and 0 < windows["test"] < windows["train"] + windows["test"]
    lines = "\n".join(result.lines())
    assert "training windows" in lines and "3 videos of 3 subjects" in lines
