"""Mean +- sample std over seeds of each variant's per-AU and average F1, from
``<variant>_seed<k>/results.json`` (AU-detection runs), with the all-positive detector's.

python experiments/au_summary.py runs/sca_synth
"""

import sys
from pathlib import Path

from seed_runs import by_row, mean_std


def main(runs: Path) -> None:
    results = by_row(runs)
    aus = list(next(iter(results.values()))[0]["f1"])
    print(f"| variant | seeds | {' | '.join(aus)} | average F1 |")
    print("|---|---:|" + "---:|" * (len(aus) + 1))
    for runs_ in results.values():
        row = [mean_std([r["f1"][au] for r in runs_]) for au in aus]
        row.append(mean_std([r["average_f1"] for r in runs_]))
        print(f"| {runs_[0]['experiment']} | {len(runs_)} | {' | '.join(row)} |")
    first = next(iter(results.values()))[0]
    print(f"all-positive average F1: {first['average_f1_all_positive']:.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
