"""Mean +- sample std over seeds of each variant's per-AU and average F1, from
``<variant>_seed<k>/results.json`` (AU-detection runs), with the all-positive detector's.

python experiments/au_summary.py runs/sca_synth
"""

import collections
import json
import sys
from pathlib import Path

import numpy as np


def main(runs: Path) -> None:
    results = collections.defaultdict(list)
    for path in sorted(runs.glob("*_seed*/results.json")):
        results[path.parent.name.rsplit("_seed", 1)[0]].append(json.loads(path.read_text()))
    if not results:
        raise SystemExit(f"no */results.json under {runs}")
    aus = list(next(iter(results.values()))[0]["f1"])
    print(f"| variant | seeds | {' | '.join(aus)} | average F1 |")
    print("|---|---:|" + "---:|" * (len(aus) + 1))
    for runs_ in results.values():
        cells = [np.array([r["f1"][au] for r in runs_]) for au in aus]
        average = np.array([r["average_f1"] for r in runs_])
        row = [f"{c.mean():.3f} ± {c.std(ddof=1):.3f}" for c in (*cells, average)]
        print(f"| {runs_[0]['experiment']} | {len(runs_)} | {' | '.join(row)} |")
    first = next(iter(results.values()))[0]
    print(f"all-positive average F1: {first['average_f1_all_positive']:.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
