"""Validation F1 per evaluation and test F1 of each run under a folder.

python experiments/kinetics_synth/summarize.py runs/kinetics_synth
"""

import json
import sys
from pathlib import Path


def main(runs: Path) -> None:
    for workdir in sorted(p.parent for p in runs.glob("*/results.json")):
        rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
        curve = [(r["step"], r["val/score"]) for r in rows if "val/score" in r]
        results = json.loads((workdir / "results.json").read_text())
        print(
            f"{workdir.name}: validation F1 by step "
            + ", ".join(f"{step}: {f1:.3f}" for step, f1 in curve)
            + f"; test F1 {results['average_f1']:.3f} "
            f"(all-positive {results['average_f1_all_positive']:.3f})"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
