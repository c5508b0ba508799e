"""MEGC2018 and MEGC2019 composites on their dummy data."""

import shutil

import pytest
import tensorflow_datasets as tfds

from mejax.datasets import aus, readers
from mejax.datasets.megc2018 import Megc2018
from mejax.datasets.megc2019 import Megc2019


class Megc2018Test(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Megc2018
    BUILDER_CONFIG_NAMES_TO_TEST = ["cropped"]
    # Classes I-V only: CASME II EP02_03f (I), EP03_02 (II), EP12_01f (III); SAMM 006_1_2
    # (III), 028_2_2 (I).
    SPLITS = {"casme2_sub01": 1, "casme2_sub02": 1, "casme2_sub04": 1, "samm_006": 1,
              "samm_028": 1}  # fmt: skip


class Megc2019Test(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Megc2019
    BUILDER_CONFIG_NAMES_TO_TEST = ["cropped"]
    SPLITS = {"casme2_sub01": 2, "casme2_sub02": 1, "samm_006": 1, "samm_028": 1,
              "smic_s01": 2, "smic_s02": 1}  # fmt: skip


def _build(name, manual_dir, data_dir):
    b = tfds.builder(name, data_dir=str(data_dir))
    b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
    return b, {
        (ex["subject"].decode(), ex["clip"].decode()): ex
        for ex in tfds.as_numpy(b.as_dataset(split="all"))
    }


def test_megc2018_labels_and_report(tmp_path):
    b, examples = _build("megc2018", Megc2018.code_path.parent / "dummy_data", tmp_path)
    assert {k.split("_")[0] for k in b.info.metadata["build_report"]["face_crops"]} == {"samm"}
    classes = {k: aus.OBJECTIVE_CLASSES[ex["objective_class"]] for k, ex in examples.items()}
    assert classes[("casme2_sub02", "EP03_02")] == "II"
    assert classes[("samm_028", "028_2_2")] == "I"
    assert {ex["database"].decode() for ex in examples.values()} == {"casme2", "samm"}
    reasons = [e["reason"] for e in b.info.metadata["build_report"]["excluded"]]
    assert len(reasons) == 3 and all("not one of MEGC2018" in r for r in reasons)


def test_megc2019_labels(tmp_path):
    b, examples = _build("megc2019", Megc2019.code_path.parent / "dummy_data", tmp_path)
    labels = {k: ex["emotion"].decode() for k, ex in examples.items()}
    assert labels[("casme2_sub01", "EP02_03f")] == "positive"
    assert labels[("smic_s02", "s02_sur_01")] == "surprise"
    assert examples[("samm_028", "028_4_1")]["apex"] == 2  # SAMM erratum applied
    assert examples[("smic_s01", "s01_ne_01")]["fps"] == 100.0
    # cropped: SAMM, which distributes no crops, is face-cropped (one box per clip); CASME II
    # and SMIC are read as they distribute their crops.
    crops = b.info.metadata["build_report"]["face_crops"]
    assert sorted(crops) == ["samm_006_006_1_2", "samm_028_028_4_1"]
    for key in crops:
        subject, clip = key.split("_", 2)[1], key.split("_", 2)[2]
        _, _, side = crops[key]["box"]
        assert examples[(f"samm_{subject}", clip)]["frames"].shape[1:3] == (side, side)
        assert side < crops[key]["frame_size"][0] / 2
    assert examples[("casme2_sub01", "EP02_03f")]["frames"].shape[1:3] == (12, 16)


def test_megc2019_ground_truth_row_without_clip(tmp_path):
    root = tmp_path / "manual"
    shutil.copytree(Megc2019.code_path.parent / "dummy_data", root)
    with open(root / "combined_3class_gt.csv", "a") as f:
        f.write("samm,7,007_1_1,0\n")
    with pytest.raises(readers.AnnotationError, match=r"row 9: samm samm_007 007_1_1"):
        _build("megc2019", root, tmp_path / "tfds")
