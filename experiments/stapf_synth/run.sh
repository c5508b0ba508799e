#!/usr/bin/env bash
# The README's quickstart (STAPF on synth_me) over 3 seeds, then the mean and sample standard
# deviation of each AU's F1 and of their average, beside the all-positive detector.
#   bash experiments/stapf_synth/run.sh [RUNS_DIR]     (default runs/stapf_synth)
set -euo pipefail
runs="${1:-runs/stapf_synth}"
for seed in 0 1 2; do
  python -m mejax.main --config=configs/stapf.py --config.seed="${seed}" \
    --workdir="${runs}/stapf_seed${seed}"
done
python experiments/au_summary.py "${runs}"
