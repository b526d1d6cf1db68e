"""Benchmark: strategy and precision overheads of the same run, in one process.

Steps per second of recipes/quickstart.yaml (LeNet-5) and of a VGG-11 (width
0.5, BatchNorm) with the default strategy, one_device, and mirrored over two
logical CPU devices (on 2 cores there is nothing to gain: the point is the
overhead, target >= 0.9 of one device); and with float32, mixed_bfloat16
and mixed_float16 policies. Throughput is the median epoch after the first;
ratios are the median over repeats of the ratio within a repeat.

    python tools/bench_runtime.py [--steps 200] [--epochs 3] [--repeats 2] [--configs one_device mirrored]
"""

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

CPU = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(CPU, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kvision.recipes import load_recipe  # noqa: E402
from kvision.run import run_recipe  # noqa: E402

RECIPE = os.path.join(os.path.dirname(__file__), "..", "recipes", "quickstart.yaml")
MODELS = {"lenet5": [], "vgg11": ["model={name: vgg11, batch_norm: true, width: 0.5, head: gap, "
                                  "min_feature_size: 3}"]}


CONFIGS = [("default", "auto", "float32"), ("one_device", "one_device", "float32"),
           ("mirrored", "mirrored", "float32"),  # x2 logical CPU devices
           ("mixed_bfloat16", "auto", "mixed_bfloat16"), ("mixed_float16", "auto", "mixed_float16")]


def steps_per_second(model_overrides, steps, epochs, strategy="auto", precision="float32"):
    overrides = [f"train.epochs={epochs}", f"train.steps_per_epoch={steps}", "train.verbose=0",
                 f"runtime.strategy={strategy}", f"runtime.mixed_precision={precision}", *model_overrides]
    with tempfile.TemporaryDirectory() as out:
        summary = run_recipe(load_recipe(RECIPE, overrides), output=out)
    keras.backend.clear_session()
    return summary["images_per_second"] / 128.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200,
                        help="steps per epoch; each epoch also validates on 6,000 images, a larger "
                        "share of the epoch when it is short")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--model", choices=list(MODELS), default=None,
                        help="measure one model (each model runs in its own process: TensorFlow keeps "
                             "collective-op state across MirroredStrategy instances in one process)")
    parser.add_argument("--configs", nargs="*", default=None, choices=[c[0] for c in CONFIGS],
                        help="measure only these configurations (default: all)")
    args = parser.parse_args()
    configs = [c for c in CONFIGS if args.configs is None or c[0] in args.configs]
    if args.model is None:
        import subprocess
        import sys

        print("| model | configuration | steps/s | ratio to one_device / float32 (range) |\n|---|---|---|---|",
              flush=True)
        for model in MODELS:
            subprocess.run([sys.executable, __file__, "--model", model, "--steps", str(args.steps),
                            "--epochs", str(args.epochs), "--repeats", str(args.repeats),
                            "--configs", *[c[0] for c in configs]], check=True)
        return
    for model, model_overrides in [(args.model, MODELS[args.model])]:
        rates = {label: [] for label, _, _ in configs}
        for _ in range(args.repeats):
            for label, strategy, precision in configs:
                rates[label].append(steps_per_second(model_overrides, args.steps, args.epochs, strategy,
                                                     precision))
        median = {k: float(np.median(v)) for k, v in rates.items()}
        for label, _, precision in configs:
            base = "one_device" if label.startswith(("mirrored", "one_device")) else "default"
            if base not in rates:
                print(f"| {model} | {label} | {median[label]:.1f} | |", flush=True)
                continue
            # the median of the ratios within each repeat: runs next to each other share the noise
            ratios = [a / b for a, b in zip(rates[label], rates[base])]
            print(f"| {model} | {label} | {median[label]:.1f} | {float(np.median(ratios)):.2f} "
                  f"({min(ratios):.2f}-{max(ratios):.2f}) |", flush=True)

if __name__ == "__main__":
    main()
