#!/usr/bin/env bash
# Does multi-task learning pay off where it is known to: a low-resource task trained with related tasks?
#
# supersense (45 WordNet supersenses of a definition) with only N training examples (default 400, about 9 per class),
# trained jointly with the other WordNet tasks (wordclass, pos-tagging, sensedomains: same lexicon, full data), against
# every one of those tasks trained alone on exactly as many batches as it got in the joint run.
#
# The budget is the one MT-DNN and jiant compare on: one task per step (--sampler uniform, so the low-resource task is
# drawn as often as the others), and each single-task baseline gets as many steps as its task was drawn in the joint
# run (read from the joint run's summary.json), with the same batch size, seed and settings. Same batches per task,
# same total compute; the joint run's encoder takes all of them, each baseline's only its own.
# Three seeds; then mean ± standard deviation of every primary score and of Δm% (samples/experiments/aggregate.py).
# STEPS=1600 CONTROL_TASKS="" is the equal-steps comparison of docs/results.md: each task trains ~400 of the joint steps
# (uniform sampler, four tasks), and each baseline alone exactly as many.
#
# Usage: samples/experiments/low-resource.sh [OUT_DIR] [extra train options for every run...]
#   environment: N (supersense training examples, 400), STEPS (joint steps, 400), SEEDS ("1 2 3"), ENCODER (minilm),
#                SAMPLER (uniform), CONTROL_TASKS ("supersense sensedomains": alone for STEPS steps too; "" for none),
#                OMP_NUM_THREADS (2: one run at a time uses both cores), NO_BUILD
# About 60 minutes with MiniLM on 2 CPU cores (35 without the controls); or one copy per seed at once, each with its own OUT_DIR, OMP_NUM_THREADS=1
# and NO_BUILD=1 (then `aggregate.py` over a folder holding their seed-* folders).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/low-resource}
shift || true
n=${N:-400}
steps=${STEPS:-400}
seeds=${SEEDS:-1 2 3}
encoder=${ENCODER:-minilm}
sampler=${SAMPLER:-uniform}
control_tasks=${CONTROL_TASKS-supersense sensedomains}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

# NO_BUILD=1 when several copies run at once (one seed each, OMP_NUM_THREADS=1): one build first, then none of them builds.
[ -n "${NO_BUILD:-}" ] || dotnet build src/MtlHost -c Release -v q > /dev/null
mtlhost() { dotnet src/MtlHost/bin/Release/net10.0/mtlhost.dll "$@"; }

# Real plugin DLLs in a folder: the WordNet tasks, supersense cut to its first N training lines (the rows are in a
# fixed pseudo-random order, so the first N are a random sample; validation and test stay whole). Each plugin also
# gets a folder of its own for its single-task runs.
plugins="$out/plugins"
rm -rf "$plugins" "$out/alone" && mkdir -p "$plugins" "$out/alone"
for plugin in Supersense WordClass PosTagging SenseDomains; do
  cp -r "artifacts/plugins/$plugin" "$plugins/"
done
train="$plugins/Supersense/data/supersense/train.jsonl"
head -n "$n" "$train" > "$train.cut" && mv "$train.cut" "$train"
declare -A plugin_of=([supersense]=Supersense [wordclass]=WordClass [pos-tagging]=PosTagging [sensedomains]=SenseDomains)
for task in "${!plugin_of[@]}"; do
  mkdir -p "$out/alone/$task" && cp -r "$plugins/${plugin_of[$task]}" "$out/alone/$task/"
done

common=(--encoder "$encoder" --max-length 64 "$@")
for seed in $seeds; do
  echo "seed $seed: joint, $steps steps, --sampler $sampler" >&2
  mtlhost train "${common[@]}" --plugins "$plugins" --sampler "$sampler" --steps "$steps" --seed "$seed" --out "$out/seed-$seed/joint" > /dev/null
  for task in "${!plugin_of[@]}"; do
    # The steps this task trained in the joint run: its baseline gets exactly as many batches.
    task_steps=$(python3 -c "import json,sys; print(next(t['steps'] for t in json.load(open(sys.argv[1]))['tasks'] if t['id'] == sys.argv[2]))" \
      "$out/seed-$seed/joint/summary.json" "$task")
    echo "seed $seed: $task alone, $task_steps steps" >&2
    mtlhost train "${common[@]}" --plugins "$out/alone/$task" --steps "$task_steps" --seed "$seed" --out "$out/seed-$seed/single/$task" > /dev/null
  done
  # The control: a task alone for as many steps as the whole joint run, to tell transfer from the joint run's extra
  # optimizer steps (the encoder is updated $steps times in the joint run, about $steps/4 times in each baseline above).
  for task in $control_tasks; do
    echo "seed $seed: $task alone, $steps steps (control)" >&2
    mtlhost train "${common[@]}" --plugins "$out/alone/$task" --steps "$steps" --seed "$seed" --out "$out/seed-$seed/single-$steps/$task" > /dev/null
  done
done
python3 samples/experiments/aggregate.py "$out" $seeds
