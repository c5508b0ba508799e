"""The results of STAP's cross-database protocol laid out as its Tables VI and VII.

Li, Huang, Zhao, arXiv:1907.05023, Sec. IV-E: a detector trained on one of CASME II, CASME and
SAMM, selected on a second and tested on the third, for the seven AUs the three share (1, 2, 4,
9, 12, 14, 17). Each run of a ``cross_<A>_<B>_<C>`` config (``configs/stapf.py``,
``configs/lbp_top.py``, ...) writes one order's ``results.json``; this gathers any number of
them into one table per method laid out as the paper's Tables VI and VII are: the AUs as rows
(and their average), the six train / validation / test orders as columns (in the order of
:data:`mejax.protocols.CROSS_ORDERS`; an order without a run is left blank). The all-positive
detector of each order's test database follows in the same layout, the reference a detector has
to beat::

    python -m mejax.cross_database_table runs/cross/*/ [--out=runs/cross/table.md]
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from absl import app, flags

from mejax import protocols, reporting

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


def sides(result: dict) -> tuple[str, str, str]:
    """The run's train, validation and test databases (tokens: ``casme2``, ``casme``, ``samm``)."""
    (round_,) = result["rounds"]
    return tuple(round_[side][0] for side in ("train", "validation", "test"))


def order(result: dict) -> str:
    """``CASME II → CASME → SAMM``: the run's train, validation and test databases."""
    return " → ".join(NAMES.get(d, d) for d in sides(result))


def _orders(results: list[dict]) -> list[tuple[str, str, str]]:
    """The six orders of the paper's tables, then any other order a run has."""
    known = list(protocols.CROSS_ORDERS.values())
    return known + sorted({sides(r) for r in results} - set(known))


def _table(aus: list[str], orders: list, cells: dict, average: dict, bold: bool) -> list[str]:
    """AUs as rows, orders as columns; ``cells[order][au]`` and ``average[order]`` (missing:
    blank)."""
    names = [" → ".join(NAMES.get(d, d) for d in o) for o in orders]
    lines = ["| AU | " + " | ".join(names) + " |", "|---|" + "---:|" * len(orders)]
    for au in aus:
        row = [f"{cells[o][au]:.3f}" if o in cells else "" for o in orders]
        lines.append(f"| {au} | " + " | ".join(row) + " |")
    mark = "**" if bold else ""
    row = [f"{mark}{average[o]:.3f}{mark}" if o in average else "" for o in orders]
    lines.append("| Avg | " + " | ".join(row) + " |")
    return lines


def markdown(results: list[dict]) -> str:
    """One table per method (the runs' ``experiment``), and the all-positive detector's: AUs as
    rows, the train → validation → test orders as columns.

    Raises:
      ValueError: no results, runs of different AUs, or two runs of one method and order.
    """
    if not results:
        raise ValueError("no cross-database results")
    aus = list(results[0]["f1"])
    for result in results:
        if list(result["f1"]) != aus:
            raise ValueError(f"runs evaluate different AUs: {aus} and {list(result['f1'])}")
    orders = _orders(results)
    lines = [
        "# Cross-database AU detection (STAP, Tables VI and VII): F1 per AU",
        "",
        "Columns: train → validation → test databases.",
        "",
    ]
    for method in sorted({r["experiment"] for r in results}):
        runs = {}
        for result in (r for r in results if r["experiment"] == method):
            if sides(result) in runs:
                raise ValueError(f"two runs of {method} for the order {order(result)}")
            runs[sides(result)] = result
        cells = {o: r["f1"] for o, r in runs.items()}
        average = {o: r["average_f1"] for o, r in runs.items()}
        lines += [f"## {method}", "", *_table(aus, orders, cells, average, bold=True), ""]
    baselines = {sides(r): r for r in results}
    cells = {o: r["f1_all_positive"] for o, r in baselines.items()}
    average = {o: r["average_f1_all_positive"] for o, r in baselines.items()}
    lines += ["## all-positive detector (every AU present in every test clip)", ""]
    lines += _table(aus, orders, cells, average, bold=False)
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
