#!/usr/bin/env bash
# The MEGC2019 recogniser's rows on synth_me with synth_me/macro as the macro-expression source:
# Part + Adv + EMR, Part + EMR and the encoder alone (ResNet-18 + EMR), 3 seeds each, then UF1
# and UAR as mean +- sample std next to the majority-class predictor.
#   bash experiments/neural_mer_synth/run.sh [RUNS_DIR]     (default runs/neural_mer_synth)
set -euo pipefail
runs="${1:-runs/neural_mer_synth}"
for seed in 0 1 2; do
  for row in part_adv_emr part_emr resnet_emr; do
    python -m mejax.main --config="configs/neural_mer.py:synth,${row}" --config.seed="${seed}" \
      --workdir="${runs}/${row}_seed${seed}" "${@:2}"
  done
done
python experiments/recognition_summary.py "${runs}"
