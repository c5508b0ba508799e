"""Mean +- sample std over seeds of each row's UF1, UAR and WAR (and, for a joint AU task, the
detectors' average F1), from ``<row>_seed<k>/results.json``, with the majority-class
predictor's figures (and the all-positive detector's). The rows of the synthetic experiments of
``experiments/*/run.sh``:

python experiments/recognition_summary.py runs/neural_mer_synth
"""

import collections
import json
import sys
from pathlib import Path

import numpy as np

METRICS = ("uf1", "uar", "war")


def _cell(values) -> str:
    values = np.asarray(values, np.float64)
    return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"


def main(runs: Path) -> None:
    results = collections.defaultdict(list)
    for path in sorted(runs.glob("*_seed*/results.json")):
        results[path.parent.name.rsplit("_seed", 1)[0]].append(json.loads(path.read_text()))
    if not results:
        raise SystemExit(f"no */results.json under {runs}")
    detection = any("au_detection" in r for rows in results.values() for r in rows)
    print("| row | seeds | UF1 | UAR | WAR |" + (" AU F1 (avg) |" if detection else ""))
    print("|---|---:|---:|---:|---:|" + ("---:|" if detection else ""))
    for key, rows in results.items():
        cells = [_cell([r[m] for r in rows]) for m in METRICS]
        if detection:
            found = [r["au_detection"]["average_f1"] for r in rows if "au_detection" in r]
            cells.append(_cell(found) if len(found) == len(rows) else "")
        print(f"| {key} ({rows[0]['experiment']}) | {len(rows)} | {' | '.join(cells)} |")
    first = next(iter(results.values()))[0]
    trivial = [f"{first['majority'][m]:.3f}" for m in METRICS]
    if detection:
        trivial.append(
            next(f"{r['au_detection']['average_f1_all_positive']:.3f} (all-positive)"
                 for rows in results.values() for r in rows if "au_detection" in r)
        )  # fmt: skip
    print("| majority class | | " + " | ".join(trivial) + " |")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
