"""Tests of cached preprocessing: variant names, schemas and the synth_me_cached builder."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import tensorflow_datasets as tfds

from mejax.datasets.synth_me import SynthMeCached, SynthMeCachedConfig, SynthMeConfig
from mejax.preprocess import cached, flow, tim


def test_parse_variants():
    assert cached.parse("tim10_224") == cached.Variant("tim10_224", "tim", 224, num_frames=10)
    assert cached.parse("apex_224").kind == "apex"
    aug = cached.parse("flow_tvl1_28_aug70")
    assert (aug.kind, aug.size, aug.method, aug.augmented) == ("flow", 28, "tvl1", True)
    assert cached.parse("flow_farneback_28").method == "farneback"
    with pytest.raises(ValueError, match="unknown preprocessing variant 'flow_28'"):
        cached.parse("flow_28")


def test_transform_errors_name_the_clip():
    example = {key: 0 for key in cached.LABEL_KEYS}
    example.update(frames=np.zeros((6, 8, 8, 3), np.uint8), onset=4, apex=2, offset=5)
    with pytest.raises(ValueError, match="sub01_ep01: onset > apex"):
        list(cached.transform([("sub01_ep01", example)], cached.parse("apex_8")))


def test_resize_flow_scales_the_vectors():
    field = np.zeros((40, 20, 2), np.float32)
    field[..., 0], field[..., 1] = 2.0, 4.0
    np.testing.assert_allclose(cached.resize_flow(field, 10)[0, 0], [1.0, 1.0])


def _load(builder):
    return {
        e["clip"].decode(): e
        for split in builder.info.splits
        for e in tfds.as_numpy(builder.as_dataset(split=split))
    }


def test_synth_me_cached_matches_the_raw_clips(tmp_path):
    # A 2 x 2-clip database at 32 px keeps TV-L1 cheap; the named configs differ only in size.
    size = dict(num_subjects=2, clips_per_subject=2, image_size=32)
    data_dir = str(tmp_path)
    raw_builder = tfds.builder(
        "synth_me", config=SynthMeConfig(name="t", **size), data_dir=data_dir
    )
    raw_builder.download_and_prepare()
    raw = _load(raw_builder)
    loaded = []
    for variant in ("tim10_32", "flow_tvl1_8"):
        config = SynthMeCachedConfig(name=f"t_{variant}", variant=variant, **size)
        builder = tfds.builder("synth_me_cached", config=config, data_dir=data_dir)
        builder.download_and_prepare()
        assert set(builder.info.splits) == set(raw_builder.info.splits)
        loaded.append(_load(builder))
    timmed, flows = loaded
    assert (
        set(timmed)
        == set(raw)
        == set(flows)
        == {"sub01_ep01", "sub01_ep02", "sub02_ep01", "sub02_ep02"}
    )
    clips = ("sub01_ep01", "sub01_ep02")  # one subject: the batch shape the builder compiled
    pairs = [(raw[c]["frames"][raw[c]["onset"]], raw[c]["frames"][raw[c]["apex"]]) for c in clips]
    reference = np.asarray(flow.tvl1(*(np.stack(p) for p in zip(*pairs, strict=True))))
    for index, clip in enumerate(clips):
        source = raw[clip]
        np.testing.assert_array_equal(timmed[clip]["aus"], source["aus"])
        assert flows[clip]["objective_class"] == source["objective_class"]
        assert timmed[clip]["apex"] == source["apex"]
        np.testing.assert_array_equal(
            timmed[clip]["frames"],
            tim.tim(source["frames"][source["onset"] : source["offset"] + 1], 10),
        )
        expected = cached.resize_flow(reference[index], 8)
        assert flows[clip]["flow"].shape == (8, 8, 2)
        np.testing.assert_allclose(flows[clip]["flow"], expected, atol=1e-3)
        assert np.abs(expected).max() > 0.01  # some motion is there to be matched


def test_synth_me_cached_configs():
    names = set(SynthMeCached.builder_configs)
    assert {"tiny_tim10_48", "tiny_flow_tvl1_28", "small_flow_tvl1_28_aug70"} <= names
    config = SynthMeCached.builder_configs["small_apex_112"]
    assert (config.num_subjects, config.image_size) == (20, 112)
    with pytest.raises(ValueError, match="unknown preprocessing variant 'hog_8'"):
        SynthMeCachedConfig(name="bad", variant="hog_8")


def test_synth_me_cached_is_a_database_name(tmp_path):
    # input_pipeline.database_builder imports mejax.datasets.<name before '/'>.
    module = importlib.import_module("mejax.datasets.synth_me_cached")
    b = tfds.builder("synth_me_cached/tiny_tim10_48", data_dir=str(tmp_path))
    assert isinstance(b, module.SynthMeCached) and b.builder_config.variant == "tim10_48"
