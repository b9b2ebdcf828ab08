#!/usr/bin/env bash
# Gradient clipping in a joint run: one clip over the sum of every task's gradient (BERT's global norm 1.0) against
# clipping each task's gradient before they are added up, a larger global norm, and none. Six sample tasks, MiniLM,
# --sampler all-tasks (every task every step, so K = 6 gradients meet in each step), the same single-task baselines
# for every Δm%. About 8 minutes per run on 2 CPU cores (OMP_NUM_THREADS=2, one run at a time).
# Usage: samples/compare/clipping.sh [OUT_DIR] [extra train options...]   environment: STEPS (150), SEED (42)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/clipping}
shift || true
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
dotnet build src/MtlHost -c Release -v q > /dev/null
mtlhost() { dotnet src/MtlHost/bin/Release/net10.0/mtlhost.dll "$@"; }
common=(--encoder minilm --steps "${STEPS:-150}" --max-length 64 --seed "${SEED:-42}" --sampler all-tasks "$@")
[ -f "$out/single-task/baselines.json" ] || mtlhost train "${common[@]}" --single-task --out "$out/single-task" > /dev/null
runs=()
for setting in "global 1" "per-task 1" "global 5" "none 1"; do
  read -r mode norm <<< "$setting"
  name="$mode-$norm"
  [ -f "$out/$name/summary.json" ] || mtlhost train "${common[@]}" --clipping "$mode" --clip-norm "$norm" --out "$out/$name" > /dev/null
  runs+=("$out/$name")
done
mtlhost compare --baselines "$out/single-task" "${runs[@]}"
