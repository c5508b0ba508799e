"""Long videos: the example schema of the spotting databases and the reader that streams them.

One example is one whole long video (CAS(ME)², SAMM-LV, CAS(ME)³ part A, synth_me's long
videos) with every annotated expression interval in it, as MEGC's spotting tasks (2020-2025)
use them. The frames are stored encoded (PNG) and are never decoded all at once:
:func:`read_videos` reads every video's names, frame numbers and events, and leaves its frames
on disk; :meth:`LongVideo.window` reads the video's encoded frames when first asked (TFDS's
``SkipDecoding``) and decodes only the frames a window asks for. The encoded bytes of the
:data:`KEPT_VIDEOS` videos read last stay in memory (a face-cropped 128^2 video: about 10 kB a
frame), so a database's frames never sit in memory together: SAMM-LV's 147 videos are about a
million frames.

Frame numbers. Events are given in the database's own frame numbers (the file numbers, 1-based
in every release), because MEGC's ground truth and submission files use them and CAS(ME)³ part
A misses frames (its file numbers are not positions; SPECS-SPOT §6). ``frame_numbers`` maps a
position in ``frames`` to its number; :meth:`LongVideo.position` maps back.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator

import cv2
import numpy as np
import tensorflow_datasets as tfds

EVENT_TYPES = ("micro", "macro")
NOT_ANNOTATED = -1
KEPT_VIDEOS = 2  # videos whose encoded frames stay in memory after they are read


def video_features(frame_shape: tuple[int, int]) -> tfds.features.FeaturesDict:
    """FeaturesDict of a long video.

    Args:
      frame_shape: (height, width) of the stored frames (face crops, resized).

    Returns:
      The features: ``video``, ``subject``, ``database`` text; ``fps``; ``frame_numbers`` (T,)
      int32, the file number of each stored frame; ``frames`` T PNG images (H, W, 3);
      ``events``, a sequence of ``onset`` / ``apex`` / ``offset`` frame numbers (apex -1 where
      not annotated), ``type`` (:data:`EVENT_TYPES`), ``emotion`` and ``au_code`` text.
    """
    height, width = frame_shape
    return tfds.features.FeaturesDict(
        {
            "video": tfds.features.Text(),
            "subject": tfds.features.Text(),
            "database": tfds.features.Text(),
            "fps": np.float32,
            "frame_numbers": tfds.features.Tensor(shape=(None,), dtype=np.int32),
            "frames": tfds.features.Sequence(
                tfds.features.Image(shape=(height, width, 3), encoding_format="png")
            ),
            "events": tfds.features.Sequence(
                {
                    "onset": np.int32,
                    "apex": np.int32,
                    "offset": np.int32,
                    "type": tfds.features.ClassLabel(names=EVENT_TYPES),
                    "emotion": tfds.features.Text(),
                    "au_code": tfds.features.Text(),
                }
            ),
        }
    )


@dataclasses.dataclass(frozen=True)
class Event:
    """One annotated expression: frame numbers as the database gives them, both ends included."""

    onset: int
    apex: int
    offset: int
    type: str
    emotion: str = ""
    au_code: str = ""

    @property
    def length(self) -> int:
        return self.offset - self.onset + 1


@dataclasses.dataclass
class LongVideo:
    """A long video whose frames are decoded on demand.

    Attributes:
      video: the database's video name (``15_0101``, ``006_1``, ``spNO.1_a``).
      subject: its subject (a split name of the database).
      database: the database (or composite part) it comes from.
      fps: frames per second.
      frame_numbers: (T,) the file number of each stored frame, increasing.
      events: the annotated expressions, by onset.
      encoded: (T,) the encoded frames, or a function that reads them (a video of a built
        database: read when a window is first asked for, see the module docstring).
    """

    video: str
    subject: str
    database: str
    fps: float
    frame_numbers: np.ndarray
    events: list[Event]
    encoded: np.ndarray | Callable[[], np.ndarray] = dataclasses.field(repr=False)

    def __len__(self) -> int:
        return len(self.frame_numbers)

    @property
    def key(self) -> str:
        return f"{self.subject}/{self.video}"

    def position(self, frame_number: int) -> int:
        """The position of the first stored frame numbered ``frame_number`` or later."""
        return int(np.searchsorted(self.frame_numbers, frame_number))

    def window(self, start: int, stop: int) -> np.ndarray:
        """Frames at positions ``start`` to ``stop - 1``, decoded: (stop - start, H, W, 3) uint8."""
        if not 0 <= start <= stop <= len(self):
            raise IndexError(f"{self.key}: window [{start}, {stop}) outside its {len(self)} frames")
        encoded = _kept(self.encoded) if callable(self.encoded) else self.encoded
        return np.stack([decode(data) for data in encoded[start:stop]])

    def frames(self, chunk: int = 256) -> Iterator[tuple[int, np.ndarray]]:
        """The whole video as (start position, frames) chunks of at most ``chunk`` frames."""
        for start in range(0, len(self), chunk):
            yield start, self.window(start, min(start + chunk, len(self)))


@functools.lru_cache(maxsize=KEPT_VIDEOS)
def _kept(read: Callable[[], np.ndarray]) -> np.ndarray:
    return read()


def decode(data: bytes) -> np.ndarray:
    """One encoded frame as (H, W, 3) uint8 RGB."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("a stored frame cannot be decoded")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def encode(frame: np.ndarray) -> bytes:
    """(H, W, 3) uint8 RGB as PNG bytes, as the builders store it."""
    ok, data = cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("a frame cannot be encoded as PNG")
    return data.tobytes()


