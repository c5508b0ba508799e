"""mejax.datasets.mock_macro: mocks of CK+, Oulu-CASIA, JAFFE and MUG with invented rows at the
published sizes; every builder reads its mock's clips, and JAFFE's builds."""

import collections

import cv2
import numpy as np
import tensorflow_datasets as tfds

from mejax.datasets import mock_macro

SIZE = (32, 32)  # the renderer's smallest face


def _write(database, root):
    return mock_macro.write(database, root, frame_size=SIZE, progress=False)


def _builder(name, tmp_path):
    return tfds.builder(name, data_dir=str(tmp_path / "tfds"))


def _emotions(clips):
    return dict(collections.Counter(c.sample.emotion for c in clips))


def test_ckplus_published_counts(tmp_path):
    import mejax.datasets.ckplus  # noqa: F401  (registers the builder)

    root = tmp_path / "mock"
    summary = _write("ckplus", root)
    assert (summary.clips, summary.subjects) == ({"ckplus": 593}, {"ckplus": 123})
    assert "INVENTED" in (root / "MOCK.md").read_text()
    clips, report = _builder("ckplus", tmp_path)._clips(root)  # frames: the labelled sequences
    assert len(clips) == 327 and len(report["excluded"]) == 593 - 327
    assert _emotions(clips) == {"anger": 45, "contempt": 18, "disgust": 59, "fear": 25,
                                "happy": 69, "sadness": 28, "surprise": 83}  # fmt: skip
    assert all(len(c.sample.au_code) > 0 for c in clips)  # every sequence has its FACS file
    peak, report = _builder("ckplus/peak", tmp_path)._clips(root)
    assert (len(peak), report["num_sequences"]) == (3 * 327, 327)
    # Neutral on the first frame, the expression on the last (peak) frame.
    sequence = sorted((root / "cohn-kanade-images").glob("*/*"))[0]
    frames = [cv2.imread(str(p), cv2.IMREAD_UNCHANGED) for p in sorted(sequence.iterdir())]
    assert frames[0].shape == SIZE and len(frames) >= 8  # grey PNG
    first, second, last = (f.astype(float) for f in (frames[0], frames[1], frames[-1]))
    assert np.abs(last - first).mean() > np.abs(second - first).mean()


def test_oulu_casia_published_counts(tmp_path):
    import mejax.datasets.oulu_casia  # noqa: F401

    root = tmp_path / "mock"
    summary = _write("oulu_casia", root)
    assert (summary.clips, summary.subjects) == ({"oulu_casia": 480}, {"oulu_casia": 80})
    frame = cv2.imread(str(root / "OriginalImg/VL/Strong/P080/Surprise/000.jpeg"))
    assert frame.shape == (*SIZE, 3)
    clips, _ = _builder("oulu_casia", tmp_path)._clips(root)
    assert len(clips) == 480 and len({c.split for c in clips}) == 80
    assert set(_emotions(clips).values()) == {80}
    peak, report = _builder("oulu_casia/peak", tmp_path)._clips(root)
    assert (len(peak), report["num_sequences"]) == (3 * 480, 480)


def test_jaffe_published_counts_and_build(tmp_path):
    import mejax.datasets.jaffe  # noqa: F401

    root = tmp_path / "mock"
    summary = _write("jaffe", root)
    assert (summary.clips, summary.subjects) == ({"jaffe": 213}, {"jaffe": 10})
    assert len(list((root / "jaffedbase").iterdir())) == 213
    b = _builder("jaffe/peak", tmp_path)
    clips, _ = b._clips(root)
    assert len(clips) == 213 and len({c.split for c in clips}) == 10
    assert _emotions(clips) == {"anger": 30, "disgust": 29, "fear": 32, "happiness": 31,
                                "neutral": 30, "sadness": 31, "surprise": 30}  # fmt: skip
    b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(root)))
    assert b.info.splits["all"].num_examples == 213
    (example,) = tfds.as_numpy(b.as_dataset(split="KA").take(1))
    assert example["frames"].shape == (1, *SIZE, 3)


def test_mug_counts_and_sessions(tmp_path):
    import mejax.datasets.mug  # noqa: F401
    from mejax.datasets.mug import mug

    root = tmp_path / "mock"
    summary = _write("mug", root)
    assert (summary.clips, summary.subjects) == ({"mug": 1462}, {"mug": 86})
    assert sum(mock_macro.MUG_EMOTION_COUNTS.values()) == 1462
    clips, report = _builder("mug", tmp_path)._clips(root)
    assert len(clips) == 1462 and len({c.split for c in clips}) == 86
    assert _emotions(clips) == mock_macro.MUG_EMOTION_COUNTS
    sessions = {c.sample.clip.split("_")[1] for c in clips if "_session" in c.sample.clip}
    assert sessions == {"session0", "session1"}
    peak, report = _builder("mug/peak", tmp_path)._clips(root)
    assert (len(peak), report["num_sequences"]) == (mug.PEAK_FRAMES * 1462, 1462)


def test_plan_is_seeded():
    names = [[c.clip for c in mock_macro.plan("ckplus", "x", seed).clips] for seed in (0, 0, 1)]
    assert names[0] == names[1] != names[2]


def test_cli_rejects_a_frame_too_small(tmp_path, capsys):
    assert mock_macro.main(["jaffe", "--out", str(tmp_path / "m"), "--frame-size", "16x16"]) == 2
    assert "at least 32" in capsys.readouterr().err
    assert not (tmp_path / "m" / "jaffedbase").exists()
