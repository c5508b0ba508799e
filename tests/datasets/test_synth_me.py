"""Tests of the synthetic micro-expression database ``synth_me``."""

from __future__ import annotations

import collections
import dataclasses
import pathlib

import numpy as np
import pytest
import tensorflow_datasets as tfds

from mejax.datasets import aus, features, labels
from mejax.datasets.synth_me import SynthMe, SynthMeConfig, render
from mejax.datasets.synth_me import synth_me as synth_me_module

TINY = SynthMe.builder_configs["tiny"]
MACRO_TINY = SynthMe.builder_configs["macro_tiny"]
SIZE = 112  # the resolution the amplitudes are specified at


def _has_tfds_testing() -> bool:
    # Not bound to a module-level name: pytest would collect the base class as a test.
    try:
        return tfds.testing.DatasetBuilderTestCase is not None
    except ImportError:  # tfds.testing needs `dill`, which TFDS itself does not require.
        return False


if _has_tfds_testing():

    class SynthMeBuilderTest(tfds.testing.DatasetBuilderTestCase):
        """TFDS's standard checks: registration, generation, splits, shapes, reload."""

        DATASET_CLASS = SynthMe
        BUILDER_CONFIG_NAMES_TO_TEST = ["tiny"]
        SPLITS = {synth_me_module.subject_name(s): TINY.clips_per_subject for s in range(6)}
        # Nothing is downloaded, so no dummy data is read: the builder's own folder stands
        # in for the dummy-data folder the test case insists on.
        EXAMPLE_DIR = str(pathlib.Path(synth_me_module.__file__).parent)

else:

    def test_tfds_builder_test_case():
        pytest.skip("tensorflow_datasets.testing needs `dill`; install the test extra")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    builder = tfds.builder("synth_me/tiny", data_dir=str(tmp_path_factory.mktemp("tfds")))
    builder.download_and_prepare()
    examples = {
        split: list(tfds.as_numpy(builder.as_dataset(split=split))) for split in builder.info.splits
    }
    return builder, examples


@pytest.fixture(scope="module")
def face():
    return render.render_face(render.sample_identity(0, 0), SIZE)


def test_tiny_has_one_split_per_subject(tiny):
    builder, examples = tiny
    expected = [f"sub{s:02d}" for s in range(1, TINY.num_subjects + 1)]
    assert sorted(builder.info.splits) == expected
    for split in expected:
        assert builder.info.splits[split].num_examples == TINY.clips_per_subject
        assert len(examples[split]) == TINY.clips_per_subject
    combined = builder.as_dataset(split="sub01+sub02")
    assert len(list(combined)) == 2 * TINY.clips_per_subject


def test_tiny_uses_the_shared_schema(tiny):
    builder, _ = tiny
    expected = features.clip_features((TINY.image_size, TINY.image_size))
    assert builder.info.features.to_json() == expected.to_json()


def test_tiny_examples_are_consistent(tiny):
    _, examples = tiny
    size = TINY.image_size
    clips = set()
    for split, split_examples in examples.items():
        for ex in split_examples:
            frames = ex["frames"]
            assert frames.dtype == np.uint8
            assert frames.ndim == 4 and frames.shape[1:] == (size, size, 3)
            assert 0 <= ex["onset"] < ex["apex"] < ex["offset"] < len(frames)
            assert ex["offset"] == len(frames) - 1
            assert ex["apex"] - ex["onset"] in range(8, 25)
            assert ex["offset"] - ex["apex"] in range(12, 41)
            assert ex["fps"] == pytest.approx(200.0)
            assert ex["database"].decode() == "synth_me"
            assert ex["subject"].decode() == split
            clip = ex["clip"].decode()
            assert clip.startswith(split + "_ep")
            clips.add(clip)
            code = ex["au_code"].decode()
            numbers = aus.au_numbers(code)
            np.testing.assert_array_equal(ex["aus"], aus.multi_hot(numbers))
            objective = aus.objective_class(numbers)
            assert aus.OBJECTIVE_CLASSES[ex["objective_class"]] == objective
            assert ex["emotion"].decode() == render.labels_for_code(code).emotion
    assert len(clips) == TINY.num_subjects * TINY.clips_per_subject


def test_dataset_frames_are_the_renderer_output(tiny):
    _, examples = tiny
    ex = next(e for e in examples["sub03"] if e["clip"].decode() == "sub03_ep02")
    clip = render.generate_clip(TINY.seed, 2, 1, TINY.image_size)
    np.testing.assert_array_equal(ex["frames"], clip.frames)
    assert ex["au_code"].decode() == clip.spec.labels.au_code


