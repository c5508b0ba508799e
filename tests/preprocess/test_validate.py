"""Tests of the shared checks: errors name the sample and say what was expected."""

from __future__ import annotations

import numpy as np
import pytest

from mejax.preprocess import validate


def test_check_phases():
    validate.check_phases(2, 5, 9, 10, "s1")
    validate.check_phases(3, 3, None, 4, "s1")
    with pytest.raises(ValueError, match="casme2/sub05_EP03: onset > apex"):
        validate.check_phases(6, 5, 9, 10, "casme2/sub05_EP03")
    with pytest.raises(ValueError, match="s2: apex > offset"):
        validate.check_phases(1, 5, 4, 10, "s2")
    with pytest.raises(ValueError, match="s3: onset 0, apex 5, offset 10 outside the clip's 10"):
        validate.check_phases(0, 5, 10, 10, "s3")


def test_check_clip_shapes():
    assert validate.check_clip([np.zeros((2, 2))] * 3).shape == (3, 2, 2)
    with pytest.raises(ValueError, match="s4: expected frames of shape"):
        validate.check_clip(np.zeros((3, 2)), "s4")
    with pytest.raises(ValueError, match="s5: 1 frame"):
        validate.check_clip(np.zeros((1, 2, 2)), "s5", min_frames=2)
    with pytest.raises(ValueError, match=r"s6: frame 1 is corrupt \(shape \(2, 3\)"):
        validate.check_clip([np.zeros((2, 2)), np.zeros((2, 3))], "s6")


def test_read_image_names_the_file(tmp_path):
    broken = tmp_path / "img001.jpg"
    broken.write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="img001.jpg: cannot read the image"):
        validate.read_image(broken)
