"""The spotting task: micro- and macro-expression intervals in long videos, scored as MEGC does.

A spotting run (``task.name = "spotting"``) takes whole long videos as its samples
(:class:`mejax.spotting.videos.VideoSet`); a round's fitter (:mod:`mejax.spotting.fitter`)
spots the intervals of its test videos with the run's spotter and, beside it, with the trivial
spotter (fixed-length windows at a fixed stride). The rounds' test videos are pooled and scored
by :mod:`mejax.spotting.evaluation`: an interval is a true positive when its IoU with an
annotated interval of the same type is at least 0.5, matched one to one; precision, recall and
F1 per type (micro and macro spotted and scored separately, as MEGC 2020-2023 do) and over both
types pooled ("overall": the micro and macro counts summed). When the spotted intervals carry
an emotion (spot-then-recognise, MEGC 2024-2025), STRS = spotting F1 x the recognition F1 on
the correctly spotted intervals (:func:`mejax.spotting.evaluation.evaluate_strs`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mejax import reporting, tasks
from mejax.spotting import evaluation

SPOTTERS = ("spotter", "trivial")  # the record's prefix of each spotter's intervals
FIELDS = ("video", "onset", "offset", "type", "score", "emotion")


def record_intervals(prefix: str, intervals: dict[str, list[evaluation.Interval]]) -> dict:
    """Flat arrays ``<prefix>_<field>`` of every video's intervals (a round's record)."""
    rows = [(video, i) for video, found in sorted(intervals.items()) for i in found]
    return {
        f"{prefix}_video": np.asarray([v for v, _ in rows], dtype=str),
        f"{prefix}_onset": np.asarray([i.onset for _, i in rows], np.int64),
        f"{prefix}_offset": np.asarray([i.offset for _, i in rows], np.int64),
        f"{prefix}_type": np.asarray([i.type for _, i in rows], dtype=str),
        f"{prefix}_score": np.asarray([i.score for _, i in rows], np.float64),
        f"{prefix}_emotion": np.asarray([i.emotion for _, i in rows], dtype=str),
    }


def read_intervals(record: dict, prefix: str) -> dict[str, list[evaluation.Interval]]:
    """The intervals :func:`record_intervals` stored, by video (every tested video listed)."""
    found: dict[str, list[evaluation.Interval]] = {str(v): [] for v in record["videos"]}
    columns = [record[f"{prefix}_{field}"] for field in FIELDS]
    for video, onset, offset, kind, score, emotion in zip(*columns, strict=True):
        found.setdefault(str(video), []).append(
            evaluation.Interval(int(onset), int(offset), str(kind), float(score), str(emotion))
        )
    return found


@dataclasses.dataclass(frozen=True)
class Spotting(tasks.Task):
    """Spot micro- and macro-expressions in long videos.

    Attributes:
      types: the expression types spotted (each with its own spotter and k).
      iou: the IoU a true positive needs (MEGC: 0.5).
      matching: the one-to-one matching rule (:func:`mejax.spotting.evaluation.match_video`).
    """

    types: tuple[str, ...] = evaluation.TYPES
    iou: float = evaluation.IOU_THRESHOLD
    matching: str = "iou"
    num_models = 1
    score_name = "F1 (overall)"
    target_kind = "intervals"
    output_kind = "interval"

    def __post_init__(self):
        unknown = sorted(set(self.types) - set(evaluation.TYPES))
        if unknown or not self.types:
            raise ValueError(f"task.types {self.types}: give some of {evaluation.TYPES}")
        if self.matching not in evaluation.MATCHING_RULES:
            raise ValueError(f"task.matching {self.matching!r} not in {evaluation.MATCHING_RULES}")

    @classmethod
    def from_config(cls, config, videos=None) -> Spotting:
        del videos
        return cls(
            types=tuple(config.get("types", evaluation.TYPES)),
            iou=config.get("iou", evaluation.IOU_THRESHOLD),
            matching=config.get("matching", "iou"),
        )

    # --- What the runner asks of every task -------------------------------------------------

    def targets(self, videos) -> np.ndarray:
        """(N,) the annotated intervals of each video, of the task's types."""
        found = np.empty(len(videos), dtype=object)
        for index, video in enumerate(videos.videos):
            found[index] = [
                evaluation.Interval(e.onset, e.offset, e.type, 1.0, e.emotion)
                for e in video.events
                if e.type in self.types
            ]
        return found

    def take_part(self, videos):
        """Every video takes part (a video without expressions scores its false positives)."""
        if not len(videos):
            raise ValueError("no video in the run's database")
        return videos, self.targets(videos)

    def target_counts(self, targets) -> dict[str, int]:
        """Expressions of each type (what a side of a round holds)."""
        return {t: sum(i.type == t for found in targets for i in found) for t in self.types}

    counted = "expressions"

    def summarize(self, records: list[dict], rounds: list, config) -> dict:
        """The spotter's and the trivial spotter's counts, precision, recall and F1 per type and
        overall, on the test videos of all rounds pooled; STRS when intervals carry emotions."""
        truths, found = {}, {prefix: {} for prefix in SPOTTERS}
        for record in records:
            truths.update(read_intervals(record, "truth"))
            for prefix in SPOTTERS:
                found[prefix].update(read_intervals(record, prefix))
        scored = {
            prefix: evaluation.evaluate_spotting(
                truths, found[prefix], threshold=self.iou, rule=self.matching
            ).to_dict()
            for prefix in SPOTTERS
        }
        header = {
            "experiment": config.get("name", ""),
            "database": config.dataset.name,
            "protocol": config.protocol.name,
            "rounds": [
                {"name": r.name, **r.describe(), **_round_settings(rec)}
                for r, rec in zip(rounds, records, strict=True)
            ],
            "selected_by": "a fixed setting (no selection: the spotters' published parameters)",
        }
        kinds = (*self.types, "overall")
        results = {
            **header,
            "task": "spotting",
            "spotter": config.get("spotter", {}).get("method", ""),
            "types": list(self.types),
            "num_test_videos": len(truths),
            "num_expressions": {
                t: sum(i.type == t for v in truths.values() for i in v) for t in self.types
            },
            "f1": {kind: scored["spotter"][kind]["f1"] for kind in kinds},
            "trivial_f1": {kind: scored["trivial"][kind]["f1"] for kind in kinds},
            "spotting": scored["spotter"],
            "trivial": scored["trivial"],
        }
        if any(i.emotion for v in found["spotter"].values() for i in v):
            strs = evaluation.evaluate_strs(
                truths, found["spotter"], threshold=self.iou, rule=self.matching
            )
            results["strs"] = strs["strs"]
            results["analysis"] = strs["analysis"]
        return results

    @staticmethod
    def describe(config) -> str:
        return f"{', '.join(config.get('types', evaluation.TYPES))}-expression intervals"

    @staticmethod
    def headline(results: dict) -> str:
        f1, trivial = results["f1"], results["trivial_f1"]
        parts = ", ".join(f"{k} {v:.3f}" for k, v in f1.items() if k != "overall")
        line = (
            f"spotting F1 {f1['overall']:.3f} ({parts}); trivial spotter {trivial['overall']:.3f}"
        )
        if "strs" in results:
            line += f"; STRS {results['strs']:.3f}"
        return line

    def markdown(self, results: dict) -> str:
        lines = [
            f"# {results['experiment'] or 'spotting'} on {results['database']} "
            f"({results['protocol']})",
            "",
            f"{results['num_test_videos']} test videos pooled over {len(results['rounds'])} "
            f"round(s); {results['selected_by']}. A spotted interval is a true positive when its "
            "IoU with an annotated interval of its type is at least 0.5, matched one to one.",
            "",
            "| spotter | type | expressions | TP | FP | FN | precision | recall | F1 |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for prefix, label in (("spotting", results["spotter"]), ("trivial", "trivial")):
            for kind in (*results["types"], "overall"):
                c = results[prefix][kind]
                count = results["num_expressions"].get(
                    kind, sum(results["num_expressions"].values())
                )
                lines.append(
                    f"| {label} | {kind} | {count} | {c['tp']} | {c['fp']} | {c['fn']} "
                    f"| {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} |"
                )
        if "strs" in results:
            analysis = results["analysis"]
            lines += [
                "",
                f"## Spot-then-recognise: STRS {results['strs']:.3f}",
                "",
                f"Recognition on the {analysis.get('num_pairs', '')} correctly spotted intervals: "
                f"F1 {analysis['f1']:.3f} (2 P R / (P + R) of the class-mean precision and recall, "
                f"as MEGC defines it), UF1 {analysis['uf1']:.3f}, UAR {analysis['uar']:.3f}.",
            ]
        return "\n".join(lines) + "\n"

    def write_reports(self, workdir, results: dict) -> None:
        reporting.write_text(workdir / "results.md", self.markdown(results))


def _round_settings(record: dict) -> dict:
    """Each type's k (and the trivial spotter's window) a round used, as its record gives them."""
    settings = {}
    for key in sorted(record):
        if key.startswith("setting_"):
            settings[key.removeprefix("setting_")] = int(record[key])
    return {"settings": settings} if settings else {}
