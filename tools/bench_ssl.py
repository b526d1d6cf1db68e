"""Benchmark: semi-supervised learning on Fashion-MNIST with 1,000 labels.

Runs recipes/supervised_1k.yaml (labels only, the baseline),
pseudo_label_1k.yaml (online, thresholded), pseudo_label_offline_1k.yaml,
fixmatch_1k.yaml and noisy_student_1k.yaml for each seed (the seed picks the
1,000 labels and the initial weights), and prints test accuracy on all
10,000 test images (median over seeds, min-max) with minutes per run; for
Noisy Student also the accuracy per iteration. Checks the targets: every
semi-supervised recipe beats supervised_1k; Noisy Student improves at each
iteration and ends >= 4 points above; FixMatch >= 5 points above.

    python tools/bench_ssl.py [--seeds 0 1 2] [--only fixmatch_1k ...] [--set train.epochs=100 ...]
                              [--json out.json]
"""

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from kvision.recipes import load_recipe  # noqa: E402
from kvision.run import run_recipe  # noqa: E402

RECIPES = ["supervised_1k", "pseudo_label_1k", "pseudo_label_offline_1k", "fixmatch_1k",
           "noisy_student_1k"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--only", nargs="*", default=RECIPES)
    parser.add_argument("--runs", default="runs/bench_ssl")
    parser.add_argument("--json", default=None)
    parser.add_argument("--set", dest="overrides", nargs="*", default=[],
                        help="recipe overrides for every recipe run, as with `kvision run --set`")
    args = parser.parse_args()
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "recipes")
    results = {}
    for seed in args.seeds:
        for name in args.only:
            recipe = load_recipe(os.path.join(folder, f"{name}.yaml"), [f"seed={seed}", "train.verbose=2",
                                                                          *args.overrides])
            start = time.time()
            summary = run_recipe(recipe, os.path.join(args.runs, f"{name}-s{seed}"))
            cell = results.setdefault(name, {"accuracy": [], "minutes": [], "iterations": []})
            cell["accuracy"].append(summary["test_accuracy"])
            cell["minutes"].append((time.time() - start) / 60)
            if "iterations" in summary:
                cell["iterations"].append([i["test_accuracy"] for i in summary["iterations"]])
            print(f"{name} seed {seed}: {summary['test_accuracy']:.4f}", flush=True)
            keras.backend.clear_session()
    print("\n| recipe | test accuracy, median (min-max) | vs supervised_1k | minutes per run |\n"
          "|---|---|---|---|")
    med = {n: statistics.median(r["accuracy"]) for n, r in results.items()}
    base = med.get("supervised_1k")
    for name, r in results.items():
        gain = f"{(med[name] - base) * 100:+.1f}" if base is not None else ""
        print(f"| `{name}` | {med[name]:.4f} ({min(r['accuracy']):.4f}-{max(r['accuracy']):.4f}) | {gain} | "
              f"{statistics.median(r['minutes']):.1f} |")
    for name, r in results.items():
        for seed, accuracies in zip(args.seeds, r["iterations"]):
            steps = " -> ".join(f"{a:.4f}" for a in accuracies)
            print(f"{name} seed {seed} per iteration: {steps}; improves each time: "
                  f"{all(b > a for a, b in zip(accuracies, accuracies[1:]))}")
    if base is not None:
        for name in med:
            if name != "supervised_1k":
                print(f"{name} beats supervised_1k: {med[name] > base} ({(med[name] - base) * 100:+.1f} points)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
