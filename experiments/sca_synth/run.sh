#!/usr/bin/env bash
# Res3D-18 with and without second-order attention (SCA) on synth_me, 3 seeds each, then the
# mean and standard deviation of the average AU F1 (issue: "SCA beats Res3D-18 over 3 seeds").
#   bash experiments/sca_synth/run.sh [RUNS_DIR]     (default runs/sca_synth)
set -euo pipefail
runs="${1:-runs/sca_synth}"
for seed in 0 1 2; do
  for attention in sca none; do
    python -m mejax.main --config="configs/sca.py:synth,${attention}" --config.seed="${seed}" \
      --workdir="${runs}/${attention}_seed${seed}"
  done
done
python experiments/au_summary.py "${runs}"
