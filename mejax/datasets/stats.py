"""Label statistics of an annotation file: what a builder would produce from it.

Prints, as JSON, the number of samples and subjects, the per-AU counts, the per-class counts
(emotion, objective class, MEGC2019 class), the per-database parts of a composite, the rows
kept out with their reasons and the errata applied, from the annotation files alone (no
frames). Used to check a database against the tables of the papers, e.g. the CASME II AU
counts of STAP (Li, Huang, Zhao, arXiv:1907.05023, Table II) or the MEGC2018 objective-class
counts (Davison et al., J. Imaging 2018, Table 3)::

  python -m mejax.datasets.stats --database casme2 --annotations CASME2-coding-20140508.xlsx
  python -m mejax.datasets.stats --database megc2018 \\
      --annotations CASME2-ObjectiveClasses.xlsx SAMM_Micro_FACS_Codes_v2.xlsx
  python -m mejax.datasets.stats --database megc2019 --annotations combined_3class_gt.csv

Databases and the files they take: ``casme2`` (a CASME II coding sheet), ``samm``
(``SAMM_Micro_FACS_Codes_v2.xlsx``), ``casme`` (the CASME coding sheet), ``smic`` (a SMIC-E
annotation sheet; ``--sheet HS`` or ``VIS``), ``megc2018`` (``CASME2-ObjectiveClasses.xlsx``
and / or the SAMM sheet; a CASME II coding sheet of the 2019 release also works, with its
own objective-class column), ``megc2019`` (``combined_3class_gt.csv``).
"""

from __future__ import annotations

import argparse
import collections
import json
import pathlib
import sys

from mejax.datasets import readers

DATABASES = ("casme", "casme2", "samm", "smic", "megc2018", "megc2019")


def _counts(values) -> dict:
    counter = collections.Counter(v for v in values if v not in (None, ""))
    return dict(sorted(counter.items(), key=lambda kv: str(kv[0])))


def summarize(samples: list[readers.Sample], labels: dict | None = None) -> dict:
    """Sample, subject, AU and class counts of samples.

    Args:
      samples: the samples.
      labels: optional ``{(subject, clip): class}`` (the MEGC2019 classes).

    Returns:
      A JSON-ready dict.
    """
    au_counts = collections.Counter(au for s in samples for au in s.aus)
    summary = {
        "num_samples": len(samples),
        "num_subjects": len({s.subject for s in samples}),
        "au_counts": {f"AU{au}": n for au, n in sorted(au_counts.items())},
        "emotion_counts": _counts(s.emotion for s in samples),
        "objective_class_counts": _counts(s.objective_class for s in samples),
    }
    if labels is not None:
        summary["class_counts"] = _counts(labels[(s.subject, s.clip)] for s in samples)
    return summary


def statistics(database: str, files: list[str | pathlib.Path], sheet: str | None = None) -> dict:
    """The statistics of ``database`` from its annotation files (see the module docstring).

    Returns:
      A JSON-ready dict; composites have a ``parts`` entry per source database.
    """
    parts, excluded, errata_applied, labels = [], [], [], None
    for path in map(pathlib.Path, files):
        kind = readers.sniff(path)
        if database == "megc2019":
            if kind != "megc2019":
                raise ValueError(f"{path.name}: megc2019 takes combined_3class_gt.csv")
            truth = readers.megc2019(path)
            labels = {(t.subject, t.clip): t.label for t in truth}
            parts.append(
                [
                    readers.Sample(
                        t.database,
                        t.subject,
                        t.clip,
                        None,
                        None,
                        None,
                        "",
                        frozenset(),
                        "",
                        None,
                        t.source,
                    )  # fmt: skip
                    for t in truth
                ]
            )
            continue
        expected = {"casme2": "casme2", "samm": "samm", "casme": "casme", "smic": "smic_e"}
        if database in expected and kind != expected[database]:
            raise ValueError(f"{path.name} is a {kind} file, not a {database} annotation file")
        if kind == "casme2_objective_classes":
            annotations = readers.casme2_objective_class_samples(path)
        elif kind == "smic_e":
            annotations = readers.smic_e(path, sheet or "HS")
        else:
            annotations = getattr(readers, kind)(path)
        if database == "megc2018":
            if kind not in ("casme2", "casme2_objective_classes", "samm"):
                raise ValueError(f"{path.name}: megc2018 takes CASME II and SAMM files")
            annotations = readers.megc2018_part(annotations)
        parts.append(annotations.samples)
        excluded.extend(e.as_dict() for e in annotations.excluded)
        errata_applied.extend(annotations.errata)
    samples = [s for part in parts for s in part]
    result = {"database": database, "files": [pathlib.Path(f).name for f in files]}
    result.update(summarize(samples, labels))
    if database in ("megc2018", "megc2019"):
        by_database = collections.defaultdict(list)
        for s in samples:
            by_database[s.database].append(s)
        result["parts"] = {name: summarize(p, labels) for name, p in sorted(by_database.items())}
    result["excluded"] = excluded
    result["errata_applied"] = errata_applied
    return result


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; prints the statistics as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True, choices=DATABASES)
    parser.add_argument("--annotations", required=True, nargs="+", help="annotation file(s)")
    parser.add_argument("--sheet", default=None, help="worksheet (SMIC-E: HS or VIS)")
    args = parser.parse_args(argv)
    try:
        result = statistics(args.database, args.annotations, args.sheet)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
