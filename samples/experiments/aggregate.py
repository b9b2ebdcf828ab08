#!/usr/bin/env python3
"""Mean ± standard deviation over seeds of single-task and joint validation scores, and of Δm%.

Reads OUT/seed-S/single/<task>/summary.json (each task trained alone) and OUT/seed-S/<run>/summary.json for every
other run folder of the seed; prints one Markdown table per run, then the controls OUT/seed-S/single-<steps>/<task>
(a task alone for as many steps as the whole joint run).
Δm% = (1/T) Σ_t (−1)^{w_t} (B_t − N_t) / |B_t| × 100 over the primary scores, as `mtlhost compare` computes it.
Usage: aggregate.py OUT SEED [SEED ...]
"""
import json
import os
import statistics
import sys


def primary(summary_path):
    with open(summary_path) as f:
        summary = json.load(f)
    scores = {}
    for task in summary["tasks"]:
        v = task.get("validation")
        if v:
            scores[task["id"]] = (v["primary"], v["score"], v["higherIsBetter"], v["baseline"])
    return scores


def mean_sd(values):
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main(out, seeds):
    baselines = {}
    runs = {}
    controls = {}
    for seed in seeds:
        folder = os.path.join(out, f"seed-{seed}")
        single = os.path.join(folder, "single")
        baselines[seed] = {}
        for task in sorted(os.listdir(single)):
            baselines[seed].update(primary(os.path.join(single, task, "summary.json")))
        for run in sorted(os.listdir(folder)):
            path = os.path.join(folder, run, "summary.json")
            if run != "single" and os.path.exists(path):
                runs.setdefault(run, {})[seed] = primary(path)
            elif run.startswith("single-"):
                for task in sorted(os.listdir(os.path.join(folder, run))):
                    control = os.path.join(folder, run, task, "summary.json")
                    if os.path.exists(control):
                        controls.setdefault(run, {}).setdefault(task, {}).update({seed: primary(control)[task][1]})
    for run, by_seed in runs.items():
        tasks = sorted(set.intersection(*(set(s) for s in by_seed.values())))
        print(f"\n### {run} vs single-task, seeds {' '.join(map(str, seeds))}\n")
        print("| task | primary | trivial | alone | joint | joint − alone |")
        print("|---|---|---:|---:|---:|---:|")
        deltas = {seed: [] for seed in by_seed}
        for task in tasks:
            name, _, higher, trivial = by_seed[seeds[0]][task]
            single = [baselines[s][task][1] for s in by_seed]
            joint = [by_seed[s][task][1] for s in by_seed]
            diff = [j - b for j, b in zip(joint, single)]
            print(f"| {task} | {name} | {trivial:.3f} | {mean_sd(single)} | {mean_sd(joint)} | {mean_sd(diff)} |")
            for s in by_seed:
                b, n = baselines[s][task][1], by_seed[s][task][1]
                if b != 0:
                    deltas[s].append((1 if higher else -1) * (n - b) / abs(b) * 100)
        per_seed = [statistics.mean(d) for d in deltas.values() if d]
        print(f"\nΔm% per seed: {', '.join(f'{d:+.2f}' for d in per_seed)}; mean {mean_sd(per_seed)}")
    for run, by_task in controls.items():
        print(f"\n### control: each task alone, {run.removeprefix('single-')} steps\n")
        print("| task | per seed | mean |")
        print("|---|---|---:|")
        for task, by_seed in sorted(by_task.items()):
            values = [by_seed[s] for s in sorted(by_seed)]
            print(f"| {task} | {', '.join(f'{v:.3f}' for v in values)} | {mean_sd(values)} |")


if __name__ == "__main__":
    main(sys.argv[1], [int(s) for s in sys.argv[2:]])
