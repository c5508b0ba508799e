"""The test side never reaches training or model selection, end to end.

DESIGN.md, "We never do [select on the test fold]": a protocol is run twice, the second time with
the inputs and labels of the round's test clips replaced by others. Training (every logged loss),
the selection (the selected step or C and its validation score) and every validation figure must
be the same; the test figures must not (the replacement reached them). Any place where the loop
reads the test side in place of the validation side (or the training side) fails this: the deep
loop (:func:`mejax.experiment.run`) and the hand-crafted baselines (:func:`mejax.experiment.run`).
"""

import json

import numpy as np
import pytest

from mejax import experiment, input_pipeline, paper_sets, protocols, tasks
from mejax.baselines import features
from tests import tiny_configs

# Keys of metrics.jsonl that measure time, not what was computed.
TIMING = ("step_time",)


def subjects_tested(config, clips, selection="validation") -> list[str]:
    """The subjects of round 0's test side, as the run deals them."""
    data, _ = tasks.build(config.task, clips).take_part(paper_sets.apply(clips, config.task))
    rounds = protocols.build(config.protocol, data, config.seed, selection)
    return list(rounds[0].test)


def replace_test_side(clips, subjects, seed=0):
    """A copy of ``clips`` whose test clips have other inputs (noise) and other labels (each AU
    flipped; emotions and objective classes rotated among them, so that the run's classes stay)."""
    index = clips.of_subjects(subjects)
    other = clips.take(np.arange(len(clips)))
    rng = np.random.default_rng(seed)
    if np.issubdtype(other.inputs.dtype, np.integer):
        other.inputs[index] = rng.integers(0, 256, other.inputs[index].shape, other.inputs.dtype)
    else:
        other.inputs[index] = rng.normal(size=other.inputs[index].shape).astype(other.inputs.dtype)
    other.aus[index] = ~other.aus[index]
    rotated = np.roll(index, 1)
    for i, j in zip(index, rotated, strict=True):
        other.emotion[i] = clips.emotion[j]
    other.objective_class[index] = clips.objective_class[rotated]
    return other


def logged(workdir) -> list[dict]:
    lines = (workdir / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k not in TIMING} for line in lines]


def records(workdir) -> dict:
    out = {}
    for path in sorted(workdir.glob("*/predictions.npz")):
        with np.load(path) as npz:
            out[path.parent.name] = {key: npz[key] for key in npz.files}
    return out


def assert_same_training_and_selection(a, b, selection_keys):
    assert a.keys() == b.keys() and a
    for name in a:
        for key in selection_keys:
            np.testing.assert_array_equal(a[name][key], b[name][key], err_msg=f"{name} {key}")


@pytest.mark.slow
def test_deep_loop_trains_and_selects_without_the_test_side(tmp_path, tiny_data_dir, monkeypatch):
    """STAPF (tiny I3D, AUs 4 and 7) on synth_me/tiny, round 0 of STAP's 2-fold protocol: three
    training subjects, two validation subjects, one test subject; a validation every epoch."""
    config = tiny_configs.tiny("stapf").unlock()
    config.dataset.data_dir = str(tiny_data_dir)
    config.protocol.rounds = (0,)
    config.lock()
    clips = input_pipeline.load(config)
    tested = subjects_tested(config, clips)
    replaced = replace_test_side(clips, tested)

    runs = {}
    for name, given in (("original", clips), ("replaced", replaced)):
        monkeypatch.setattr(input_pipeline, "load", lambda config, given=given: given)
        runs[name] = experiment.run(config, tmp_path / name)
    original, other = tmp_path / "original", tmp_path / "replaced"

    # Training and every validation figure: each logged loss, rate and validation score.
    assert logged(original) == logged(other)
    assert any("val/score" in r for r in logged(original))
    assert any("loss" in r for r in logged(original))
    # The selection: each model's selected step and validation score.
    a, b = records(original), records(other)
    assert_same_training_and_selection(
        a, b, ("selected_step", "selected_score", "validation_positives")
    )
    subjects = [(run / "round0" / "subjects.json").read_text() for run in (original, other)]
    assert subjects[0] == subjects[1]
    # The replacement reached the test side: other labels, other scores.
    assert not np.array_equal(a["round0"]["labels"], b["round0"]["labels"])
    assert not np.allclose(a["round0"]["scores"], b["round0"]["scores"])
    assert runs["original"]["rounds"] == runs["replaced"]["rounds"]


def test_baseline_selects_c_without_the_test_side(tmp_path, tiny_data_dir, monkeypatch):
    """LBP-SIP + linear SVMs on synth_me/tiny: C chosen per AU on the validation subjects."""
    config = tiny_configs.tiny("lbp_sip").unlock()
    config.baseline.descriptor.radii = (2, 2, 2)
    config.dataset.data_dir = str(tiny_data_dir)
    config.baseline.cache_dir = str(tmp_path / "cache")
    config.protocol.rounds = (0,)
    config.lock()
    extract = features.extract
    descriptors, cache = extract(config, input_pipeline.database_builder(config.dataset))
    tested = subjects_tested(config, descriptors)
    assert tested and descriptors.inputs.dtype.kind == "f"

    replaced = replace_test_side(descriptors, tested)
    for name, given in (("original", descriptors), ("replaced", replaced)):
        monkeypatch.setattr(features, "extract", lambda *args, given=given, **kw: (given, cache))
        experiment.run(config, tmp_path / name)
    a, b = records(tmp_path / "original"), records(tmp_path / "replaced")
    assert_same_training_and_selection(
        a, b, ("selected_c", "selected_step", "selected_score", "validation_positives")
    )
    assert not np.array_equal(a["round0"]["labels"], b["round0"]["labels"])
    assert not np.allclose(a["round0"]["scores"], b["round0"]["scores"])
