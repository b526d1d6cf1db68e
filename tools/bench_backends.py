"""Benchmark: training speed of the `classify` learner per Keras backend.

Images per second of `kvision run` on Fashion-MNIST (offline), batch 128,
flip + pad-crop augmentation in tf.data, for LeNet-5 (recipes/quickstart.yaml)
and a small VGG (VGG-11 x0.25 with BatchNorm and a GAP head), on the
TensorFlow, JAX and PyTorch backends, with `train.jit_compile` off and on
(TensorFlow: XLA; JAX: jax.jit is always on, jit_compile off runs eagerly
per op; torch: torch.compile). Each configuration runs in its own process,
because Keras picks its backend once per process; throughput is the median
over epochs after the first (which traces and compiles). Ratios are to
TensorFlow without jit_compile, measured in the same run.

    python tools/bench_backends.py [--epochs 4] [--steps 60] [--json out.json]
"""

import argparse
import json
import os

from run_child import run_child

BACKENDS = ("tensorflow", "jax", "torch")
MODELS = {
    "lenet5": {"name": "lenet5", "activation": "relu", "pooling": "max"},
    "vgg11_x0.25": {"name": "vgg11", "batch_norm": True, "width": 0.25, "head": "gap"},
}
RECIPE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "recipes", "quickstart.yaml")


def child(model, jit, epochs, steps):
    """Runs one configuration in this process; prints its images/s as the last line."""
    import tempfile

    import yaml

    from kvision.recipes import load_recipe
    from kvision.run import run_recipe

    with open(RECIPE) as f:
        recipe = yaml.safe_load(f)
    recipe["model"] = MODELS[model]
    overrides = [f"train.epochs={epochs}", f"train.steps_per_epoch={steps}",
                 f"train.jit_compile={str(jit).lower()}", "train.verbose=0", "data.validation_split=0.01"]
    with tempfile.TemporaryDirectory() as out:
        path = os.path.join(out, f"{model}.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(recipe, f)
        summary = run_recipe(load_recipe(path, overrides), output=os.path.join(out, "run"))
    print(json.dumps({"images_per_second": summary["images_per_second"]}))


def measure(backend, model, jit, epochs, steps):
    return run_child(__file__, ["--child", model, str(int(jit)), "--epochs", str(epochs), "--steps", str(steps)],
                     backend, timeout=1800)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--backends", nargs="*", default=list(BACKENDS))
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--json", default=None)
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "JIT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], bool(int(args.child[1])), args.epochs, args.steps)
        return
    results = []
    for model in args.models:
        for backend in args.backends:
            for jit in (False, True):
                row = {"model": model, "backend": backend, "jit_compile": jit,
                       **measure(backend, model, jit, args.epochs, args.steps)}
                results.append(row)
                print(json.dumps(row), flush=True)
    print("\n| model | backend | jit_compile | images/s | ratio to tensorflow | process seconds |\n"
          "|---|---|---|---|---|---|")
    for row in results:
        base = next((r.get("images_per_second") for r in results if r["model"] == row["model"]
                     and r["backend"] == "tensorflow" and not r["jit_compile"]), None)
        if "error" in row:
            rate, ratio = f"failed: {row['error']}", ""
        else:
            rate = f"{row['images_per_second']:.0f}"
            ratio = f"{row['images_per_second'] / base:.2f}" if base else ""
        print(f"| {row['model']} | {row['backend']} | {'on' if row['jit_compile'] else 'off'} | {rate} | "
              f"{ratio} | {row['seconds']:.0f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
