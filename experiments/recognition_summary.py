"""Mean +- sample std over seeds of each row's UF1, UAR and WAR (and, for a joint AU task, the
detectors' average F1), from ``<row>_seed<k>/results.json``, with the majority-class
predictor's figures (and the all-positive detector's). The rows of the synthetic experiments of
``experiments/*/run.sh``:

python experiments/recognition_summary.py runs/neural_mer_synth
"""

import sys
from pathlib import Path

from seed_runs import by_row, mean_std

METRICS = ("uf1", "uar", "war")


def main(runs: Path) -> None:
    results = by_row(runs)
    detection = any("au_detection" in r for rows in results.values() for r in rows)
    print("| row | seeds | UF1 | UAR | WAR |" + (" AU F1 (avg) |" if detection else ""))
    print("|---|---:|---:|---:|---:|" + ("---:|" if detection else ""))
    for key, rows in results.items():
        cells = [mean_std([r[m] for r in rows]) for m in METRICS]
        if detection:
            found = [r["au_detection"]["average_f1"] for r in rows if "au_detection" in r]
            cells.append(mean_std(found) if len(found) == len(rows) else "")
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
