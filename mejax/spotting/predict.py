"""Spot the expressions of a new long video with a finished spotting run.

    python -m mejax.predict --workdir=runs/spotting --video=my_video.mp4 --output_dir=out
    python -m mejax.spotting.predict --workdir=runs/spotting --video=frames/ --fps=30

(:mod:`mejax.predict` hands a spotting run's video to :func:`spot_video`.) The video (a video
file, or a folder of frames ordered by the number in their names) is read one frame at a time,
never held whole: its face is found by MTCNN on a few probed frames and every frame is cropped
with that one box (as the long-video builders crop), resized to the run's frame size and kept
encoded (:class:`mejax.datasets.long_video.LongVideo`). Per expression type, each round of the
run scores the video with its spotter (SOFTNet's trained variables, ``ROUND/spotter_<type>
.msgpack``, on the flow between frames t and t + k of that round's k; MDMD's contrast needs no
training), the rounds' scores are averaged, and the intervals are found on the average as the
spotter finds them (peaks above mean + p (max - mean), each peak +- k). Written:
``<name>.json`` (per type the score over time, the threshold and the intervals, in the video's
frame numbers from 1: SOFTNet's smoothed score, the mean of the 2k windows around a frame, or
MDMD's contrast) and ``<name>.png`` (the scores over time with the intervals shaded). A run
trained on the synthetic database says so in both: its scores on a real face mean little.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from mejax import experiment, reporting
from mejax import predict as clip_predict
from mejax.datasets import long_video
from mejax.spotting import flow_features, mdmd, softnet


class SpotError(Exception):
    """A problem with the video or the run, in words for the person who gave them."""


class FrameSource:
    """The frames of a video file or a folder of images, read one at a time (``len`` and
    indexing, as :func:`mejax.preprocess.face.face_track` probes them)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise SpotError(f"{self.path}: no such video file or frame folder")
        self.fps = None
        if self.path.is_dir():
            suffixes = clip_predict.IMAGE_SUFFIXES  # what mejax.predict reads, in its order
            self.files = sorted(
                (p for p in self.path.iterdir() if p.suffix.lower() in suffixes),
                key=clip_predict.frame_order,
            )
            if not self.files:
                raise SpotError(f"{self.path}: a folder without image files {suffixes}")
            self.count = len(self.files)
        else:
            capture = cv2.VideoCapture(str(self.path))
            self.count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            self.fps = capture.get(cv2.CAP_PROP_FPS) or None
            capture.release()
            if self.count < 1:
                raise SpotError(f"{self.path}: no frame can be read (not a video OpenCV reads)")

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> np.ndarray:
        if hasattr(self, "files"):
            image = cv2.imread(str(self.files[index]), cv2.IMREAD_COLOR)
            where = self.files[index]
        else:
            capture = cv2.VideoCapture(str(self.path))
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            _, image = capture.read()
            capture.release()
            where = f"{self.path} frame {index + 1}"
        if image is None:
            raise SpotError(f"{where}: unreadable image")
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

    def __iter__(self):
        if hasattr(self, "files"):
            yield from (self[i] for i in range(self.count))
            return
        capture = cv2.VideoCapture(str(self.path))
        while True:
            ok, image = capture.read()
            if not ok:
                break
            yield cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        capture.release()


def read_video(source: FrameSource, size: tuple[int, int], fps: float, *, face_crop: bool = True,
               margin: float = 0.2, detector=None) -> long_video.LongVideo:  # fmt: skip
    """The video as the run's builders store one: one face box, frames resized and encoded."""
    geometry = None
    if face_crop:
        from mejax.preprocess import face

        try:
            track = face.face_track(source, detector or face.mtcnn_detector(), 8,
                                    sample=str(source.path))  # fmt: skip
        except (face.NoFaceError, ImportError) as error:
            raise SpotError(str(error)) from error
        geometry = face.crop_geometry(track, source[0].shape[:2], margin)
    encoded = []
    for frame in source:
        if geometry is not None:
            from mejax.preprocess import face

            frame = face.apply_crop(frame[None], geometry)[0]
        frame = cv2.resize(frame, size[::-1], interpolation=cv2.INTER_AREA)
        encoded.append(long_video.encode(frame))
    numbers = np.arange(1, len(encoded) + 1)
    return long_video.LongVideo(source.path.stem, "", "", fps, numbers, [],
                                np.asarray(encoded, dtype=object))  # fmt: skip


def _rounds(workdir: Path) -> list[tuple[Path, dict]]:
    found = [(d, json.loads((d / "spotter.json").read_text()))
             for d in sorted(workdir.iterdir()) if (d / "spotter.json").is_file()]  # fmt: skip
    if not found:
        raise SpotError(
            f"{workdir}: no round with a saved spotter (ROUND/spotter.json); train it first "
            "with python -m mejax.main --config=configs/spotting.py"
        )
    return found


def _scores(video, round_dir: Path, saved: dict, kind: str) -> tuple[np.ndarray, int]:
    """One round's score of every position of the video for a type, and that round's k."""
    k = saved["types"][kind]["k"]
    flow = saved.get("flow", {})
    if saved["method"] == "mdmd":
        params = mdmd.mdmd_params(kind, video.fps, saved.get("database"))
        k = mdmd.effective_k(len(video), params.k)
        signal = mdmd.video_signal(video, k, method=flow.get("method", "farneback"),
                                   work_size=flow.get("work_size", 64))  # fmt: skip
        return signal, k
    from flax import serialization

    config = flow_features.FeatureConfig(
        k=k, method=flow.get("method", "farneback"), work_size=flow.get("work_size", 64),
        size=flow.get("size", 42), layout=flow.get("layout", "face"),
    )  # fmt: skip
    features = flow_features.video_features(video, config)
    hyper = softnet.SoftNetConfig.for_type(kind)
    template = softnet.init_params(hyper, features.shape[1:])
    data = (round_dir / f"spotter_{kind}.msgpack").read_bytes()
    params = serialization.from_bytes(template, data)
    return softnet.scores(params, features, hyper), k


