"""Tests of micro-expression augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from mejax.preprocess import augment


def test_enriched_apex_indices():
    # onset 0, apex 10, offset 30: 6, 7, 8, 9, apex 10, then 12, 14, 16, 18, 20.
    assert augment.enriched_apex_indices(0, 10, 30) == [6, 7, 8, 9, 10, 12, 14, 16, 18, 20]
    short = augment.enriched_apex_indices(4, 6, 8)
    assert len(short) == 10 and short[4] == 6 and max(short) <= 7
    with pytest.raises(ValueError, match="sub03_ep05: onset > apex"):
        augment.enriched_apex_indices(9, 6, 20, sample="sub03_ep05")


def test_augmented_pairs_are_seventy_and_rotated_together():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (31, 24, 24, 3), dtype=np.uint8)
    pairs, keys = augment.augmented_pairs(frames, 0, 10, 30)
    assert pairs.shape == (70, 2, 24, 24, 3) and len(keys) == 70
    assert sorted({angle for _, angle in keys}) == [-15, -10, -5, 0, 5, 10, 15]
    unrotated = keys.index((10, 0.0))
    np.testing.assert_array_equal(pairs[unrotated, 0], frames[0])
    np.testing.assert_array_equal(pairs[unrotated, 1], frames[10])
    rotated = keys.index((14, 15.0))
    np.testing.assert_array_equal(pairs[rotated, 0], augment.rotate(frames[0], 15))
    np.testing.assert_array_equal(pairs[rotated, 1], augment.rotate(frames[14], 15))
    assert not np.array_equal(pairs[rotated, 1], frames[14])


def test_rotate_by_ninety_is_rot90():
    image = np.random.default_rng(1).integers(0, 256, (9, 9, 3), dtype=np.uint8)
    np.testing.assert_array_equal(augment.rotate(image, 90), np.rot90(image))


def test_crops_colour_and_flips():
    images = np.arange(2 * 6 * 8 * 3, dtype=np.uint8).reshape(2, 6, 8, 3)
    crops = augment.corner_crops(images, 4)
    assert crops.shape == (5, 2, 4, 4, 3)
    np.testing.assert_array_equal(crops[3], images[:, 2:, 4:])
    np.testing.assert_array_equal(crops[4], images[:, 1:5, 2:6])
    crop = augment.random_crop(images, 4, np.random.default_rng(0))
    assert crop.shape == (2, 4, 4, 3)
    with pytest.raises(ValueError, match="crop 7 larger"):
        augment.random_crop(images, 7, np.random.default_rng(0))
    shifted = augment.color_shift(np.full((3, 3, 3), 100, np.uint8), np.random.default_rng(2))
    assert shifted.dtype == np.uint8 and len(np.unique(shifted.reshape(-1, 3), axis=0)) == 1
    assert not np.array_equal(shifted, np.full((3, 3, 3), 100))
    flow = np.zeros((4, 5, 2), np.float32)
    flow[1, 0] = (2.0, 1.0)  # a pixel on the left moving right
    flipped = augment.flip_flow(flow)
    np.testing.assert_array_equal(flipped[1, 4], (-2.0, 1.0))  # on the right, moving left
    np.testing.assert_array_equal(augment.flip(images)[:, :, 0], images[:, :, -1])


def test_color_adjustments_are_pils_and_torchvisions():
    """torchvision's ColorJitter on PIL images: brightness, contrast, saturation as PIL's
    ImageEnhance (to within PIL's rounding), hue a turn of the HSV circle."""
    from PIL import Image, ImageEnhance

    image = np.random.default_rng(0).integers(0, 256, (8, 8, 3), np.uint8)
    pil = Image.fromarray(image)
    for field, enhancer, factor in (
        ("brightness", ImageEnhance.Brightness, 1.15),
        ("contrast", ImageEnhance.Contrast, 0.85),
        ("saturation", ImageEnhance.Color, 1.2),
    ):
        op = ("brightness", "contrast", "saturation").index(field)
        got = augment.adjust_colors(image, order=(op,), **{field: factor})
        want = np.asarray(enhancer(pil).enhance(factor))
        assert np.abs(got.astype(int) - want).max() <= 1, field
    primaries = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)
    turned = augment.adjust_colors(primaries, hue=1 / 3, order=(3,))
    np.testing.assert_array_equal(turned, [[[0, 255, 0], [0, 0, 255], [255, 0, 0]]])
    # Jitter of strength .2: every image changes, stays uint8 and in shape; off: unchanged.
    rng = np.random.default_rng(1)
    jittered = augment.color_jitter(image, rng, 0.2)
    assert jittered.dtype == np.uint8 and jittered.shape == image.shape
    assert (jittered != image).any()
    same = augment.random_photometric(image, rng, jitter=0.2, probability=0.0)
    np.testing.assert_array_equal(same, image)
    grey = image[..., :1]
    assert augment.color_jitter(grey, rng, 0.2).shape == grey.shape
