"""Tests of cached preprocessing: variant names, schemas and the synth_me_cached builder."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import tensorflow_datasets as tfds

from mejax.datasets.synth_me import SynthMeCached, SynthMeCachedConfig, SynthMeConfig, render
from mejax.preprocess import cached, flow, tim


def test_parse_variants():
    assert cached.parse("tim10_224") == cached.Variant("tim10_224", "tim", 224, num_frames=10)
    assert cached.parse("apex_224").kind == "apex"
    aug = cached.parse("flow_tvl1_28_aug70")
    assert (aug.kind, aug.size, aug.method, aug.augmented) == ("flow", 28, "tvl1", True)
    assert cached.parse("flow_farneback_28").method == "farneback"
    with pytest.raises(ValueError, match="unknown preprocessing variant 'flow_28'"):
        cached.parse("flow_28")


def test_parse_emr_variants():
    evm = cached.parse("flow_farneback_64_evm")
    assert (evm.kind, evm.size, evm.method, evm.emr, evm.augmented) == (
        "flow", 64, "farneback", "evm", False
    )  # fmt: skip
    assert cached.parse("flow_farneback_64_reduced").emr == "reduced"
    assert cached.parse("flow_tvl1_64_evm").method == "tvl1"
    assert cached.parse("flow_tvl1_28_aug70").emr == "" and cached.parse("flow_tvl1_28").emr == ""
    for bad in ("flow_farneback_64_evm_aug70", "flow_farneback_64_magnified", "apex_64_evm"):
        with pytest.raises(
            ValueError, match=f"'{bad}'; expected tim<N>_<size>.*_evm or .*_reduced"
        ):
            cached.parse(bad)


def _clip_example(frames, onset, apex, offset):
    example = {key: 0 for key in cached.LABEL_KEYS}
    example.update(frames=frames, onset=onset, apex=apex, offset=offset)
    return example


def _blob_clip(frames=16, size=64, speed=0.08):
    """A smooth blob drifting right by ``speed`` px per frame from frame 2 on."""
    y, x = np.mgrid[:size, :size].astype(np.float32)
    shift = np.maximum(np.arange(frames) - 2, 0) * speed
    centre = size / 2 + shift[:, None, None]
    blob = 60 + 140 * np.exp(-((x - centre) ** 2 + (y - size / 2) ** 2) / (2 * 9.0**2))
    return np.repeat(np.rint(blob)[..., None], 3, axis=-1).astype(np.uint8)


def test_evm_variant_magnifies_the_flow():
    frames = _blob_clip()
    example = _clip_example(frames, 1, 14, 15)
    flows = {}
    for name in ("flow_farneback_64", "flow_farneback_64_evm"):
        ((_, out),) = cached.transform([("c", example)], cached.parse(name))
        assert out["flow"].shape == (64, 64, 2) and out["apex"] == 14
        flows[name] = np.hypot(out["flow"][..., 0], out["flow"][..., 1])[16:48, 8:56].mean()
    assert flows["flow_farneback_64"] > 0.05  # the plain flow sees the drift
    assert flows["flow_farneback_64_evm"] > 1.3 * flows["flow_farneback_64"], flows
    pair = cached.magnified_pair(frames[1:15])
    np.testing.assert_array_equal(pair[0], frames[1])  # the onset is left as it is
    np.testing.assert_array_equal(cached.magnified_pair(frames[3:4]), frames[[3, 3]])


def test_reduced_variant_flows_to_the_middle_frame():
    frames = _blob_clip(frames=12, size=32, speed=0.3)
    for onset, apex in ((0, 11), (1, 11)):  # 12 and 11 frames: middle 0 + 6, 1 + 5
        middle = onset + (apex - onset + 1) // 2
        ((_, reduced),) = cached.transform(
            [("c", _clip_example(frames, onset, apex, 11))],
            cached.parse("flow_farneback_16_reduced"),
        )
        ((_, plain),) = cached.transform(
            [("c", _clip_example(frames, onset, middle, 11))], cached.parse("flow_farneback_16")
        )
        np.testing.assert_array_equal(reduced["flow"], plain["flow"])
        assert reduced["apex"] == apex  # the annotated apex is kept
        assert np.abs(reduced["flow"]).max() > 0.1


def test_farneback_variants_use_the_recognisers_parameters(monkeypatch):
    calls = []
    monkeypatch.setattr(flow, "farneback", lambda a, b, **kw: calls.append(kw) or a[..., :2] * 0.0)
    frames = np.zeros((2, 8, 8, 3), np.uint8)
    list(
        cached.transform([("c", _clip_example(frames, 0, 1, 1))], cached.parse("flow_farneback_8"))
    )
    assert calls == [
        dict(pyr_scale=0.5, levels=1, winsize=15, iterations=2, poly_n=5, poly_sigma=1.1)
    ]


def test_transform_errors_name_the_clip():
    example = {key: 0 for key in cached.LABEL_KEYS}
    example.update(frames=np.zeros((6, 8, 8, 3), np.uint8), onset=4, apex=2, offset=5)
    with pytest.raises(ValueError, match="sub01_ep01: onset > apex"):
        list(cached.transform([("sub01_ep01", example)], cached.parse("apex_8")))


def test_tim_phases_index_the_interpolated_frames():
    # 21 frames onset..offset (2..22) to 10: frame i lands at i * 9 / 20.
    assert cached.tim_phases(2, 10, 22, 10) == (0, 4, 9)  # 8 * 9 / 20 = 3.6
    assert cached.tim_phases(0, 5, 10, 10) == (0, 5, 9)  # 4.5 rounds up
    assert cached.tim_phases(3, 3, 9, 10) == (0, 0, 9)
    assert cached.tim_phases(3, 9, 9, 10) == (0, 9, 9)  # neutral to peak (CK+)
    assert cached.tim_phases(0, -1, 30, 10) == (0, -1, 9)  # no annotated apex
    assert cached.tim_phases(4, 4, 4, 10) == (0, 0, 9)  # a one-frame clip
    with pytest.raises(ValueError, match="onset 5, apex 3, offset 9"):
        cached.tim_phases(5, 3, 9, 10)
    with pytest.raises(ValueError, match="num_frames=0"):
        cached.tim_phases(0, 1, 2, 0)


def test_tim_variant_stores_the_phases_of_its_frames():
    example = {key: 0 for key in cached.LABEL_KEYS}
    frames = np.zeros((30, 8, 8, 3), np.uint8)
    frames[12:, 2:6, 2:6] = 200  # the apex's content, to see where the apex lands
    example.update(frames=frames, onset=2, apex=12, offset=27)
    ((key, out),) = cached.transform([("c", example)], cached.parse("tim10_8"))
    assert (out["onset"], out["apex"], out["offset"]) == (0, 4, 9)  # 10 * 9 / 25 = 3.6
    assert out["frames"].shape == (10, 8, 8, 3)
    # The stored indices index the stored frames: they pass the input pipeline's check.
    assert 0 <= out["onset"] <= out["apex"] <= out["offset"] < len(out["frames"])
    (apex,) = cached.transform([("c", example)], cached.parse("apex_8"))
    assert (apex[1]["onset"], apex[1]["apex"], apex[1]["offset"]) == (2, 12, 27)


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
        onset, apex, offset = (int(source[k]) for k in ("onset", "apex", "offset"))
        stored = (timmed[clip]["onset"], timmed[clip]["apex"], timmed[clip]["offset"])
        assert stored == cached.tim_phases(onset, apex, offset, 10)
        assert flows[clip]["apex"] == source["apex"]
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
    recognition = {
        "tiny_apex_48",
        "tiny_flow_tvl1_28",
        "small_apex_64",
        "small_flow_tvl1_64",
        "macro_apex_64",
        "macro_flow_tvl1_64",
        "macro_tiny_apex_48",
        "macro_tiny_flow_tvl1_28",
    }
    assert recognition <= names
    config = SynthMeCached.builder_configs["small_apex_112"]
    assert (config.num_subjects, config.image_size) == (20, 112)
    macro = SynthMeCached.builder_configs["macro_apex_64"]
    assert (macro.expression, macro.num_subjects, macro.image_size) == ("macro", 10, 112)
    # The recognition flows are computed at their stored size; the others at the frames'.
    assert SynthMeCached.builder_configs["small_flow_tvl1_64"].flow_work_size == 64
    assert SynthMeCached.builder_configs["macro_flow_tvl1_64"].flow_work_size == 64
    assert SynthMeCached.builder_configs["small_flow_tvl1_28"].flow_work_size == 0
    with pytest.raises(ValueError, match="flow_work_size=48 must be 0, or in \\[8, image_size"):
        SynthMeCachedConfig(name="bad", variant="apex_48", flow_work_size=48)
    with pytest.raises(ValueError, match="flow_work_size=200"):
        SynthMeCachedConfig(name="bad", variant="flow_tvl1_64", flow_work_size=200)


def test_synth_me_cached_passes_the_flow_work_size(monkeypatch, tmp_path):
    calls = []

    def transform(examples, variant, **options):
        calls.append((variant.name, options["work_size"]))
        return iter(())

    monkeypatch.setattr(cached, "transform", transform)
    for name in ("small_flow_tvl1_64", "tiny_flow_tvl1_28"):
        builder = tfds.builder(f"synth_me_cached/{name}", data_dir=str(tmp_path))
        assert list(builder._generate_examples(0)) == []
    assert calls == [("flow_tvl1_64", 64), ("flow_tvl1_28", None)]
    with pytest.raises(ValueError, match="unknown preprocessing variant 'hog_8'"):
        SynthMeCachedConfig(name="bad", variant="hog_8")


def test_macro_tiny_apex_variant_holds_the_macro_clips(tmp_path):
    builder = tfds.builder("synth_me_cached/macro_tiny_apex_48", data_dir=str(tmp_path))
    builder.download_and_prepare()
    assert sorted(builder.info.splits) == ["mac01", "mac02", "mac03", "mac04"]
    examples = _load(builder)
    assert len(examples) == 16
    example = examples["mac03_ep04"]
    clip = render.generate_clip(0, 2, 3, 48, kind="macro")
    assert example["database"].decode() == "synth_me_macro" and example["fps"] == 30.0
    phases = (example["onset"], example["apex"], example["offset"])
    assert phases == (0, clip.spec.apex, clip.spec.offset) and clip.spec.apex == clip.spec.offset
    np.testing.assert_array_equal(example["onset_frame"], clip.frames[0])
    np.testing.assert_array_equal(example["apex_frame"], clip.frames[-1])


@pytest.mark.parametrize(
    "name", ["tiny_flow_farneback_28_evm", "macro_tiny_flow_farneback_28_reduced"]
)
def test_synth_me_cached_builds_the_emr_variants(tmp_path, name):
    builder = tfds.builder(f"synth_me_cached/{name}", data_dir=str(tmp_path))
    builder.download_and_prepare()
    examples = _load(builder)
    config = builder.builder_config
    assert len(examples) == config.num_subjects * config.clips_per_subject
    assert all(e["flow"].shape == (28, 28, 2) for e in examples.values())
    assert max(np.abs(e["flow"]).max() for e in examples.values()) > 0.01


def test_synth_me_cached_emr_configs():
    configs = SynthMeCached.builder_configs
    for base, size in (("small", 64), ("macro", 64), ("tiny", 28), ("macro_tiny", 28)):
        emr = "reduced" if base.startswith("macro") else "evm"
        plain, variant = (
            configs[f"{base}_flow_farneback_{size}"],
            configs[f"{base}_flow_farneback_{size}_{emr}"],
        )
        assert plain.flow_work_size == variant.flow_work_size == (64 if size == 64 else 0)


def test_synth_me_cached_is_a_database_name(tmp_path):
    # input_pipeline.database_builder imports mejax.datasets.<name before '/'>.
    module = importlib.import_module("mejax.datasets.synth_me_cached")
    b = tfds.builder("synth_me_cached/tiny_tim10_48", data_dir=str(tmp_path))
    assert isinstance(b, module.SynthMeCached) and b.builder_config.variant == "tim10_48"
