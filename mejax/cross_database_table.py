"""The results of STAP's cross-database protocol laid out like its Tables VI and VII.

Li, Huang, Zhao, arXiv:1907.05023, Sec. IV-E: a detector trained on one of CASME II, CASME and
SAMM, selected on a second and tested on the third, for the seven AUs the three share (1, 2, 4,
9, 12, 14, 17). Each run of a ``cross_<A>_<B>_<C>`` config (``configs/stapf.py``,
``configs/lbp_top.py``, ...) writes one order's ``results.json``; this gathers any number of
them into one table per method -- a row per order (train -> validation -> test), a column per
AU, the average over AUs -- and the all-positive detector of each order's test database beside
them, the reference a detector has to beat::

    python -m mejax.cross_database_table runs/cross/*/ [--out=runs/cross/table.md]

The paper prints no table layout this module could copy verbatim; this one puts what Tables VI
and VII compare (methods, orders, AUs) in one place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from absl import app, flags

from mejax import reporting

NAMES = {"casme2": "CASME II", "casme": "CASME", "samm": "SAMM"}


def read(workdirs: Iterable[str | Path]) -> list[dict]:
    """The ``results.json`` of each cross-database workdir.

    Raises:
      FileNotFoundError: a workdir without ``results.json`` (an unfinished run).
      ValueError: a run of another protocol.
    """
    results = []
    for workdir in workdirs:
        path = Path(workdir) / "results.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no results (is the run finished?)")
        result = json.loads(path.read_text())
        if result.get("protocol") != "cross_database":
            raise ValueError(f"{path}: protocol {result.get('protocol')!r}, not cross_database")
        results.append(result)
    return results


def order(result: dict) -> str:
    """``CASME II -> CASME -> SAMM``: the run's train, validation and test databases."""
    (round_,) = result["rounds"]
    sides = [round_[side][0] for side in ("train", "validation", "test")]
    return " → ".join(NAMES.get(d, d) for d in sides)


def markdown(results: list[dict]) -> str:
    """One table per method (the runs' ``experiment``), and the all-positive detector's."""
    if not results:
        raise ValueError("no cross-database results")
    aus = list(results[0]["f1"])
    for result in results:
        if list(result["f1"]) != aus:
            raise ValueError(f"runs evaluate different AUs: {aus} and {list(result['f1'])}")
    header = ["| train → validation → test | " + " | ".join(aus) + " | Avg |",
              "|---|" + "---:|" * (len(aus) + 1)]  # fmt: skip
    lines = ["# Cross-database AU detection (STAP, Tables VI and VII): F1 per AU", ""]
    methods = sorted({r["experiment"] for r in results})
    for method in methods:
        rows = sorted((order(r), r) for r in results if r["experiment"] == method)
        lines += [f"## {method}", "", *header]
        for name, result in rows:
            cells = " | ".join(f"{result['f1'][au]:.3f}" for au in aus)
            lines.append(f"| {name} | {cells} | **{result['average_f1']:.3f}** |")
        lines.append("")
    baselines = {order(r): r for r in results}
    lines += ["## all-positive detector (every AU present in every test clip)", "", *header]
    for name, result in sorted(baselines.items()):
        cells = " | ".join(f"{result['f1_all_positive'][au]:.3f}" for au in aus)
        lines.append(f"| {name} | {cells} | {result['average_f1_all_positive']:.3f} |")
    return "\n".join(lines) + "\n"


FLAGS = flags.FLAGS
flags.DEFINE_string("out", "", "Also write the table to this file.")


def main(argv):
    text = markdown(read(argv[1:]))
    if FLAGS.out:
        reporting.write_text(Path(FLAGS.out), text)
    print(text, end="")


if __name__ == "__main__":
    app.run(main)
