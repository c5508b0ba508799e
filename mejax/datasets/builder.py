"""Shared machinery of the manual-download builders of the licensed databases.

A builder reads its annotations (:mod:`mejax.datasets.readers`), locates every clip's frame
folder in the manual directory, checks that everything is there -- a missing or misplaced
folder gives one :class:`MissingFilesError` listing every expected path, not the first one --
and writes one split per subject in the schema of :func:`mejax.datasets.features.clip_features`.
The build report (samples kept out with file, row and reason; errata applied; the manual
directory and the SHA-256 of its annotation files, against which a reused build is checked, with
a warning; ``frame_gaps``, the frame numbers missing inside each clip whose files are not
consecutive) is logged and stored in the dataset's metadata under ``build_report``. A clip listed
twice, or a frame folder outside the manual directory (``../`` in an annotation cell), is a
:class:`~mejax.datasets.readers.AnnotationError` naming the rows.

Frames are read with OpenCV whatever their format (JPEG, BMP, PNG; grey frames become RGB)
and stored as PNG, so every database decodes alike. ``frames`` holds every frame of the
clip's folder, ordered by the frame number in the file name (the last run of digits:
``reg_img46.jpg`` -> 46, ``006_05562.jpg`` -> 5562, ``S005_001_00000011.png`` -> 11);
``onset`` / ``apex`` / ``offset`` are the 0-based positions of the annotated frame numbers,
-1 where not annotated.

Cached variants. Besides the raw clips, every builder offers preprocessing variants of
:mod:`mejax.preprocess.cached` as configs named ``<frames config>_<variant>`` -- e.g.
``casme2/cropped_tim10_224``, ``casme2/cropped_2014_flow_tvl1_28_aug70``,
``smic/hs_cropped_apex_224``, ``samm/faces_tim10_224`` -- or ``<variant>`` for SAMM's full
frames (``samm/apex_224``). The variants (:data:`VARIANTS`) are offered on the face-cropped
frames: the databases' own crops where they distribute them, the builder's face crops
otherwise (``casme/faces_*``, ``samm/faces_*``; SAMM also on its full frames). A variant
config holds exactly the clips, splits, labels and build report of its frames config; only
``frames`` is replaced by the variant's fields. Clips differ in size, so flow is computed on
frames resized to :data:`FLOW_WORK_SIZE` squared (then resized to the variant's size, vectors
scaled).

Face crops. A config with ``face_crop`` (``casme/faces``, ``samm/faces`` and their variants
``samm/faces_tim10_224``, ...), or a composite that sets :attr:`Clip.face_crop` on the clips of
a database without a cropped release (MEGC2019 ``cropped``: its SAMM part), stores every such
clip face-cropped at its native resolution: :func:`locate_faces` runs MTCNN (Zhang et al., IEEE
SPL 2016; :func:`mejax.preprocess.face.mtcnn_detector`, the ``mtcnn`` package's shipped
weights) on :data:`FACE_PROBE_FRAMES` frames spread over the clip (shrunk to
:data:`FACE_DETECT_MAX_SIDE` for the detection), takes the median face and eyes
(:func:`~mejax.preprocess.face.face_track`), and :func:`read_clip` rotates every frame so that
the eyes are level and crops it with one square box, the median box grown by
:data:`FACE_MARGIN` on each side (:func:`~mejax.preprocess.face.crop_geometry`, the framing of
:mod:`mejax.predict`). One box per clip, not one per frame: a box that moves by a pixel adds
motion larger than a micro-expression's. The build report records, per clip key, the box
``[x, y, side]`` (in the rotated frame), the angle, the median detection ``[x, y, w, h]``, the
frame size and the probed and missed frames, under ``face_crops``. A clip with no face on any
probed frame is never stored uncropped: the build stops with one :class:`NoFaceClipsError`
listing every such clip's folder and probed frames.

Missing apex. Where a clip has no annotated apex (``apex == -1``: every SMIC clip, CASME II
sub04/EP12_01f), the variants use the middle frame ``(onset + offset) // 2`` in its place (the
apex frame, the onset -> apex flow, the augmented pairs around it). The stored ``apex`` label
stays -1, so such examples remain recognisable, and the build report lists them under
``apex_substituted``.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import os
import pathlib
import re

import cv2
import numpy as np
import tensorflow_datasets as tfds
from absl import logging

from mejax.datasets import aus, features, local_build, readers
from mejax.preprocess import cached, face

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
NOT_ANNOTATED = -1
VARIANTS = (
    "tim10_112",
    "tim10_224",
    "apex_224",
    # Micro-Attention's input: 240^2 apex frames, randomly cropped to 224^2 in training.
    "apex_240",
    "flow_tvl1_28",
    "flow_tvl1_28_aug70",
    "flow_tvl1_112",
    # The MEGC2019 recogniser's flow (Liu et al.): Farneback, plain and expression-magnified.
    "flow_farneback_112",
    "flow_farneback_112_evm",
)
FLOW_WORK_SIZE = 112
FLOW_BATCH_SIZE = 16
# Face crops (see the module docstring): frames probed per clip, the box's growth on each side
# (that of mejax.predict, so that a model trained on the crops sees new clips framed alike) and
# the longer side of the frames MTCNN is run on.
FACE_PROBE_FRAMES = 5
FACE_MARGIN = 0.2
FACE_DETECT_MAX_SIDE = 640
FACE_METHOD = (
    "MTCNN (Zhang et al., IEEE SPL 2016; mtcnn package) on {probes} frames spread over the clip "
    "(detected at most {max_side} px on the longer side); median box and eyes; the clip rotated "
    "about the eyes' midpoint so that they are level (not below {min_angle} degrees) and every "
    "frame cropped with one square box, the median box grown by {margin} of its side on each "
    "side; box [x, y, side] in the rotated frame"
)


class NoFaceClipsError(face.NoFaceError):
    """Clips of a face-cropped config with no face on any probed frame (never stored uncropped).

    Attributes:
      errors: one :class:`mejax.preprocess.face.NoFaceError` per clip (``sample``: its folder).
    """

    def __init__(self, database: str, errors: list[face.NoFaceError]):
        self.errors = errors
        first = errors[0]
        self.sample, self.probed, self.num_frames = first.sample, first.probed, first.num_frames
        listing = "\n".join(f"  {error}" for error in errors)
        ValueError.__init__(
            self,
            f"{database}: no face found in {len(errors)} clip(s) of a face-cropped config "
            f"(MTCNN; a clip is never stored uncropped):\n{listing}",
        )


class MissingFilesError(FileNotFoundError):
    """Files or folders a builder expects in its manual directory and did not find."""

    def __init__(self, database: str, root: pathlib.Path, missing: list[pathlib.Path]):
        self.missing = missing
        listing = "\n".join(f"  {path}" for path in missing)
        super().__init__(
            f"{database}: {len(missing)} expected path(s) missing under the manual directory "
            f"{root}:\n{listing}\nSee the builder's MANUAL_DOWNLOAD_INSTRUCTIONS for the layout."
        )


def frame_number(path: pathlib.Path) -> int:
    """Frame number of a frame file: the last run of digits of its stem."""
    numbers = re.findall(r"[0-9]+", path.stem)
    if not numbers:
        raise ValueError(f"{path}: no frame number in the file name")
    return int(numbers[-1])


def frame_files(folder: pathlib.Path) -> list[tuple[int, pathlib.Path]]:
    """(frame number, path) of the image files of a folder, by frame number."""
    frames = sorted(
        (frame_number(p), p)
        for p in folder.iterdir()
        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )
    numbers = [n for n, _ in frames]
    if len(set(numbers)) != len(numbers):
        duplicates = sorted(n for n, c in collections.Counter(numbers).items() if c > 1)
        raise ValueError(f"{folder}: several files with frame number(s) {duplicates}")
    return frames


@dataclasses.dataclass(frozen=True)
class Clip:
    """A sample and where its frames are.

    Attributes:
      sample: the annotation.
      folder: the clip's frame folder.
      split: the split (subject) name in this builder.
      database: the ``database`` feature (the source database in a composite).
      fps: frame rate of the source database.
      label: the ``emotion`` feature if it is not the sample's own (MEGC2019's classes).
      face_crop: whether the clip is stored face-cropped (see the module docstring).
      face: its crop geometry (:func:`mejax.preprocess.face.crop_geometry`), set by
        :func:`locate_faces`; :func:`read_clip` applies it to every frame.
    """

    sample: readers.Sample
    folder: pathlib.Path
    split: str
    database: str
    fps: float
    label: str | None = None
    face_crop: bool = False
    face: dict | None = dataclasses.field(default=None, compare=False)

    @property
    def key(self) -> str:
        return f"{self.split}_{self.sample.clip}"


def check_paths(database: str, root: pathlib.Path, expected: list[pathlib.Path]) -> None:
    """Raises one :class:`MissingFilesError` listing every missing path of ``expected``."""
    missing = sorted({p for p in expected if not p.exists()})
    if missing:
        raise MissingFilesError(database, root, missing)


def _inside(root: pathlib.Path, path: pathlib.Path) -> bool:
    """Whether ``path`` lies under ``root``, by its name (``..`` resolved, links not
    followed: a manual directory may be a tree of links to the data)."""
    root = pathlib.Path(os.path.normpath(root.absolute()))
    return pathlib.Path(os.path.normpath(path.absolute())).is_relative_to(root)


def check_clips(database: str, root: pathlib.Path, clips: list[Clip]) -> None:
    """Raises :class:`readers.AnnotationError` for a clip listed twice (naming both rows) or a
    frame folder outside the manual directory ``root`` (``../`` in an annotation cell)."""
    first: dict[str, Clip] = {}
    for clip in clips:
        if not _inside(root, clip.folder):
            raise readers.AnnotationError(
                f"{clip.sample.source}: the frame folder of {clip.sample.clip}, {clip.folder}, "
                f"is outside the manual directory {root}"
            )
        seen = first.setdefault(clip.key, clip)
        if seen is not clip:
            raise readers.AnnotationError(
                f"{database}: clip {clip.sample.clip} of {clip.split} is listed twice, at "
                f"{seen.sample.source} and {clip.sample.source}"
            )


def linked_outside(root: pathlib.Path, clips: list[Clip]) -> list[dict]:
    """The clips whose frame folder is reached through a link that leaves the manual directory
    ``root`` (allowed: a manual directory may be a tree of links to the data; listed in the
    build report, so that a link to the wrong copy does not go unseen): folder, where it leads,
    and the annotation row."""
    real_root = root.resolve()
    return [
        {
            "folder": str(clip.folder),
            "target": str(clip.folder.resolve()),
            "source": clip.sample.source,
        }  # fmt: skip
        for clip in clips
        if not clip.folder.resolve().is_relative_to(real_root)
    ]


ANNOTATION_SUFFIXES = (".xlsx", ".xls", ".csv", ".txt")


def annotation_hashes(root: pathlib.Path) -> dict[str, str]:
    """{file name: SHA-256} of the annotation files (sheets, CSV, text) directly in ``root``."""
    if not root.is_dir():
        return {}
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.iterdir())
        if path.is_file() and path.suffix.lower() in ANNOTATION_SUFFIXES
    }


def source_changes(report: dict, root: pathlib.Path) -> list[str]:
    """How the manual directory ``root`` differs from the one a build report records (another
    directory, annotation files changed, added or removed); empty if it does not."""
    changes = []
    recorded = report.get("manual_dir")
    if recorded and recorded != str(root.absolute()):
        changes.append(f"built from {recorded}, now given {root.absolute()}")
    before, now = report.get("annotation_sha256"), annotation_hashes(root)
    if before is not None:
        changes += [
            f"{name} changed"
            for name in sorted(before)
            if name in now and before[name] != now[name]
        ]
        changes += [f"{name} is new" for name in sorted(set(now) - set(before))]
        changes += [f"{name} is gone" for name in sorted(set(before) - set(now))]
    return changes


def frame_gaps(clips: list[Clip]) -> dict[str, list[int]]:
    """{clip key: frame numbers missing between its first and last frame file} of the clips
    whose frame numbers are not consecutive (a missing file shortens the clip silently)."""
    gaps = {}
    for clip in clips:
        if getattr(clip, "files", ()) or not clip.folder.is_dir():
            continue  # a clip of chosen files (macro.FilesClip), or a folder reported missing
        numbers = [n for n, _ in frame_files(clip.folder)]
        if numbers and numbers[-1] - numbers[0] + 1 != len(numbers):
            gaps[clip.key] = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
    return gaps


def _index(numbers: list[int], frame: int | None, clip: Clip, field: str) -> int:
    if frame is None:
        return NOT_ANNOTATED
    try:
        return numbers.index(frame)
    except ValueError:
        raise ValueError(
            f"{clip.sample.source}: {field} frame {frame} of {clip.sample.clip} has no file in "
            f"{clip.folder} (frames {numbers[0]}-{numbers[-1]})"
        ) from None


def read_frame(path: pathlib.Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB pixels of a frame file (grey frames become RGB)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path}: not a readable image")
    return image[..., ::-1]  # OpenCV reads BGR


class FolderFrames:
    """The frames of a list of (number, file), decoded on indexing (only the probed ones are
    read)."""

    def __init__(self, files: list[tuple[int, pathlib.Path]]):
        self.files = files

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> np.ndarray:
        return read_frame(self.files[index][1])


def clip_files(clip: Clip) -> list[tuple[int, pathlib.Path]]:
    """(frame number, path) of the frame files a clip reads (its chosen ones, or its folder's)."""
    files = getattr(clip, "files", ())
    return [(frame_number(p), p) for p in files] if files else frame_files(clip.folder)


def crop_and_report(frames, track: dict, margin: float, folder) -> tuple[dict, dict]:
    """(the one crop geometry of a face track, its build-report entry: "folder", "box"
    [x, y, side], "angle" (degrees), "detection" [x, y, w, h], "frame_size" [height, width],
    "probed", "missed")."""
    shape = frames[track["probed"][0]].shape[:2]
    geometry = face.crop_geometry(track, shape, margin)
    entry = {
        "folder": str(folder),
        "box": geometry["box"],
        "angle": round(geometry["angle"], 3),
        "detection": [round(float(v), 1) for v in track["box"]],
        "frame_size": [int(n) for n in shape],
        "probed": track["probed"],
        "missed": track["missed"],
    }
    return geometry, entry


def locate_faces(
    database: str,
    clips: list[Clip],
    detector=None,
    *,
    num_probe_frames: int = FACE_PROBE_FRAMES,
    margin: float = FACE_MARGIN,
    max_side: int = FACE_DETECT_MAX_SIDE,
) -> tuple[list[Clip], dict]:
    """The clips with the crop geometry of every ``face_crop`` clip set, and its report.

    Args:
      database: the builder's name, for the error.
      clips: the clips; those without ``face_crop`` are returned as they are.
      detector: :func:`mejax.preprocess.face.mtcnn_detector`'s kind of function; default
        MTCNN with ``max_side``.
      num_probe_frames, margin: see :func:`mejax.preprocess.face.face_track` and
        :func:`~mejax.preprocess.face.crop_geometry`.
      max_side: see :func:`mejax.preprocess.face.mtcnn_detector`.

    Returns:
      (clips, {"face_crop_method": how, "face_crops": {clip key: {"folder", "box" [x, y,
      side], "angle" (degrees), "detection" [x, y, w, h], "frame_size" [height, width],
      "probed", "missed"}}}).

    Raises:
      NoFaceClipsError: listing every clip with no face on its probed frames.
    """
    wanted = [c for c in clips if c.face_crop]
    if not wanted:
        return clips, {}
    detector = detector or face.mtcnn_detector(max_side=max_side)
    located, crops, errors = {}, {}, []
    for clip in wanted:
        frames = FolderFrames(clip_files(clip))
        if not len(frames):
            raise ValueError(f"{clip.folder}: no frames ({'/'.join(IMAGE_SUFFIXES)} files)")
        try:
            track = face.face_track(frames, detector, num_probe_frames, sample=str(clip.folder))
        except face.NoFaceError as error:
            errors.append(error)
            continue
        geometry, crops[clip.key] = crop_and_report(frames, track, margin, clip.folder)
        located[clip.key] = dataclasses.replace(clip, face=geometry)
    if errors:
        raise NoFaceClipsError(database, errors)
    method = FACE_METHOD.format(
        probes=num_probe_frames,
        max_side=max_side,
        min_angle=face.MIN_ROTATION_DEGREES,
        margin=margin,
    )
    report = {"face_crop_method": method, "face_crops": crops}
    return [located.get(c.key, c) if c.face_crop else c for c in clips], report


def read_clip(clip: Clip, frames: list[tuple[int, pathlib.Path]] | None = None) -> dict:
    """The example of one clip with ``frames`` decoded: a (T, H, W, 3) uint8 RGB array,
    face-cropped with ``clip.face`` where it is set (frame by frame, as they are decoded).

    Args:
      clip: the clip.
      frames: (frame number, path) of its frame files in order; None: every frame of its
        folder (:func:`frame_files`).
    """
    frames = frame_files(clip.folder) if frames is None else frames
    if not frames:
        raise ValueError(f"{clip.folder}: no frames ({'/'.join(IMAGE_SUFFIXES)} files)")
    numbers = [n for n, _ in frames]
    sample = clip.sample
    onset = 0 if sample.onset is None else _index(numbers, sample.onset, clip, "onset")
    offset = (
        len(numbers) - 1
        if sample.offset is None
        else _index(numbers, sample.offset, clip, "offset")
    )
    if clip.face_crop and clip.face is None:
        raise ValueError(
            f"{clip.folder}: a face-cropped clip without its crop (builder.locate_faces sets it)"
        )
    images, shape = [], None
    for _, path in frames:
        image = read_frame(path)
        if shape is not None and image.shape != shape:
            raise ValueError(f"{path}: frame size {image.shape[:2]} differs from {shape[:2]}")
        shape = image.shape
        images.append(image if clip.face is None else face.apply_crop(image[None], clip.face)[0])
    objective = sample.objective_class
    return {
        "frames": np.stack(images),
        "onset": onset,
        "apex": _index(numbers, sample.apex, clip, "apex"),
        "offset": offset,
        "subject": clip.split,
        "clip": sample.clip,
        "aus": aus.multi_hot(sample.aus),
        "au_code": sample.au_code,
        "emotion": clip.label if clip.label is not None else sample.emotion,
        "objective_class": (
            aus.OBJECTIVE_CLASSES.index(objective) if objective else aus.NO_OBJECTIVE_CLASS
        ),
        "fps": clip.fps,
        "database": clip.database,
    }


def encode_clip(clip: Clip) -> dict:
    """The example of one clip in the schema of :func:`features.clip_features`."""
    example = read_clip(clip)
    # OpenCV writes BGR, so the PNG holds the true RGB colours.
    example["frames"] = [
        cv2.imencode(".png", np.ascontiguousarray(f[..., ::-1]))[1].tobytes()
        for f in example["frames"]
    ]
    return example


def middle_apex(example: dict) -> dict:
    """The example with a missing apex (-1) replaced by the middle frame onset..offset."""
    if example["apex"] != NOT_ANNOTATED:
        return example
    return {**example, "apex": (example["onset"] + example["offset"]) // 2}


@dataclasses.dataclass(eq=False)
class ManualConfig(tfds.core.BuilderConfig):
    """Base config of the manual builders.

    Attributes:
      variant: a preprocessing variant of :mod:`mejax.preprocess.cached` stored in place of
        the frames (``tim10_224``, ``flow_tvl1_28``, ...); empty for the raw clips.
      face_crop: every clip is stored face-cropped (MTCNN, one box per clip; see the module
        docstring).
    """

    variant: str = ""
    face_crop: bool = False

    def __post_init__(self):
        if self.variant:
            cached.parse(self.variant)  # raises on an unknown variant, naming it


@dataclasses.dataclass(eq=False)
class FramesConfig(ManualConfig):
    """Config of a composite database (MEGC2018, MEGC2019).

    Attributes:
      frames: which frames of its member databases it reads, ``cropped`` or ``raw``.
      variant: as :class:`ManualConfig` (``cropped_flow_tvl1_112``, ...).
    """

    frames: str = "cropped"


def variant_configs(
    configs: list[ManualConfig], variants: tuple[str, ...] = VARIANTS, *, prefix: bool = True
) -> list[ManualConfig]:
    """One config per (frames config, variant): ``<config name>_<variant>`` (or ``<variant>``
    without ``prefix``), with the frames config's other fields."""
    return [
        dataclasses.replace(
            config,
            name=f"{config.name}_{variant}" if prefix else variant,
            description=f"{config.name} preprocessed as {variant} (mejax.preprocess.cached; "
            "a missing apex is taken as the middle frame).",
            variant=variant,
        )
        for config in configs
        for variant in variants
    ]


class ManualBuilder(local_build.LocalBuild, tfds.core.GeneratorBasedBuilder):
    """Base of the licensed databases' builders: subclasses implement :meth:`_clips`."""

    def _info(self) -> tfds.core.DatasetInfo:
        schema = features.clip_features()
        if self._variant is not None:
            schema = cached.features(self._variant, schema)
        return self.dataset_info_from_configs(features=schema, metadata=tfds.core.MetadataDict())

    @property
    def _variant(self) -> cached.Variant | None:
        """The parsed variant of the config, None for the raw clips."""
        name = getattr(self.builder_config, "variant", "")
        return cached.parse(name) if name else None

    def _clips(self, root: pathlib.Path) -> tuple[list[Clip], dict]:
        """The clips of this builder config and its build report."""
        raise NotImplementedError

    def download_and_prepare(self, *, download_config=None, **kwargs) -> None:
        """TFDS's, warning when an existing build is reused although its manual directory or
        annotation files differ from those it was built from (delete the build to rebuild)."""
        manual_dir = getattr(download_config, "manual_dir", None)
        if manual_dir and self.is_prepared():
            report = self.info.metadata.get("build_report", {})
            changes = source_changes(report, pathlib.Path(manual_dir))
            if changes:
                logging.warning(
                    "%s: reusing the build in %s although %s; delete that folder to rebuild",
                    self.name, self.data_dir, "; ".join(changes),
                )  # fmt: skip
        super().download_and_prepare(download_config=download_config, **kwargs)

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        root = pathlib.Path(dl_manager.manual_dir)
        clips, report = self._clips(root)
        check_clips(self.name, root, clips)
        gaps = frame_gaps(clips)
        links = linked_outside(root, clips)
        for link in links:
            logging.warning("%s: %s (%s) leads outside the manual directory, to %s",
                            self.name, link["folder"], link["source"], link["target"])  # fmt: skip
        for key, missing in gaps.items():
            logging.warning("%s: %s has no frame file numbered %s", self.name, key, missing[:20])
        if getattr(self.builder_config, "face_crop", False):
            clips = [dataclasses.replace(c, face_crop=True) for c in clips]
        clips, faces = locate_faces(self.name, clips)
        if faces:
            logging.info(
                "%s: one face box per clip for %d clip(s), in the build report's face_crops",
                self.name, len(faces["face_crops"]),
            )  # fmt: skip
        report = {
            **report,
            "manual_dir": str(root.absolute()),
            "annotation_sha256": annotation_hashes(root),
            "frame_gaps": gaps,
            "linked_outside": links,
            **faces,
        }
        if self._variant is not None:
            report = {
                **report,
                "apex_substituted": sorted(c.key for c in clips if c.sample.apex is None),
                "apex_rule": "missing apex (-1): the middle frame (onset + offset) // 2 is "
                "used; the stored apex stays -1",
            }
        for excluded in report.get("excluded", []):
            logging.warning("%s: kept out %s", self.name, excluded)
        self.info.metadata["build_report"] = json.loads(json.dumps(report))
        by_split = collections.defaultdict(list)
        for clip in clips:
            by_split[clip.split].append(clip)
        if self._variant is not None:  # one bar for the whole build, not one per subject
            self._progress = cached.build_bar(len(clips), f"{self.name}/{self.builder_config.name}")
        return {split: self._generate_examples(c) for split, c in sorted(by_split.items())}

    def _generate_examples(self, clips: list[Clip]):
        variant = self._variant
        if variant is None:
            for clip in clips:
                yield clip.key, encode_clip(clip)
            return
        raw = ((clip.key, middle_apex(read_clip(clip))) for clip in clips)
        apex = {clip.key: clip.sample.apex for clip in clips}
        for key, example in cached.transform(
            raw,
            variant,
            batch_size=FLOW_BATCH_SIZE,
            work_size=FLOW_WORK_SIZE if variant.kind == "flow" else None,
            desc=f"{self.name}/{self.builder_config.name}",
            progress=getattr(self, "_progress", None),
        ):
            if apex[key] is None:
                example["apex"] = NOT_ANNOTATED
            yield key, example
