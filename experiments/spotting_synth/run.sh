#!/usr/bin/env bash
# Spotting on synth_me's long videos (synth_me_long/small: 6 subjects x 2 videos x 20 s at
# 30 fps), leave one subject out, 3 seeds: SOFTNet and the MEGC2020 MDMD baseline, each beside
# the trivial spotter, and spot-then-recognise (SOFTNet + LBP-TOP/SVM and SOFTNet + I3D,
# micro-expressions); then
# F1 per type and overall (and STRS) as mean +- sample std.
#   bash experiments/spotting_synth/run.sh [RUNS_DIR]     (default runs/spotting_synth)
set -euo pipefail
runs="${1:-runs/spotting_synth}"
for seed in 0 1 2; do
  python -m mejax.main --config=configs/spotting.py --config.seed="${seed}" \
    --workdir="${runs}/softnet_seed${seed}" "${@:2}"
  python -m mejax.main --config=configs/spotting.py:mdmd --config.seed="${seed}" \
    --workdir="${runs}/mdmd_seed${seed}" "${@:2}"
  python -m mejax.main --config=configs/spot_then_recognise.py --config.seed="${seed}" \
    --workdir="${runs}/str_seed${seed}" "${@:2}"
  python -m mejax.main --config=configs/spot_then_recognise.py:i3d --config.seed="${seed}" \
    --workdir="${runs}/str_i3d_seed${seed}" "${@:2}"
done
python experiments/spotting_summary.py "${runs}"
