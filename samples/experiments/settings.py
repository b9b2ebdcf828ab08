#!/usr/bin/env python3
"""Mean ± standard deviation over seeds of every task's primary validation score, per setting, and each setting's
Δm% against the `defaults` folder, seed by seed (the same seed's defaults run is the baseline).

Reads OUT/<setting>/seed-S/summary.json. Δm% = (1/T) Σ_t (−1)^{w_t} (B_t − N_t) / |B_t| × 100 over the primary
scores, as `mtlhost compare` computes it; tasks whose baseline score is 0 are left out of Δm% and named.
Usage: settings.py OUT [--without TASK ...]   (--without: leave tasks out of Δm%, e.g. one that has barely started)
"""
import json
import os
import statistics
import sys


def primary(path):
    with open(path) as f:
        summary = json.load(f)
    return {t["id"]: (t["validation"]["primary"], t["validation"]["score"], t["validation"]["higherIsBetter"])
            for t in summary["tasks"] if t.get("validation")}


def mean_sd(values):
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main(out, without=()):
    runs = {}
    for setting in sorted(os.listdir(out)):
        folder = os.path.join(out, setting)
        if not os.path.isdir(folder):
            continue
        for seed_folder in sorted(os.listdir(folder)):
            path = os.path.join(folder, seed_folder, "summary.json")
            if seed_folder.startswith("seed-") and os.path.exists(path):
                runs.setdefault(setting, {})[seed_folder[5:]] = primary(path)
    if "defaults" not in runs:
        sys.exit(f"{out}/defaults holds no seed-*/summary.json: run settings.sh first")
    settings = ["defaults"] + sorted(s for s in runs if s != "defaults")
    tasks = sorted(set.intersection(*(set(scores) for by_seed in runs.values() for scores in by_seed.values())))
    print("| task (primary) | " + " | ".join(settings) + " |")
    print("|---|" + "---:|" * len(settings))
    for task in tasks:
        name = runs["defaults"][next(iter(runs["defaults"]))][task][0]
        cells = [mean_sd([scores[task][1] for scores in runs[s].values()]) for s in settings]
        print(f"| {task} ({name}) | " + " | ".join(cells) + " |")
    cells = []
    skipped = set()
    for setting in settings[1:]:
        per_seed = []
        for seed, scores in sorted(runs[setting].items()):
            base = runs["defaults"].get(seed)
            if base is None:
                continue
            terms = []
            for task in tasks:
                _, b, higher = base[task]
                n = scores[task][1]
                if task in without:
                    continue
                if b == 0:
                    skipped.add(task)
                    continue
                terms.append((1 if higher else -1) * (n - b) / abs(b) * 100)
            per_seed.append(statistics.mean(terms))
        cells.append(mean_sd(per_seed) + " (" + ", ".join(f"{d:+.1f}" for d in per_seed) + ")")
    print("| **Δm%** vs defaults, same seed | | " + " | ".join(cells) + " |")
    if without:
        print(f"\nLeft out of Δm% (--without): {', '.join(sorted(without))}")
    if skipped:
        print(f"\nLeft out of Δm% (a defaults score of 0): {', '.join(sorted(skipped))}")


if __name__ == "__main__":
    args = sys.argv[1:]
    without = [args[i + 1] for i, a in enumerate(args) if a == "--without" and i + 1 < len(args)]
    positional = [a for i, a in enumerate(args) if a != "--without" and (i == 0 or args[i - 1] != "--without")]
    main(positional[0] if positional else "runs/settings", set(without))