def test_emotion_follows_the_combination():
    assert render.labels_for_code("6+12").emotion == "happiness"
    assert render.labels_for_code("1+2").emotion == "surprise"
    assert render.labels_for_code("4+7").emotion == "anger"
    assert render.labels_for_code("4+7+L10").emotion == "disgust"
    assert render.labels_for_code("15+17").emotion == "sadness"
    assert render.labels_for_code("1+2+4").emotion == "fear"
    assert render.labels_for_code("R14").emotion == "contempt"
    assert render.labels_for_code("R14").objective_class == "VII"
    assert render.labels_for_code("14+17").emotion == "others"
    assert render.labels_for_code("4+L10").objective_class == "VII"
    for code, declared, _ in render.COMBINATIONS:
        assert aus.objective_class(aus.au_numbers(code)) == declared


def test_generation_is_deterministic_and_order_independent():
    first = render.generate_clip(7, 1, 2, 48).frames
    render.generate_clip(7, 0, 0, 48)  # generating another clip in between changes nothing
    again = render.generate_clip(7, 1, 2, 48).frames
    np.testing.assert_array_equal(first, again)
    other_seed = render.generate_clip(8, 1, 2, 48).frames
    n = min(len(first), len(other_seed))
    assert np.abs(first[:n].astype(int) - other_seed[:n]).mean() > 5


def _neutral(subject: int, clip: int) -> np.ndarray:
    frames = render.generate_clip(0, subject, clip, SIZE, distractors=False).frames
    return frames[0].astype(np.float32)


def test_subjects_differ_far_more_than_clips_of_one_subject():
    within = [np.abs(_neutral(s, 0) - _neutral(s, 1)).mean() for s in range(3)]
    between = [np.abs(_neutral(s, 0) - _neutral(s + 1, 0)).mean() for s in range(3)]
    assert min(between) > 2 * max(within), (within, between)


def _apex_energy(clip: render.Clip) -> np.ndarray:
    gray = clip.frames.astype(np.float32).mean(-1)
    return (gray[clip.spec.apex] - gray[clip.spec.onset]) ** 2


def _bands(clip: render.Clip) -> tuple[np.ndarray, np.ndarray]:
    """Row masks of the brow band and the mouth band."""
    rows = np.arange(SIZE)[:, None] * np.ones((1, SIZE))
    brow_y = clip.landmarks["brow_mid"][1]
    eye_y = clip.landmarks["upper_lid"][1]
    mouth_y = clip.landmarks["mouth_center"][1]
    brow = (rows > brow_y - 0.08 * SIZE) & (rows < eye_y - 0.01 * SIZE)
    mouth = np.abs(rows - mouth_y) < 0.08 * SIZE
    return brow, mouth


@pytest.mark.parametrize("code", ["12", "15", "24"])
def test_lower_face_aus_move_the_mouth_region(face, code):
    clip = render.generate_clip(0, 0, 0, SIZE, au_code=code, distractors=False, face=face)
    energy = _apex_energy(clip)
    brow, mouth = _bands(clip)
    assert energy[mouth].sum() > 20 * energy[brow].sum() + 1.0


@pytest.mark.parametrize("code", ["1", "2", "4"])
def test_brow_aus_move_the_brow_region(face, code):
    clip = render.generate_clip(0, 0, 0, SIZE, au_code=code, distractors=False, face=face)
    energy = _apex_energy(clip)
    brow, mouth = _bands(clip)
    assert energy[brow].sum() > 20 * energy[mouth].sum() + 1.0


@pytest.mark.parametrize("code, moving", [("L12", "right"), ("R12", "left"), ("L14", "right")])
def test_unilateral_aus_move_one_side_only(face, code, moving):
    clip = render.generate_clip(0, 0, 0, SIZE, au_code=code, distractors=False, face=face)
    energy = _apex_energy(clip)
    midline = clip.landmarks["mouth_center"][0]
    columns = np.arange(SIZE)
    image_right = energy[:, columns > midline + 1].sum()
    image_left = energy[:, columns < midline - 1].sum()
    # L is the subject's left, which is the image's right.
    big, small = (image_right, image_left) if moving == "right" else (image_left, image_right)
    assert big > 20 * small + 1.0


def test_displacement_amplitude_is_one_to_two_pixels(face):
    for au in render.RENDERED_AUS:
        for clip_index in range(3):
            spec = render.sample_clip_spec(0, 0, clip_index, SIZE, au_code=str(au))
            (field,) = render.au_displacement_fields(str(au), face, spec.amplitudes).values()
            peak = np.sqrt((field**2).sum(-1)).max()
            assert 0.95 <= peak <= 2.05, (au, peak)


