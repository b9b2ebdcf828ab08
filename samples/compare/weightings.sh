#!/usr/bin/env bash
# The loss-weighting comparison of docs/results.md ("What the weightings did"): single-task baselines and
# nine joint runs (every weighting) on the six sample tasks with MiniLM, same budget and seed, then one Δm% table.
# About 10 minutes per run on 2 CPU cores (the gradient-based ones longer). Usage: samples/compare/weightings.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/compare}
# One TorchSharp thread per process keeps the figures steady on a small shared machine.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
dotnet build src/MtlHost -c Release -v q
mtlhost() { dotnet src/MtlHost/bin/Release/net10.0/mtlhost.dll "$@"; }
# Attention dropout 0.1 (the default when this table was begun) keeps every run of the table comparable.
common=(--encoder minilm --steps 200 --max-length 64 --seed 42 --sampler all-tasks --attention-dropout 0.1)
# A run whose summary.json exists is kept, so an interrupted comparison goes on where it stopped.
[ -f "$out/single-task/baselines.json" ] || mtlhost train "${common[@]}" --single-task --out "$out/single-task" > /dev/null
runs=()
for weighting in ${WEIGHTINGS:-ew uw dwa rlw famo gradnorm pcgrad mgda cagrad}; do
  [ -f "$out/$weighting/summary.json" ] || mtlhost train "${common[@]}" --weighting "$weighting" --out "$out/$weighting" > /dev/null
  runs+=("$out/$weighting")
done
mtlhost compare --baselines "$out/single-task" "${runs[@]}"
