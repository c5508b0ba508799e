"""Weight files that are damaged or hostile: every reader error names the file, and a zip
archive (``.npz``, PyTorch's ``.pth``) that declares far more than it holds is refused before
anything is inflated."""

import numpy as np
import pytest

from mejax.weights import npz, torch_convert


@pytest.fixture
def small_limits(monkeypatch):
    """The bomb check's thresholds scaled down, so that a 1 MiB array is a bomb."""
    monkeypatch.setattr(npz, "MAX_UNCHECKED", 64 * 1024)


def _bomb(path):
    np.savez_compressed(path, kernel=np.zeros(2**20, np.uint8))  # 1 MiB declared, ~1 KiB held
    return path


@pytest.mark.usefixtures("small_limits")
def test_an_npz_that_declares_far_more_than_it_holds_is_refused_before_inflating(tmp_path):
    bomb = _bomb(tmp_path / "weights.npz")
    with pytest.raises(ValueError, match=rf"{bomb}: its members declare 1 MiB for a file of"):
        npz.load_flat(bomb)
    with pytest.raises(ValueError, match="declare 1 MiB"):
        torch_convert.load_state_dict(bomb)
    pth = _bomb(tmp_path / "r3d18.npz").rename(tmp_path / "r3d18.pth")  # PyTorch's zip format
    with pytest.raises(ValueError, match=rf"{pth}: its members declare"):
        torch_convert.load_state_dict(pth)


def test_an_honest_npz_is_read(tmp_path):
    np.savez(tmp_path / "w.npz", kernel=np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(npz.load_flat(tmp_path / "w.npz")["kernel"].shape, (2, 3))


@pytest.mark.parametrize(
    "content, why",
    [
        (b"", "not a readable zip archive"),
        (b"weights, as text", "not a readable zip archive"),
        (b"PK\x03\x04 cut short", "not a readable zip archive"),
    ],
)
def test_a_damaged_npz_names_the_file(tmp_path, content, why):
    path = tmp_path / "weights.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"{path}: {why}"):
        npz.load_flat(path)


def test_an_npz_of_pickled_objects_names_the_file(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, layers=np.array([{"kernel": 1}], dtype=object))
    with pytest.raises(ValueError, match=rf"{path}: not an .npz file of arrays .*pickle"):
        npz.load_flat(path)
