"""Benchmark: transfer learning on Fashion-MNIST classes 5-9 from few labels.

One backbone is pretrained on classes 0-4 (stage `pretrain` of
recipes/transfer_finetune.yaml). Then, for 10, 50 and 500 labels per class
and three seeds (the seed picks the labels and the head's initialisation),
the target task is trained four ways with the same steps, augmentation and
optimizer, except that the linear probe's lone linear head takes a larger
learning rate: from scratch (recipes/transfer_scratch.yaml), linear probe
(recipes/transfer_linear_probe.yaml), a linear probe on earlier features
(the same with model.drop_blocks: 2, the backbone cut after block 3), fine-tune
and LP-FT (stage `transfer` of recipes/transfer_finetune.yaml, with
train.transfer.mode set). Test
accuracy is on all 5,000 test images of classes 5-9. Prints a Markdown table
(median over seeds, with min-max) and checks the claims:

- with 10 labels per class, linear probe and fine-tune both beat scratch by
  a wide margin;
- with 500 labels per class, fine-tune beats linear probe.

    python tools/bench_transfer.py [--labels 10 50 500] [--seeds 0 1 2] [--json out.json]
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

RECIPES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "recipes")
METHODS = ("scratch", "linear_probe", "linear_probe_cut2", "finetune", "lp_ft")


def target_recipe(method, labels, seed, pretrained_dir):
    """The target-task recipe of one cell of the table."""
    common = [f"seed={seed}", "train.verbose=0"]
    if method == "scratch":
        return load_recipe(os.path.join(RECIPES, "transfer_scratch.yaml"),
                           common + [f"data.labeled_per_class={labels}"])
    probe = method.startswith("linear_probe")
    recipe = "transfer_linear_probe.yaml" if probe else "transfer_finetune.yaml"
    staged = load_recipe(os.path.join(RECIPES, recipe),
                         [f"stages.1.data.labeled_per_class={labels}",
                          f"stages.1.model.source={pretrained_dir}",
                          f"stages.1.model.drop_blocks={2 if method.endswith('cut2') else 0}",
                          f"stages.1.train.transfer.mode={'linear_probe' if probe else method}",
                          "stages.1.train.transfer.probe_epochs=3", "stages.1.export.formats=[]",
                          f"stages.1.seed={seed}", "stages.1.train.verbose=0"])
    return staged.stage_recipes[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", nargs="*", type=int, default=[10, 50, 500])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--methods", nargs="*", default=list(METHODS))
    parser.add_argument("--runs", default="runs/bench_transfer")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    started = time.time()
    staged = load_recipe(os.path.join(RECIPES, "transfer_finetune.yaml"), ["stages.0.train.verbose=2"])
    pretrained_dir = os.path.abspath(os.path.join(args.runs, "pretrain"))
    pretrain = run_recipe(staged.stage_recipes[0], pretrained_dir)
    pretrain_minutes = (time.time() - started) / 60
    print(f"pretrained backbone: classes 0-4 test accuracy {pretrain['test_accuracy']:.4f}, "
          f"{pretrain['wall_seconds'] / 60:.1f} min", flush=True)
    keras.backend.clear_session()

    results = {}
    for labels in args.labels:
        for method in args.methods:
            for seed in args.seeds:
                recipe = target_recipe(method, labels, seed, pretrained_dir)
                start = time.time()
                summary = run_recipe(recipe, os.path.join(args.runs, f"{method}-{labels}-s{seed}"),
                                     restart=True)
                cell = results.setdefault(f"{labels}/{method}", {"accuracy": [], "minutes": []})
                cell["accuracy"].append(summary["test_accuracy"])
                cell["minutes"].append((time.time() - start) / 60)
                print(f"{labels} labels/class, {method}, seed {seed}: {summary['test_accuracy']:.4f}",
                      flush=True)
                keras.backend.clear_session()

    print(f"\nPretraining (classes 0-4, {pretrain['epochs']} epochs): test accuracy "
          f"{pretrain['test_accuracy']:.4f}, {pretrain_minutes:.1f} min.\n")
    print("| labels per class | " + " | ".join(args.methods) + " | minutes per run |")
    print("|---" * (len(args.methods) + 2) + "|")
    median = {}
    for labels in args.labels:
        cells, minutes = [], []
        for method in args.methods:
            acc = results[f"{labels}/{method}"]["accuracy"]
            median[labels, method] = statistics.median(acc)
            cells.append(f"{median[labels, method]:.4f} ({min(acc):.3f}-{max(acc):.3f})")
            minutes += results[f"{labels}/{method}"]["minutes"]
        print(f"| {labels} | " + " | ".join(cells) + f" | {statistics.median(minutes):.2f} |")
    print(f"\nmedian over seeds {args.seeds}, (min-max); total {(time.time() - started) / 60:.1f} min")
    if {(10, "scratch"), (10, "linear_probe"), (10, "finetune")} <= set(median):
        for method in ("linear_probe", "finetune"):
            gain = median[10, method] - median[10, "scratch"]
            print(f"10 labels/class: {method} beats scratch by {gain * 100:+.1f} points")
    if {(500, "finetune"), (500, "linear_probe")} <= set(median):
        gain = median[500, "finetune"] - median[500, "linear_probe"]
        print(f"500 labels/class: finetune beats linear_probe by {gain * 100:+.1f} points")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"pretrain_accuracy": pretrain["test_accuracy"], "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
