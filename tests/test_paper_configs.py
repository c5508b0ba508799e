"""The paper settings of the STAP-family configs build against the real-database builders
(on their dummy data: synthetic pixels in the real folder layout)."""

import importlib.util
from pathlib import Path

import ml_collections
import pytest

from mejax import input_pipeline, tasks

REPO = Path(__file__).resolve().parents[1]


def load_config(arg):
    spec = importlib.util.spec_from_file_location("stapf", REPO / "configs" / "stapf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg)


@pytest.mark.parametrize("arg", ["casme2", "samm"])
def test_paper_setting_reads_the_database(arg, tmp_path):
    config = load_config(arg)
    database = config.dataset.name.split("/")[0]
    dataset = ml_collections.ConfigDict(
        {
            "name": config.dataset.name,
            "data_dir": str(tmp_path),
            "manual_dir": str(REPO / "mejax" / "datasets" / database / "dummy_data"),
        }
    )
    builder = input_pipeline.database_builder(dataset)
    subjects = input_pipeline.subjects(builder)
    data = input_pipeline.load_clips(
        builder,
        "+".join(subjects),
        config.input.num_frames,
        config.input.image_size,
        config.input.temporal_model,
    )
    assert data.clips.shape[1:] == (10, 224, 224, 3)
    assert sorted(set(data.subjects)) == subjects
    task = tasks.AUOneVsRest(tuple(config.task.aus), config.task.loss)
    labels = task.labels(data.aus)
    assert labels.shape == (len(data), len(config.task.aus))
    assert labels.any(), "the dummy annotations code some of the paper's AUs"
