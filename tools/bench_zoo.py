"""Benchmark: every zoo recipe trained on the full Fashion-MNIST (60k/10k).

Runs recipes/{mlp,lenet5,alexnet,vgg,knn}_fashion.yaml one after another in
one process and prints a table of test accuracy, parameters, epochs and
minutes, then checks the claims the zoo is meant to show (every CNN beats
the MLP; the MLP and the CNNs beat k-NN on pixels).

    python tools/bench_zoo.py [--only vgg_fashion ...] [--json out.json] [--runs DIR]
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from kvision.recipes import load_recipe  # noqa: E402
from kvision.run import run_recipe  # noqa: E402

RECIPES = ["mlp_fashion", "lenet5_fashion", "alexnet_fashion", "vgg_fashion", "knn_fashion"]
CNNS = ["lenet5_fashion", "alexnet_fashion", "vgg_fashion"]
TARGETS = {"mlp_fashion": "about 0.89", "lenet5_fashion": ">= 0.90", "vgg_fashion": ">= 0.935",
           "knn_fashion": "about 0.85", "alexnet_fashion": "beats the MLP"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", default=RECIPES)
    parser.add_argument("--json", default=None)
    parser.add_argument("--runs", default="runs/bench_zoo")
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args()
    recipes_dir = os.path.join(os.path.dirname(__file__), "..", "recipes")
    results = {}
    for name in args.only:
        recipe = load_recipe(os.path.join(recipes_dir, f"{name}.yaml"), [f"train.verbose={args.verbose}"])
        start = time.time()
        summary = run_recipe(recipe, output=os.path.join(args.runs, name))
        results[name] = {"test_accuracy": summary["test_accuracy"], "parameters": summary["parameters"],
                         "epochs": summary["epochs"], "minutes": (time.time() - start) / 60,
                         "images_per_second": summary["images_per_second"]}
        print(f"{name}: {results[name]}", flush=True)
        keras.backend.clear_session()
    print("\n| recipe | test accuracy | target | parameters | epochs | minutes |\n|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| `{name}` | {r['test_accuracy']:.4f} | {TARGETS.get(name, '')} | {r['parameters']:,} | "
              f"{r['epochs']} | {r['minutes']:.1f} |")
    acc = {n: r["test_accuracy"] for n, r in results.items()}
    if {"mlp_fashion", "knn_fashion"} <= set(acc):
        for cnn in (c for c in CNNS if c in acc):
            print(f"{cnn} beats the MLP: {acc[cnn] > acc['mlp_fashion']}; beats k-NN: "
                  f"{acc[cnn] > acc['knn_fashion']}")
        print(f"MLP beats k-NN: {acc['mlp_fashion'] > acc['knn_fashion']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
