"""Two paper settings run end to end on mock copies built from the real coding sheets: the
mock written, the builder and its cached variant built from it, two rounds of the protocol
trained (two steps each), validated and tested. The models are the tiny variants at a small
input size (the suite's budget); ``benchmarks/paper_settings.py`` runs the paper's own models
through every round. Skipped where the sheets are not at hand."""

import json

import pytest

from mejax import experiment, paper_settings, plan
from mejax.datasets import mock
from tests.conftest import SHARED

ANNOTATIONS = SHARED / "annotations"
pytestmark = [
    pytest.mark.skipif(not ANNOTATIONS.is_dir(), reason="the real coding sheets are absent"),
    pytest.mark.slow,
]


def _shrunk(config, model: str, **input_fields):
    """The setting with a tiny model, two rounds of two steps and no pre-trained weights."""
    config.init_from = "none"
    config.model.name = model
    if "width" in config.model:
        del config.model["width"]
    config.input.update(input_fields)
    config.protocol.rounds = (0, 1)
    config.train.max_steps = 2
    config.train.log_every_steps = 1
    config.train.eval_batch_size = 8
    return config


@pytest.mark.parametrize(
    "name, database, model, input_fields",
    [
        # STAPF on CASME II (STAP Table III): raw frames, TIM, one-vs-rest over 11 AUs.
        ("stapf:casme2", "casme2", "i3d_classifier_tiny", {"image_size": 32}),
        # Micro-Attention on SMIC (its 3 classes, LOSO): the cached apex_240 variant, every
        # class resampled up to the largest.
        ("micro_attention:smic", "smic", "micro_attention_tiny", {}),
    ],
)
def test_paper_setting_runs_two_rounds_on_its_mock(name, database, model, input_fields, tmp_path):
    mock.write(database, tmp_path / "copies" / database, annotations=ANNOTATIONS,
               frame_size=(32, 32), progress=False)  # fmt: skip
    (setting,) = [s for s in paper_settings.settings() if s.name == name]
    config = paper_settings.on_copies(setting.load(), tmp_path / "copies", tmp_path / "tfds")
    config = _shrunk(config, model, **input_fields)
    planned = plan.plan(config)
    assert not planned.impossible, planned.problems
    results = experiment.run(config, tmp_path / "run")
    assert [r["name"] for r in results["rounds"]] == [r["name"] for r in planned.rounds]
    written = json.loads((tmp_path / "run" / "results.json").read_text())
    assert len(written["rounds"]) == 2
    for round_, expected in zip(written["rounds"], planned.rounds, strict=True):
        assert round_["test"] == expected["test"]["subjects"]
    steps = [json.loads(line)["step"] for line in (tmp_path / "run/metrics.jsonl").open()]
    assert max(steps) == 2  # each round stopped after train.max_steps