def from_example(example: dict, encoded=None) -> LongVideo:
    """A :class:`LongVideo` from one numpy example read with ``frames`` left encoded (``encoded``:
    in place of the example's frames, e.g. a function that reads them)."""
    text = lambda value: value.decode() if isinstance(value, bytes) else str(value)  # noqa: E731
    found = example["events"]
    events = [
        Event(
            onset=int(found["onset"][index]),
            apex=int(found["apex"][index]),
            offset=int(found["offset"][index]),
            type=EVENT_TYPES[int(found["type"][index])],
            emotion=text(found["emotion"][index]),
            au_code=text(found["au_code"][index]),
        )
        for index in range(len(found["onset"]))
    ]
    return LongVideo(
        video=text(example["video"]),
        subject=text(example["subject"]),
        database=text(example["database"]),
        fps=float(example["fps"]),
        frame_numbers=np.asarray(example["frame_numbers"], np.int64),
        events=sorted(events, key=lambda event: (event.onset, event.offset)),
        encoded=np.asarray(example["frames"], dtype=object) if encoded is None else encoded,
    )


def load_videos(name: str, data_dir: str | None = None) -> list[LongVideo]:
    """Every video of a built long-video database (all its subject splits), frames on disk."""
    return read_videos(tfds.builder(name, data_dir=data_dir))


def _examples(builder: tfds.core.DatasetBuilder, split: str):
    dataset = builder.as_dataset(
        split=split, decoders={"frames": tfds.decode.SkipDecoding()}, shuffle_files=False
    )
    return tfds.as_numpy(dataset)


def _read_frames(builder: tfds.core.DatasetBuilder, split: str, index: int, video: str):
    """The encoded frames of example ``index`` of a split (the video named ``video``)."""
    (example,) = _examples(builder, f"{split}[{index}:{index + 1}]")
    name = example["video"].decode()
    if name != video:
        raise ValueError(f"{builder.name} {split}[{index}] is {name}, not {video}: rebuilt?")
    return np.asarray(example["frames"], dtype=object)


def read_videos(builder: tfds.core.DatasetBuilder) -> list[LongVideo]:
    """Every video of a prepared long-video builder, sorted by key, its frames read from disk
    when a window of it is first asked for (see the module docstring)."""
    videos = []
    for split in sorted(builder.info.splits):
        for index, example in enumerate(_examples(builder, split)):
            read = functools.partial(_read_frames, builder, split, index, example["video"].decode())
            videos.append(from_example(example, encoded=read))
    return sorted(videos, key=lambda video: video.key)
