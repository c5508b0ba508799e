#!/usr/bin/env bash
# MER-auGCN on synth_me's objective classes I-V against the Dual-Inception backbone alone and
# against the variant without the graph (AU features only, "AUFeat"), 3 seeds each, then UF1,
# UAR, WAR and the AU detectors' average F1 as mean +- sample std next to the majority-class
# predictor (and the all-positive detector).
#   bash experiments/au_gcn_synth/run.sh [RUNS_DIR]     (default runs/au_gcn_synth)
set -euo pipefail
runs="${1:-runs/au_gcn_synth}"
for seed in 0 1 2; do
  for row in mer_augcn dual_inception au_feat; do
    python -m mejax.main --config="configs/au_gcn.py:synth,${row}" --config.seed="${seed}" \
      --workdir="${runs}/${row}_seed${seed}" "${@:2}"
  done
done
python experiments/recognition_summary.py "${runs}"