def test_timing_profile():
    for clip_index in range(20):
        spec = render.sample_clip_spec(0, 3, clip_index, SIZE)
        assert spec.onset in range(0, 5)
        profile = render.intensity_profile(spec.num_frames, spec.onset, spec.apex, spec.offset)
        assert profile[: spec.onset + 1].max() == 0.0
        assert profile[spec.onset + 1] > 0.0
        assert profile[spec.apex] == pytest.approx(1.0)
        assert profile[spec.offset] == pytest.approx(0.0, abs=1e-6)
        assert np.all(np.diff(profile[spec.onset : spec.apex + 1]) > 0)
        assert np.all(np.diff(profile[spec.apex : spec.offset + 1]) < 0)


def test_distractors_do_not_depend_on_the_labels():
    for clip_index in range(5):
        a = render.sample_clip_spec(0, 1, clip_index, 48, au_code="12")
        b = render.sample_clip_spec(0, 1, clip_index, 48, au_code="4+7")
        assert (a.onset, a.apex, a.offset) == (b.onset, b.apex, b.offset)
        for name in ("drift", "blink", "flicker", "pose", "light_gain"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert (a.noise_sigma, a.noise_seed) == (b.noise_sigma, b.noise_seed)
        assert np.abs(a.drift[:, :2]).max() <= 1.5 * 48 / 112 + 1e-9
        assert 0.98 <= a.flicker.min() and a.flicker.max() <= 1.02


def test_a_blink_closes_the_eyes_only(face):
    spec = render.sample_clip_spec(0, 0, 0, SIZE, au_code="12")
    n = spec.num_frames
    quiet = dataclasses.replace(
        spec,
        drift=np.zeros((n, 3)),
        flicker=np.ones(n, np.float32),
        noise_sigma=0.0,
        blink=np.zeros(n, np.float32),
    )
    closed = np.zeros(n, np.float32)
    closed[0] = 1.0
    blinking = dataclasses.replace(quiet, blink=closed)
    a = render.render_clip(quiet, face).frames[0].astype(np.float32).mean(-1)
    b = render.render_clip(blinking, face).frames[0].astype(np.float32).mean(-1)
    energy = (a - b) ** 2
    rows = np.arange(SIZE)
    eye_y = render.render_clip(quiet, face, distractors=False).landmarks["upper_lid"][1]
    eyes = np.abs(rows - eye_y) < 0.06 * SIZE
    assert energy[eyes].sum() > 100.0
    assert energy[~eyes].sum() < 0.01 * energy[eyes].sum()


def test_label_statistics_follow_the_real_databases():
    au_counts, class_counts = collections.Counter(), collections.Counter()
    n = 0
    for subject in range(60):
        for clip in range(40):
            labels = render.sample_labels(0, subject, clip)
            au_counts.update(labels.aus)
            class_counts[labels.objective_class] += 1
            n += 1
    assert au_counts.most_common(1)[0][0] == 4
    assert class_counts.most_common(1)[0][0] == "III"
    assert 0.38 < class_counts["III"] / n < 0.52
    assert 0.42 < au_counts[4] / n < 0.6
    assert au_counts[7] > au_counts[1] > au_counts[5]
    for rare in (5, 9, 24):
        assert 0.01 < au_counts[rare] / n < 0.08
    assert set(class_counts) == set(aus.OBJECTIVE_CLASSES)


@pytest.mark.parametrize(
    "field, value",
    [("image_size", 16), ("num_subjects", 1), ("clips_per_subject", 0), ("seed", -1)],
)
def test_invalid_config_values_are_rejected(field, value):
    with pytest.raises(ValueError, match=rf"{field}={value}.*\[\d+, \d+\]"):
        SynthMeConfig(name="bad", **{field: value})


def test_unknown_expression_is_rejected():
    with pytest.raises(ValueError, match=r"expression='nano' must be one of \('micro', 'macro'\)"):
        SynthMeConfig(name="bad", expression="nano")
    with pytest.raises(ValueError, match="unknown expression kind 'nano'"):
        render.sample_identity(0, 0, kind="nano")


def test_tiny_megc2019_three_class_counts(tiny):
    # The emotion decides the MEGC2019 class (labels.MEGC2019_MAP); "others" is left out.
    _, examples = tiny
    clips = [e for split in examples.values() for e in split]
    emotion = [e["emotion"].decode() for e in clips]
    objective = np.array([e["objective_class"] for e in clips])
    y = labels.class_labels("megc2019", labels.MEGC2019_CLASSES, emotion, objective)
    counts = collections.Counter(y.tolist())
    names = (*labels.MEGC2019_CLASSES, "excluded")  # index -1 reads the last name
    assert {names[i]: n for i, n in counts.items()} == {
        "negative": 18,
        "positive": 2,
        "surprise": 3,
        "excluded": 1,
    }


# --------------------------------------------------------------------------------------
# The macro-expression configs.
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def macro_tiny(tmp_path_factory):
    builder = tfds.builder("synth_me/macro_tiny", data_dir=str(tmp_path_factory.mktemp("tfds")))
    builder.download_and_prepare()
    examples = {
        split: list(tfds.as_numpy(builder.as_dataset(split=split))) for split in builder.info.splits
    }
    return builder, examples


def test_macro_tiny_is_a_neutral_to_peak_database_of_its_own(macro_tiny):
    builder, examples = macro_tiny
    size = MACRO_TINY.image_size
    expected = [f"mac{s:02d}" for s in range(1, MACRO_TINY.num_subjects + 1)]
    assert sorted(builder.info.splits) == expected
    expected_schema = features.clip_features((size, size))
    assert builder.info.features.to_json() == expected_schema.to_json()
    for split, split_examples in examples.items():
        assert len(split_examples) == MACRO_TINY.clips_per_subject
        for ex in split_examples:
            frames = ex["frames"]
            assert frames.shape[1:] == (size, size, 3) and 10 <= len(frames) <= 30
            assert ex["onset"] == 0 and ex["apex"] == ex["offset"] == len(frames) - 1
            assert ex["fps"] == pytest.approx(30.0)
            assert ex["database"].decode() == "synth_me_macro"
            assert ex["subject"].decode() == split
            assert ex["clip"].decode().startswith(split + "_ep")
            code = ex["au_code"].decode()
            assert ex["emotion"].decode() == render.labels_for_code(code).emotion
            np.testing.assert_array_equal(ex["aus"], aus.multi_hot(aus.au_numbers(code)))
    ex = next(e for e in examples["mac02"] if e["clip"].decode() == "mac02_ep02")
    clip = render.generate_clip(MACRO_TINY.seed, 1, 1, size, kind="macro")
    np.testing.assert_array_equal(ex["frames"], clip.frames)


def test_macro_subjects_are_not_micro_subjects():
    micro = [render.sample_identity(0, s) for s in range(40)]  # every subject of `full`
    macro = [render.sample_identity(0, s, kind="macro") for s in range(10)]
    assert not {i.texture_seed for i in micro} & {i.texture_seed for i in macro}
    a = render.render_face(micro[0], 48).open_eyes
    b = render.render_face(macro[0], 48).open_eyes
    assert np.abs(a - b).mean() > 0.02
    # The labels come from their own stream too.
    micro_codes = [render.sample_labels(0, 0, c).au_code for c in range(12)]
    macro_codes = [render.sample_labels(0, 0, c, kind="macro").au_code for c in range(12)]
    assert micro_codes != macro_codes


def test_macro_timing_and_amplitudes():
    for clip_index in range(20):
        spec = render.sample_clip_spec(0, 1, clip_index, SIZE, kind="macro")
        assert spec.onset == 0 and spec.apex == spec.offset and 10 <= spec.num_frames <= 30
        low, high = render.MACRO.amplitude_range
        assert all(low <= a <= high for a in spec.amplitudes.values())
        assert min(spec.amplitudes.values()) >= 2 * max(render.MICRO.amplitude_range)
        profile = render.intensity_profile(spec.num_frames, spec.onset, spec.apex, spec.offset)
        assert profile[0] == 0.0 and profile[-1] == pytest.approx(1.0)
        assert np.all(np.diff(profile) > 0)


def test_macro_warp_moves_far_without_folding_the_skin():
    # AU24's narrow lip bumps fold under a one-step warp at 8 % of the width; the macro
    # warp integrates the field in steps and stays one-to-one.
    face = render.render_face(render.sample_identity(0, 0, kind="macro"), SIZE)
    (field,) = render.au_displacement_fields("24", face, {"24": 0.08}).values()
    x, y = (np.broadcast_to(g, (SIZE, SIZE)).astype(np.float32) for g in render._grid(SIZE))

    def jacobian_and_shift(steps):
        map_x, map_y = render._pull(field, x, y, np.float32(1.0), steps)
        (dxdy, dxdx), (dydy, dydx) = np.gradient(map_x), np.gradient(map_y)
        return (dxdx * dydy - dxdy * dydx).min(), np.hypot(map_x - x, map_y - y).max()

    det_one, _ = jacobian_and_shift(1)
    det_macro, shift = jacobian_and_shift(render.MACRO.warp_steps)
    assert det_one < 0 < det_macro
    assert shift > 4.0  # pixels at 112, vs 1-2 for a micro-expression


def test_macro_expressions_change_the_face_more_than_micro_ones(face):
    def energy(kind):
        options = dict(au_code="4+7", distractors=False, face=face, kind=kind)
        return _apex_energy(render.generate_clip(0, 0, 0, SIZE, **options)).sum()

    assert energy("macro") > 4 * energy("micro")
