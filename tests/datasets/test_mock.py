"""mejax.datasets.mock: mock copies of the licensed databases from their real coding sheets.

The sheets are read from ``shared/annotations`` beside the checkout (not part of the
repository); every mock is written to tmp_path only.
"""

import collections
from pathlib import Path

import cv2
import pytest

from mejax.datasets import mock, readers

ANNOTATIONS = Path(__file__).resolve().parents[2].parent / "shared" / "annotations"
SIZE = (32, 32)  # the renderer's smallest face; the builders accept any size

pytestmark = pytest.mark.skipif(
    not ANNOTATIONS.is_dir(),
    reason=f"the databases' coding sheets are not at {ANNOTATIONS} (not in the repository)",
)


def _write(database, root, **kwargs):
    return mock.write(
        database, root, annotations=ANNOTATIONS, frame_size=SIZE, progress=False, **kwargs
    )


def test_samm_layout_and_builder_clips(tmp_path):
    from mejax.datasets.samm import samm

    summary = _write("samm", tmp_path)
    assert (summary.clips, summary.subjects) == ({"samm": 159}, {"samm": 29})
    sheet = ANNOTATIONS / "SAMM" / samm.CODING
    assert (tmp_path / samm.CODING).read_bytes() == sheet.read_bytes()
    assert not (tmp_path / "MOCK.md").read_text().count("INVENTED")
    frame = cv2.imread(str(tmp_path / "SAMM/006/006_1_2/006_05562.jpg"), cv2.IMREAD_UNCHANGED)
    assert frame.shape == SIZE  # grey JPEG
    clips, annotations = samm.clips(tmp_path)
    assert len(clips) == 159 and len({c.split for c in clips}) == 29
    assert len(annotations.errata) == 2  # the apex typos of 028_4_1 and 032_3_1
    for clip in clips:
        s = clip.sample
        names = sorted(p.name for p in clip.folder.iterdir())
        assert names == [f"{s.subject}_{n:05d}.jpg" for n in range(s.onset, s.offset + 1)]
    (typo,) = [c for c in clips if c.sample.clip == "028_4_1"]
    assert typo.sample.apex == 1113 and (typo.folder / "028_01113.jpg").is_file()


def test_casme2_both_sheets(tmp_path):
    from mejax.datasets.casme2 import casme2

    summary = _write("casme2", tmp_path)
    assert (summary.clips, summary.subjects) == ({"casme2": 255}, {"casme2": 26})
    for name in (casme2.CODING_2019, casme2.CODING_2014, "CASME2-ObjectiveClasses.xlsx"):
        assert (tmp_path / name).read_bytes() == (ANNOTATIONS / "CASME2" / name).read_bytes()
    clips_2019, _ = casme2.clips(tmp_path, "cropped", casme2.CODING_2019)
    clips_2014, _ = casme2.clips(tmp_path, "raw", casme2.CODING_2014)
    assert (len(clips_2019), len(clips_2014)) == (255, 250)
    (missing_apex,) = [c for c in clips_2019 if c.sample.apex is None]  # sub04/EP12_01f
    s = missing_apex.sample
    assert sorted(p.name for p in missing_apex.folder.iterdir()) == sorted(
        f"reg_img{n}.jpg" for n in range(s.onset, s.offset + 1)
    )
    raw = tmp_path / "CASME2_RAW_selected" / s.subject / s.clip / f"img{s.onset}.jpg"
    assert cv2.imread(str(raw)).shape == (*SIZE, 3)


def test_smic_hs_cropped_builds(tmp_path):
    import tensorflow_datasets as tfds

    import mejax.datasets.smic  # noqa: F401  (registers the builder)

    root = tmp_path / "mock"
    summary = _write("smic", root)
    assert (summary.clips, summary.subjects) == ({"smic": 164}, {"smic": 16})
    assert (root / "SMIC_all_raw/HS/s20/micro/negative/s20_ne_01/image17581039.bmp").is_file()
    assert (root / "SMIC_all_cropped/HS/s1/micro").is_dir()
    b = tfds.builder("smic/hs_cropped", data_dir=str(tmp_path / "tfds"))
    b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(root)))
    assert sum(split.num_examples for split in b.info.splits.values()) == 164
    assert len(b.info.splits) == 16
    (example,) = tfds.as_numpy(b.as_dataset(split="s20").filter(lambda e: e["clip"] == "s20_ne_01"))
    assert example["frames"].shape == (17, *SIZE, 3)  # OnsetF 17581039 .. OffsetF 17581055
    assert (example["onset"], example["apex"], example["offset"]) == (0, -1, 16)


def test_casme_invented_sheet(tmp_path, capsys):
    from mejax import paper_sets
    from mejax.datasets.casme import casme

    assert mock.main(["casme", "--out", str(tmp_path), "--frame-size", "32x32"]) == 0
    out = capsys.readouterr().out
    assert "INVENTED" in out and "195 clips of 19 subjects" in out
    assert "INVENTED" in (tmp_path / "MOCK.md").read_text()
    samples = []
    for section, (sheet, _) in casme.SECTIONS.items():
        part = readers.casme(tmp_path / sheet).samples
        numbers = {int(s.subject[3:]) for s in part}
        assert numbers == (set(range(1, 8)) if section == "A" else set(range(8, 20)))
        samples += part
    assert len(samples) == 195 and len({s.subject for s in samples}) == 19
    emotions = collections.Counter(s.emotion for s in samples)
    assert sum(emotions[e] for e in paper_sets.CASME_EMOTIONS) == 171
    assert sum(bool(s.aus & set(mock.CASME_ANY_AU)) for s in samples) == 154
    assert any(s.offset is None for s in samples)  # backslash offsets, as the reader handles
    clips, report = casme.clips(tmp_path)  # every clip folder is there
    assert len(clips) == 195 and report["num_samples"] == 195


def test_annotations_folder_errors(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    with pytest.raises(mock.AnnotationsNotFoundError, match="nowhere"):
        mock.find_annotations(missing)
    monkeypatch.setenv(mock.ENVIRONMENT_VARIABLE, str(missing))
    with pytest.raises(mock.AnnotationsNotFoundError, match=mock.ENVIRONMENT_VARIABLE):
        mock.find_annotations()
    monkeypatch.delenv(mock.ENVIRONMENT_VARIABLE)
    assert mock.find_annotations() == mock.default_annotations()
    with pytest.raises(mock.AnnotationsNotFoundError, match="SAMM_Micro_FACS_Codes_v2"):
        mock.write("samm", tmp_path / "out", annotations=tmp_path, progress=False)
    with pytest.raises(ValueError, match="at least 32"):
        mock.write("samm", tmp_path / "out", annotations=ANNOTATIONS, frame_size=(16, 16))
    assert mock.parse_frame_size("48x64") == (48, 64)


@pytest.mark.parametrize("apex", [10, 20, None])  # on the onset, on the offset, missing
def test_motion_follows_the_annotated_frames(apex):
    renderer = mock.Renderer(SIZE, seed=0)
    numbers = tuple(range(10, 21))
    clip = mock.MockClip(
        "casme2", "sub01", "EP01", numbers, 10, apex, 20, frozenset({4, 12}), 0, ()
    )
    faces = renderer.faces(clip)
    assert faces.shape == (11, *SIZE, 3) and faces.dtype == "uint8"
    whole = renderer.whole(renderer.faces(clip))
    assert (whole == faces).all()  # same clip, same frames; square frames need no border
