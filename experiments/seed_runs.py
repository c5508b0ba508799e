"""What the seed summaries of ``experiments/*/run.sh`` share: the finished runs grouped by row
(``<row>_seed<k>/results.json``) and the mean ± sample standard deviation over seeds."""

import collections
import json
from pathlib import Path

import numpy as np


def by_row(runs: Path) -> dict[str, list[dict]]:
    """``{row: [results.json of each seed]}`` of the runs under ``runs``, in sorted order.

    Raises:
      SystemExit: no finished run there.
    """
    results = collections.defaultdict(list)
    for path in sorted(runs.glob("*_seed*/results.json")):
        results[path.parent.name.rsplit("_seed", 1)[0]].append(json.loads(path.read_text()))
    if not results:
        raise SystemExit(f"no */results.json under {runs}")
    return dict(results)


def mean_std(values) -> str:
    """``mean ± std`` (sample std, ddof 1) of the seeds' values, 3 decimals."""
    values = np.asarray(values, np.float64)
    return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"
