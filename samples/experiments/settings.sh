#!/usr/bin/env bash
# What a training setting is worth in validation scores: the six sample tasks with MiniLM, trained jointly on the
# defaults and with one setting changed, three seeds each; then every task's primary score as mean ± standard
# deviation per setting, and each setting's Δm% against the defaults (samples/experiments/settings.py).
#
# The settings compared by default are the two the performance issue asks about: BERT's attention dropout
# (`--attention-dropout 0` lets libtorch use its fused attention kernel) and length-grouped batches
# (`--length-window 8`: fewer padding tokens per batch, a different batch composition).
#
# Usage: samples/experiments/settings.sh [OUT_DIR] [extra train options for every run...]
#   environment: SEEDS ("1 2 3"), STEPS (300), SETTINGS (a ';'-separated list of "name:options";
#                default "defaults:--attention-dropout 0.1;no-attention-dropout:--attention-dropout 0;
#                length-window-8:--attention-dropout 0.1 --length-window 8": the defaults as they were when it was measured),
#                OMP_NUM_THREADS (1), NO_BUILD
# About 5 minutes per run with MiniLM, --max-length 64 and one thread; nine runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/settings}
shift || true
seeds=${SEEDS:-1 2 3}
steps=${STEPS:-300}
settings=${SETTINGS:-defaults:--attention-dropout 0.1;no-attention-dropout:--attention-dropout 0;length-window-8:--attention-dropout 0.1 --length-window 8}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

[ -n "${NO_BUILD:-}" ] || dotnet build src/MtlHost -c Release -v q > /dev/null
mtlhost() { dotnet src/MtlHost/bin/Release/net10.0/mtlhost.dll "$@"; }

IFS=';' read -r -a entries <<< "$settings"
for seed in $seeds; do
  for entry in "${entries[@]}"; do
    name=${entry%%:*}
    read -r -a options <<< "${entry#*:}"
    # A run whose summary.json exists is kept, so an interrupted comparison goes on where it stopped.
    [ -f "$out/$name/seed-$seed/summary.json" ] && continue
    echo "seed $seed: $name ${options[*]}" >&2
    mtlhost train --encoder minilm --max-length 64 --steps "$steps" --seed "$seed" "${options[@]}" "$@" \
      --out "$out/$name/seed-$seed" > /dev/null
  done
done
python3 samples/experiments/settings.py "$out"