def spot_video(workdir, video, *, output_dir=".", name: str = "", fps: float | None = None,
               face_crop: bool = True, margin: float = 0.2, detector=None) -> dict:  # fmt: skip
    """Spots ``video`` with the run in ``workdir``; writes ``<name>.json`` and ``<name>.png``
    in ``output_dir`` and returns the JSON's content."""
    workdir = Path(workdir)
    config, task = experiment.open_run(workdir)
    if task.target_kind != "intervals":
        raise SpotError(f"{workdir}: not a spotting run (its task predicts {task.target_kind})")
    rounds = _rounds(workdir)
    first = rounds[0][1]
    source = FrameSource(video)
    fps = fps or source.fps or first["fps"]
    frames = read_video(source, tuple(first["frame_size"]), fps, face_crop=face_crop,
                        margin=margin, detector=detector)  # fmt: skip
    synthetic = config.dataset.name.startswith("synth_me")
    result = {
        "workdir": str(workdir.resolve()),
        "video": str(Path(video).resolve()),
        "num_frames": len(frames),
        "fps": fps,
        "trained_on": config.dataset.name,
        "warnings": [],
        "types": {},
    }
    if synthetic:
        result["warnings"].append(
            f"the run was trained on the synthetic database {config.dataset.name}: its scores "
            "on a real face do not tell where a real expression is"
        )
    for kind in task.types:
        per_round = [_scores(frames, d, saved, kind) for d, saved in rounds
                     if kind in saved["types"]]  # fmt: skip
        if not per_round:
            continue
        length = min(len(s) for s, _ in per_round)
        score = np.mean([s[:length] for s, _ in per_round], axis=0)
        k = int(round(np.mean([k for _, k in per_round])))
        if first["method"] == "mdmd":  # training-free: every round's signal is the same
            params = mdmd.mdmd_params(kind, fps, first.get("database"))
            intervals = mdmd.spot(score, k, frames.frame_numbers, kind, params)
            start, values = mdmd.contrast(score, k)
            score = np.concatenate([np.zeros(start), values])  # the contrast, by position
            threshold = float(values.mean() + params.p * (values.max() - values.mean()))
        else:
            p = first["types"][kind]["p"]
            intervals = softnet.spot(score, k, frames.frame_numbers, kind, p)
            smoothed = softnet.smooth(score, k)  # value j: windows j .. j + 2k - 1
            threshold = softnet.threshold(smoothed, p) if len(smoothed) else float("nan")
            score = np.concatenate([np.full(k, np.nan), smoothed])  # centred on its windows
        result["types"][kind] = {
            "k": k,
            "rounds": len(per_round),
            "score": [None if np.isnan(v) else round(float(v), 5) for v in score],
            "threshold": threshold,
            "intervals": [i.to_dict() for i in intervals],
        }
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    name = name or Path(video).stem
    reporting.write_text(output_dir / f"{name}.json", json.dumps(result, indent=1))
    write_figure(output_dir / f"{name}.png", result)
    return result


def write_figure(path: Path, result: dict) -> None:
    """The score of each type over the video's frames, its threshold, and the intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = list(result["types"])
    figure, axes = plt.subplots(len(kinds), 1, figsize=(10, 2.4 * len(kinds) + 0.6), squeeze=False)
    for axis, kind in zip(axes[:, 0], kinds, strict=True):
        found = result["types"][kind]
        score = np.asarray([np.nan if v is None else v for v in found["score"]], np.float64)
        axis.plot(np.arange(1, len(score) + 1), score, lw=0.8, color="C0")
        if np.isfinite(found["threshold"]):
            axis.axhline(found["threshold"], color="grey", ls="--", lw=0.8)
        for interval in found["intervals"]:
            axis.axvspan(interval["onset"], interval["offset"], color="C3", alpha=0.25)
        axis.set_ylabel(f"{kind} score")
        axis.set_xlim(1, result["num_frames"])
    axes[-1, 0].set_xlabel(f"frame (at {result['fps']:g} fps)")
    title = f"{Path(result['video']).name}: spotted with {Path(result['workdir']).name}"
    if result["warnings"]:
        title += "\n(trained on synthetic faces only)"
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    reporting.write_atomic(path, lambda f: figure.savefig(f, format="png", dpi=100), binary=True)
    plt.close(figure)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True, help="the finished spotting run")
    parser.add_argument("--video", required=True, help="a video file or a folder of frames")
    parser.add_argument("--fps", type=float, default=None, help="frame rate (a folder's)")
    parser.add_argument("--output_dir", default=".", help="where NAME.json and NAME.png go")
    parser.add_argument("--name", default="", help="output file name (default: the video's)")
    parser.add_argument("--no_face_crop", action="store_true", help="frames are faces already")
    args = parser.parse_args(argv)
    try:
        result = spot_video(args.workdir, args.video, output_dir=args.output_dir, name=args.name,
                            fps=args.fps, face_crop=not args.no_face_crop)  # fmt: skip
    except (SpotError, experiment.NotARun) as error:
        print(f"FATAL {error}", file=sys.stderr)
        return 1
    for line in result["warnings"]:
        print(f"WARNING: {line}")
    for kind, found in result["types"].items():
        spans = ", ".join(f"{i['onset']}-{i['offset']}" for i in found["intervals"]) or "none"
        print(f"{kind}: {len(found['intervals'])} interval(s): {spans}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
