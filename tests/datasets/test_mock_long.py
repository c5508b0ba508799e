"""The mock copies of the long-video databases: the real sheets' videos, subjects and
expressions, the layout the builders read, and frames that move at the sheet's expressions.
Skipped where the sheets are not at hand (a user's clone has none)."""

import cv2
import numpy as np
import pytest

from mejax.datasets import mock_long
from tests.conftest import SHARED

ANNOTATIONS = SHARED / "annotations"
pytestmark = pytest.mark.skipif(not ANNOTATIONS.is_dir(), reason="the real sheets are absent")


@pytest.mark.parametrize(
    "database, videos, subjects, micro, macro",
    [
        ("casme_sq", 98, 22, 57, 300),  # 95 videos with events + 3 of MEGC2020's list
        ("samm_lv", 147, 30, 159, 343),
        ("casme3", 958, 98, 860, 3346),  # the v2 sheet's 956 + 2 of the damaged list
    ],
)
def test_plan_holds_the_sheets_videos_and_expressions(tmp_path, database, videos, subjects,
                                                      micro, macro):  # fmt: skip
    plan = mock_long.plan(database, tmp_path, ANNOTATIONS)
    assert len(plan.videos) == videos
    assert len({v.subject for v in plan.videos}) == subjects
    types = [e.type for v in plan.videos for e in v.events]
    assert (types.count("micro"), types.count("macro")) == (micro, macro)
    for video in plan.videos:  # every expression inside its video, the tail after the last
        last = max([max(e.onset, e.apex, e.offset) for e in video.events], default=0)
        assert video.num_frames >= last + mock_long.TAIL_SECONDS * mock_long.FPS[database] - 1


def test_casme_sq_layout_and_the_videos_without_expressions(tmp_path):
    plan = mock_long.plan("casme_sq", tmp_path, ANNOTATIONS)
    by_name = {v.video: v for v in plan.videos}
    assert by_name["15_0101"].folder == tmp_path / "rawpic/s15/15_0101disgust1"
    assert sorted(v.video for v in plan.videos if not v.events) == ["15_0508", "19_0502", "23_0503"]
    assert "INVENTED" in plan.notes[0]


def test_casme3_damaged_frames_and_blinks_come_from_the_release(tmp_path):
    plan = mock_long.plan("casme3", tmp_path, ANNOTATIONS)
    damaged = sum(len(v.damaged) for v in plan.videos)
    assert damaged == 121  # the damaged list's 130 lines name 121 frames (some twice)
    assert "INVENTED" in plan.notes[0]
    # 498 of the 'eye blink' sheet's 841 blinks are in videos with an annotated expression.
    assert sum(len(v.blinks) for v in plan.videos) == 498
    names = {t.name for _, t in plan.copies}
    assert {"CAS(ME)3_part_A_v2.xls", "error_info_damaged_image_partA.txt"} <= names


def _short(video, frames: int):
    """The video cut to its first ``frames`` frames, with the expressions inside them."""
    import dataclasses

    events = tuple(e for e in video.events if e.offset <= frames)
    damaged = frozenset(n for n in video.damaged if n <= frames)
    return dataclasses.replace(video, num_frames=frames, events=events, damaged=damaged)


def test_frames_names_channels_and_damaged_files(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    casme3 = mock_long.plan("casme3", tmp_path / "casme3", ANNOTATIONS)
    video = min((v for v in casme3.videos if v.damaged), key=lambda v: min(v.damaged))
    first = min(video.damaged)
    video = _short(video, first + 3)
    samm = _short(mock_long.plan("samm_lv", tmp_path / "samm", ANNOTATIONS).videos[0], 40)
    with ThreadPoolExecutor(2) as pool:
        for v in (video, samm):
            mock_long.write_video(v, (48, 64), 0, pool)
    assert (video.folder / f"{first}.jpg").read_bytes() == mock_long.DAMAGED_BYTES
    frame = cv2.imread(str(video.folder / "1.jpg"), cv2.IMREAD_UNCHANGED)
    assert frame.shape == (48, 64, 3)
    names = sorted(p.name for p in samm.folder.iterdir())
    assert names[0] == f"{samm.video}_0001.jpg" and len(names) == 40
    grey = cv2.imread(str(samm.folder / names[0]), cv2.IMREAD_UNCHANGED)
    assert grey.shape == (48, 64)


def test_the_face_moves_at_the_sheets_expressions_only():
    plan = mock_long.plan("samm_lv", ANNOTATIONS.parent / "unused", ANNOTATIONS)
    video = next(v for v in plan.videos if len(v.events) >= 2)
    intensity = mock_long.renderer(video, 32, 0).intensity()
    inside = np.zeros(video.num_frames, bool)
    for event in video.events:
        inside[max(event.onset - 1, 0) : event.offset] = True
        apex = event.apex if event.apex > 0 else (event.onset + event.offset) // 2
        assert intensity[apex - 1] > 0.5
    assert not intensity[~inside].any()
