"""Mean +- sample std over seeds of each spotting row's F1 (micro, macro, overall), with the
trivial spotter's, and STRS where the row recognises, from ``<row>_seed<k>/results.json``
(``experiments/spotting_synth/run.sh``):

python experiments/spotting_summary.py runs/spotting_synth
"""

import sys
from pathlib import Path

from seed_runs import by_row, mean_std

KINDS = ("micro", "macro", "overall")


def main(runs: Path) -> None:
    print("| row | seeds | F1 micro | F1 macro | F1 overall | trivial overall | STRS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for key, rows in by_row(runs).items():
        cells = [mean_std([r["f1"][k] for r in rows]) if k in rows[0]["f1"] else "" for k in KINDS]
        trivial = mean_std([r["trivial_f1"]["overall"] for r in rows])
        strs = mean_std([r["strs"] for r in rows]) if "strs" in rows[0] else ""
        name = f"{key} ({rows[0]['experiment']})"
        print(f"| {name} | {len(rows)} | {' | '.join(cells)} | {trivial} | {strs} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
