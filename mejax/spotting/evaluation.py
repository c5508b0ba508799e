"""MEGC's evaluation of expression spotting in long videos, and STRS of spot-then-recognise.

Spotting (MEGC2019-2025 spotting tasks; the MEGC2020 organisers' MDMD baseline evaluation,
``result_helper.py`` and ``evaluation_all_p.py``):

* intervals are frame numbers with both ends included, so ``[a, b]`` holds ``b - a + 1``
  frames (:func:`iou`);
* a prediction is a true positive (TP) when its IoU with a ground-truth interval is at least
  0.5 (exactly 0.5 counts);
* micro- and macro-expressions are scored separately: a prediction of type ``micro`` is
  matched only to ``micro`` truths;
* TP, FP and FN are summed over every video of a database, ``overall`` pools the micro and
  macro counts, and pooling databases sums their counts (MEGC2022's overall pools both test
  sets); precision, recall and F1 come from the summed counts.

Matching is one-to-one within a video (:func:`match_video`): each truth is matched at most
once and each prediction at most once. The public scripts differ here: the MEGC2020 baseline
counts a truth as found when any prediction hits it, so one prediction can find several
truths while FP = #predictions - TP; the STRS-Metric script lets one prediction take every
free truth it overlaps; SOFTNet and MEAN use a VOC-style greedy matcher in confidence order.
FN are the unmatched truths and FP the unmatched predictions. Every video of either side is
scored: predictions on a video without truths are all FPs and truths of a video without
predictions are all FNs (the STRS-Metric script takes its subjects from the prediction file
and its videos from the ground-truth file, so it drops both).

Spot-then-recognise (MEGC2023-2025 STR; STRS as defined by the STRS-Metric repository,
genbing99/STRS-Metric, and by MEAN, Liong, See and Chan, Signal Processing: Image
Communication 110, 2023): STRS = F1_spot x F1_analysis (:func:`evaluate_strs`). The analysis
scores the emotions of the matched (TP) pairs, truth emotion against predicted emotion, over
the emotion classes of the truths; per class precision P_c and recall R_c (one class against
the rest), and F1_analysis = 2 P R / (P + R) of the class means P = mean(P_c), R = mean(R_c).
That is not the mean of the per-class F1, reported separately as UF1; UAR is the mean
per-class recall (the STRS-Metric script reports the mean precision under that name). Unlike
the STRS-Metric script, one class present gives a finite result (its 1x1 confusion matrix is
scored, not replaced by zeros that make F1 0/0 = NaN).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

from mejax.metrics import recognition_metrics

TYPES = ("micro", "macro")
IOU_THRESHOLD = 0.5
MATCHING_RULES = ("iou", "voc")


@dataclasses.dataclass(frozen=True)
class Interval:
    """An expression interval of a long video, truth or prediction.

    Attributes:
      onset: first frame number (the database's frame numbers).
      offset: last frame number, included; ``offset >= onset``.
      type: ``"micro"`` or ``"macro"``.
      score: the prediction's confidence (1.0 for truths and for files without one); used by
        the ``"voc"`` matching rule only.
      emotion: the emotion class (spot-then-recognise), ``""`` when not given.
    """

    onset: int
    offset: int
    type: str
    score: float = 1.0
    emotion: str = ""

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"interval type {self.type!r} is not one of {TYPES}")
        if self.offset < self.onset:
            raise ValueError(f"interval offset {self.offset} is before its onset {self.onset}")

    @property
    def length(self) -> int:
        """Number of frames, both ends included."""
        return self.offset - self.onset + 1

    @classmethod
    def from_event(cls, event) -> Interval:
        """The interval of an annotated event (anything with ``onset``, ``offset``, ``type`` and
        ``emotion``, such as :class:`mejax.datasets.long_video.Event`)."""
        return cls(
            int(event.onset), int(event.offset), event.type, emotion=getattr(event, "emotion", "")
        )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def iou(a: Interval, b: Interval) -> float:
    """Intersection over union of two intervals, frames counted with both ends included.

    Disjoint intervals have intersection 0 and IoU 0. (The MEGC2020 baseline's
    ``result_helper.py`` computes the intersection as ``max(0, min - max) + 1``, so disjoint
    intervals share 1 frame there.)
    """
    intersection = max(0, min(a.offset, b.offset) - max(a.onset, b.onset) + 1)
    return intersection / (a.length + b.length - intersection)


@dataclasses.dataclass(frozen=True)
class Counts:
    """True positives, false positives and false negatives, with precision, recall and F1.

    A ratio with denominator 0 is 0 (no prediction: precision 0; no truth: recall 0), as in
    the MEGC scripts.
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0

    def to_dict(self) -> dict:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


@dataclasses.dataclass(frozen=True)
class Match:
    """The one-to-one matching of one video (one type or all): indices into its lists."""

    pairs: tuple[tuple[int, int, float], ...]  # (truth index, prediction index, IoU)
    unmatched_truths: tuple[int, ...]
    unmatched_predictions: tuple[int, ...]

    @property
    def counts(self) -> Counts:
        return Counts(len(self.pairs), len(self.unmatched_predictions), len(self.unmatched_truths))


def match_video(
    truths: Sequence[Interval],
    predictions: Sequence[Interval],
    *,
    threshold: float = IOU_THRESHOLD,
    rule: str = "iou",
) -> Match:
    """One-to-one matching of one video's predictions to its truths, IoU >= ``threshold``.

    Types are not looked at here (:func:`evaluate_spotting` calls this once per type).

    Rules:

    * ``"iou"`` (the default): every (truth, prediction) pair with IoU >= ``threshold`` is a
      candidate; candidates are taken in order of decreasing IoU, a pair whose truth or
      prediction is already taken being skipped. Ties are broken by the earlier truth, then
      the earlier prediction, both ordered by (onset, offset, list position). MEGC's
      submission files carry no confidence, so a confidence order would fall back on the
      order of the file's rows; this rule depends on the intervals only and pairs the
      best-fitting intervals first (the pairs whose emotions STRS compares). Like every
      greedy rule it can miss the largest possible number of pairs when intervals of one
      side overlap each other heavily.
    * ``"voc"``: the matcher SOFTNet and MEAN vendor (VOC / COCO style): predictions in order
      of decreasing ``score`` (ties: earlier in the list first); each takes the truth of
      highest IoU among all the video's truths (ties: earlier truth) if that IoU reaches the
      threshold and the truth is free, and is a false positive otherwise (it does not fall back
      on its second-best truth).

    Returns:
      the pairs (truth index, prediction index, IoU), sorted by truth index, and the unmatched
      truths (false negatives) and predictions (false positives).
    """
    if rule not in MATCHING_RULES:
        raise ValueError(f"matching rule {rule!r} is not one of {MATCHING_RULES}")
    if len(truths) and len(predictions):
        overlaps = np.array([[iou(t, p) for p in predictions] for t in truths], np.float64)
    else:
        overlaps = np.zeros((len(truths), len(predictions)), np.float64)
    free_truths, free_predictions = set(range(len(truths))), set(range(len(predictions)))
    pairs = []
    if rule == "iou":
        truth_rank = _ranks(truths)
        prediction_rank = _ranks(predictions)
        candidates = sorted(
            (
                (-overlaps[t, p], truth_rank[t], prediction_rank[p], t, p)
                for t, p in zip(*np.nonzero(overlaps >= threshold), strict=True)
            ),
        )
        for _, _, _, t, p in candidates:
            if t in free_truths and p in free_predictions:
                pairs.append((int(t), int(p), float(overlaps[t, p])))
                free_truths.remove(t)
                free_predictions.remove(p)
    else:
        order = sorted(range(len(predictions)), key=lambda p: (-predictions[p].score, p))
        for p in order:
            if not len(truths):
                break
            t = int(np.argmax(overlaps[:, p]))
            if overlaps[t, p] >= threshold and t in free_truths:
                pairs.append((t, p, float(overlaps[t, p])))
                free_truths.remove(t)
                free_predictions.remove(p)
    return Match(tuple(sorted(pairs)), tuple(sorted(free_truths)), tuple(sorted(free_predictions)))


def _ranks(intervals: Sequence[Interval]) -> list[int]:
    """Rank of each interval ordered by (onset, offset, position)."""
    order = sorted(
        range(len(intervals)), key=lambda i: (intervals[i].onset, intervals[i].offset, i)
    )
    ranks = [0] * len(intervals)
    for rank, i in enumerate(order):
        ranks[i] = rank
    return ranks


@dataclasses.dataclass(frozen=True)
class SpottingResult:
    """Spotting counts of one database (or of a pool of databases).

    Attributes:
      by_video: video -> type -> counts, for every video of the truths or the predictions.
      pairs: the matched (truth, prediction) pairs, video by video, type by type.
    """

    by_video: dict[str, dict[str, Counts]]
    pairs: tuple[tuple[str, Interval, Interval], ...] = ()

    @property
    def by_type(self) -> dict[str, Counts]:
        """Counts summed over videos, per type."""
        return {
            kind: sum((video[kind] for video in self.by_video.values()), Counts()) for kind in TYPES
        }

    @property
    def overall(self) -> Counts:
        """Micro and macro counts pooled."""
        return sum(self.by_type.values(), Counts())

    def to_dict(self, videos: bool = False) -> dict:
        """``{"micro", "macro", "overall"}`` each with counts, precision, recall and F1 (plus
        ``"videos"``, the per-video counts, with ``videos=True``); JSON-serialisable."""
        result = {kind: counts.to_dict() for kind, counts in self.by_type.items()}
        result["overall"] = self.overall.to_dict()
        result["num_videos"] = len(self.by_video)
        if videos:
            result["videos"] = {
                name: {kind: counts.to_dict() for kind, counts in video.items()}
                for name, video in self.by_video.items()
            }
        return result


def evaluate_spotting(
    truths: Mapping[str, Iterable[Interval]],
    predictions: Mapping[str, Iterable[Interval]],
    *,
    threshold: float = IOU_THRESHOLD,
    rule: str = "iou",
) -> SpottingResult:
    """MEGC spotting counts of one database.

    Args:
      truths: video -> its annotated intervals. List every scored video, those without
        expressions with an empty list (the MEGC2020 baseline scores all 98 CAS(ME)² videos),
        so that predictions on them count as false positives; a video only in
        ``predictions`` counts the same way.
      predictions: video -> its predicted intervals.
      threshold: the IoU a TP needs.
      rule: the matching rule, see :func:`match_video`.

    Returns:
      The counts of each video and type, and the matched pairs.
    """
    by_video, pairs = {}, []
    for video in sorted(set(truths) | set(predictions), key=str):
        video_truths = list(truths.get(video, ()))
        video_predictions = list(predictions.get(video, ()))
        by_video[video] = {}
        for kind in TYPES:
            kind_truths = [t for t in video_truths if t.type == kind]
            kind_predictions = [p for p in video_predictions if p.type == kind]
            match = match_video(kind_truths, kind_predictions, threshold=threshold, rule=rule)
            by_video[video][kind] = match.counts
            pairs += [(video, kind_truths[t], kind_predictions[p]) for t, p, _ in match.pairs]
    return SpottingResult(by_video, tuple(pairs))


def pool(results: Iterable[SpottingResult]) -> SpottingResult:
    """The results of several databases as one (counts summed; their video names must differ,
    as video names of different databases do)."""
    by_video, pairs = {}, ()
    for result in results:
        common = set(by_video) & set(result.by_video)
        if common:
            raise ValueError(f"videos {sorted(common)[:5]} are in more than one result")
        by_video.update(result.by_video)
        pairs += result.pairs
    return SpottingResult(by_video, pairs)


def evaluate_databases(
    databases: Mapping[
        str, tuple[Mapping[str, Iterable[Interval]], Mapping[str, Iterable[Interval]]]
    ],
    *,
    threshold: float = IOU_THRESHOLD,
    rule: str = "iou",
) -> dict:
    """Spotting scores of each database and of all of them pooled, MEGC's table.

    Args:
      databases: database name -> (truths, predictions), as :func:`evaluate_spotting` takes
        them.

    Returns:
      ``{name: {"micro", "macro", "overall", "num_videos"}, ..., "all": {...}}``: per database
      and, under ``"all"``, the counts of all databases summed (MEGC2022's "overall" column is
      ``["all"]["overall"]``); JSON-serialisable.
    """
    if "all" in databases:
        raise ValueError('"all" names the pooled databases; rename that database')
    results = {
        name: evaluate_spotting(truths, predictions, threshold=threshold, rule=rule)
        for name, (truths, predictions) in databases.items()
    }
    table = {name: result.to_dict() for name, result in results.items()}
    by_type = {kind: sum((r.by_type[kind] for r in results.values()), Counts()) for kind in TYPES}
    table["all"] = {kind: counts.to_dict() for kind, counts in by_type.items()}
    table["all"]["overall"] = sum(by_type.values(), Counts()).to_dict()
    table["all"]["num_videos"] = sum(len(r.by_video) for r in results.values())
    return table


def analysis_scores(true_emotions, predicted_emotions, classes: Sequence[str]) -> dict:
    """The analysis (recognition) part of STRS, on the emotions of the spotted TP pairs.

    Each class is scored one against the rest over the pairs: P_c = pairs right and predicted c
    / pairs predicted c, R_c = pairs right of truth c / pairs of truth c (0 when a denominator
    is 0, as in the STRS-Metric script; a predicted emotion outside ``classes`` is simply
    wrong). F1_analysis = 2 P R / (P + R) with P, R the means of P_c, R_c over ``classes``
    (0 when P + R = 0); UF1 = mean of the per-class F1; UAR = mean of R_c.

    One class: its precision and recall are those of the class's own pairs (a perfect one-class
    analysis scores 1), where the STRS-Metric script gets 0/0. No pairs: every score is 0.

    Args:
      true_emotions, predicted_emotions: (N,) emotions of the matched truths and predictions,
        pairs whose truth emotion is not in ``classes`` already left out.
      classes: the emotion classes scored.

    Returns:
      ``{"precision", "recall", "f1", "uf1", "uar", "war", "num_pairs", "classes",
      "per_class": {class: {"precision", "recall", "f1", "support"}}, "confusion"}``
      (``confusion``: rows true, columns predicted, over ``classes``).
    """
    classes = list(classes)
    true_emotions, predicted_emotions = list(true_emotions), list(predicted_emotions)
    if not classes:
        raise ValueError("analysis needs at least one emotion class")
    if not true_emotions:
        zero = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
        return {
            "precision": 0.0,
            "recall": 0.0,
            "f1": 0.0,
            "uf1": 0.0,
            "uar": 0.0,
            "war": 0.0,
            "num_pairs": 0,
            "classes": classes,
            "per_class": {c: dict(zero) for c in classes},
            "confusion": [[0] * len(classes) for _ in classes],
        }
    with warnings.catch_warnings():
        # One class: scikit-learn warns that the 1 x 1 confusion matrix may miss labels; it
        # does not, the classes are passed explicitly.
        warnings.filterwarnings("ignore", "A single label was found", UserWarning)
        precision, recall, f1, support = precision_recall_fscore_support(
            true_emotions, predicted_emotions, labels=classes, average=None, zero_division=0.0
        )
        recognition = recognition_metrics(true_emotions, predicted_emotions, classes)
    mean_p, mean_r = float(np.mean(precision)), float(np.mean(recall))
    return {
        "precision": mean_p,
        "recall": mean_r,
        "f1": 2 * mean_p * mean_r / (mean_p + mean_r) if mean_p + mean_r > 0 else 0.0,
        "uf1": recognition["uf1"],
        "uar": recognition["uar"],
        "war": recognition["war"],
        "num_pairs": len(true_emotions),
        "classes": classes,
        "per_class": {
            c: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, c in enumerate(classes)
        },
        "confusion": recognition["confusion"],
    }


def evaluate_strs(
    truths: Mapping[str, Iterable[Interval]],
    predictions: Mapping[str, Iterable[Interval]],
    *,
    classes: Sequence[str] | None = None,
    threshold: float = IOU_THRESHOLD,
    rule: str = "iou",
) -> dict:
    """STRS = F1_spot x F1_analysis of one database (MEGC STR).

    Spotting is scored as :func:`evaluate_spotting` does, pooled over types (MEGC STR spots
    micro-expressions only, so the files carry none and are read as micro). The analysis takes
    the matched pairs whose truth emotion is one of ``classes`` (:func:`analysis_scores`).

    Args:
      truths, predictions: video -> intervals, with ``emotion`` set.
      classes: the emotion classes scored; by default every emotion of the truths, sorted
        (the STRS-Metric script's default).

    Returns:
      ``{"strs", "spotting": {...}, "analysis": {...}}`` (JSON-serialisable): ``spotting`` as
      :meth:`SpottingResult.to_dict`, ``analysis`` as :func:`analysis_scores`. With no matched
      pair the analysis scores 0 and so does STRS.
    """
    truths = {video: list(intervals) for video, intervals in truths.items()}
    if classes is None:
        classes = sorted({t.emotion for intervals in truths.values() for t in intervals})
    spotting = evaluate_spotting(truths, predictions, threshold=threshold, rule=rule)
    pairs = [(t, p) for _, t, p in spotting.pairs if t.emotion in set(classes)]
    analysis = analysis_scores(
        [t.emotion for t, _ in pairs], [p.emotion for _, p in pairs], classes
    )
    spot = spotting.to_dict()
    return {"strs": spot["overall"]["f1"] * analysis["f1"], "spotting": spot, "analysis": analysis}
