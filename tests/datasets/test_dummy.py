"""The committed dummy data is what ``mejax.datasets.dummy`` writes."""

import pytest

from mejax.datasets import dummy


@pytest.mark.parametrize("name", sorted(dummy.WRITERS))
def test_committed_dummy_data_matches_the_generator(name, tmp_path):
    dummy.WRITERS[name](tmp_path)
    committed = dummy.DATASETS_DIR / name / "dummy_data"
    files = lambda root: sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()
    )
    assert files(committed) == files(tmp_path)
