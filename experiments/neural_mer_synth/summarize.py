"""Mean +- sample std over seeds of each row's UF1, UAR and WAR, from
``<row>_seed<k>/results.json``, with the majority-class predictor's figures.

python experiments/neural_mer_synth/summarize.py runs/neural_mer_synth
"""

import collections
import json
import sys
from pathlib import Path

import numpy as np

METRICS = ("uf1", "uar", "war")


def main(runs: Path) -> None:
    results = collections.defaultdict(list)
    for path in sorted(runs.glob("*_seed*/results.json")):
        results[path.parent.name.rsplit("_seed", 1)[0]].append(json.loads(path.read_text()))
    if not results:
        raise SystemExit(f"no */results.json under {runs}")
    print("| row | seeds | UF1 | UAR | WAR |")
    print("|---|---:|---:|---:|---:|")
    for runs_ in results.values():
        cells = [np.array([r[m] for r in runs_]) for m in METRICS]
        row = [f"{c.mean():.3f} ± {c.std(ddof=1):.3f}" for c in cells]
        print(f"| {runs_[0]['experiment']} | {len(runs_)} | {' | '.join(row)} |")
    majority = next(iter(results.values()))[0]["majority"]
    print("| majority class | | " + " | ".join(f"{majority[m]:.3f}" for m in METRICS) + " |")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
