#!/usr/bin/env bash
# Micro-Attention's staged transfer on synth_me, 3 seeds: stage 1 (the network without
# attention on synth_me/macro), then on synth_me's objective classes I-V
#   ma_staged      with attention units, from stage 1,
#   ma_scratch     with attention units, from scratch,
#   resnet_staged  without them, from stage 1;
# then UF1, UAR and WAR as mean +- sample std next to the majority-class predictor.
#   bash experiments/micro_attention_synth/run.sh [RUNS_DIR]  (default runs/micro_attention_synth)
set -euo pipefail
runs="${1:-runs/micro_attention_synth}"
config=configs/micro_attention.py
for seed in 0 1 2; do
  stage1="${runs}/stage1/seed${seed}"
  python -m mejax.main --config="${config}:synth,pretrain" --config.seed="${seed}" \
    --workdir="${stage1}" "${@:2}"
  python -m mejax.main --config="${config}:synth" --config.seed="${seed}" \
    --config.init_from="${stage1}" --workdir="${runs}/ma_staged_seed${seed}" "${@:2}"
  python -m mejax.main --config="${config}:synth" --config.seed="${seed}" \
    --workdir="${runs}/ma_scratch_seed${seed}" "${@:2}"
  python -m mejax.main --config="${config}:synth,resnet" --config.seed="${seed}" \
    --config.init_from="${stage1}" --workdir="${runs}/resnet_staged_seed${seed}" "${@:2}"
done
python experiments/recognition_summary.py "${runs}"
