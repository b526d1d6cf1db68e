"""Benchmark: training images/s of one model under each precision, with and without jit.

The GPU figure of issue 4: `vgg16` at 224x224x3 (10 classes, SGD with
momentum, the `classify` learner's loss and metric), in float32,
mixed_float16 and mixed_bfloat16, each with `jit_compile` on and off, on
every Keras backend asked for. Each configuration runs in its own process
(the dtype policy and the backend are per process).

What is timed is the training step alone: one fixed batch already on the
device goes through `train_on_batch`, so neither the input pipeline nor the
host-to-device copy enters the figure (the equivalent of TF Model Garden's
synthetic-data throughput runs). Every step returns its loss to the host, so
the device is synchronised at each step. After `--warmup` steps (tracing and
compilation), the steps are timed in `--chunks` chunks; the figure is the
median chunk's images/s. Ratios are to the same backend's float32 with the
same jit setting, measured in the same run.

It needs no TensorFlow: the models and the learner are TensorFlow-free, so it
runs on JAX or PyTorch alone. On the lent NVIDIA H200 (no TensorFlow and no
Keras installed there, no network), carry Keras as wheels; here, in the repo:

    echo /.whl/ >> .git/info/exclude
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d .whl keras==3.15.1 namex==0.1.0 optree==0.16.0

and on the device (carry: [".whl"]):

    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl \
      && PYTHONPATH=/tmp/site:. python3 tools/bench_precision.py --backends jax --json $OUT/p.json

(2.8 MB of wheels; checked here with TensorFlow made unimportable.) Size each
device call to its 10 minutes: six configurations of one backend, each a new
process that imports, compiles and times 33 steps; torch.compile adds a
minute or more of compilation per configuration (70 s for a tiny VGG here).

On a CPU, for a smoke run:

    python tools/bench_precision.py --model vgg11 --options '{"width": 0.125}' --size 32 --batch 8 \
        --steps 2 --chunks 2 --warmup 1 --backends tensorflow
"""

import argparse
import json
import statistics
import time

from run_child import run_child

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def device_name(backend):
    """The accelerator the backend computes on, in words."""
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return f"{device.platform}: {device.device_kind}"
    if backend == "torch":
        import torch

        return f"cuda: {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "cpu"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return "gpu: " + tf.config.experimental.get_device_details(gpus[0]).get("device_name", "?")
    return "cpu"


def child(args, precision, jit):
    """Measures one configuration in this process; prints a JSON line last."""
    import keras
    import numpy as np

    from kvision.learners.classify import classify
    from kvision.models import build_model
    from kvision.recipes.schema import OptimizerConfig, TrainConfig
    from kvision.training.optimizers import build_optimizer

    keras.utils.set_random_seed(0)
    keras.config.set_dtype_policy(precision)
    shape = (args.size, args.size, 3)
    model = build_model(args.model, shape, args.classes, **json.loads(args.options))
    config = TrainConfig(optimizer=OptimizerConfig(name="sgd", learning_rate=0.01, momentum=0.9),
                         jit_compile=jit)
    learner = classify(model, build_optimizer(config.optimizer, 0.01), config)
    rng = np.random.default_rng(0)
    images = keras.ops.convert_to_tensor(
        rng.integers(0, 256, (args.batch, *shape)).astype("float32"))
    labels = keras.ops.convert_to_tensor(
        np.eye(args.classes, dtype="float32")[rng.integers(0, args.classes, args.batch)])
    start = time.perf_counter()
    for _ in range(args.warmup):
        learner.train_on_batch(images, labels)
    warmup_seconds = time.perf_counter() - start
    rates = []
    for _ in range(args.chunks):
        start = time.perf_counter()
        for _ in range(args.steps):
            logs = learner.train_on_batch(images, labels, return_dict=True)
        rates.append(args.batch * args.steps / (time.perf_counter() - start))
    print(json.dumps({"images_per_second": statistics.median(rates), "chunks": rates,
                      "warmup_seconds": warmup_seconds, "loss": float(logs["loss"]),
                      "device": device_name(keras.backend.backend()),
                      "parameters": model.count_params()}))


def measure(args, backend, precision, jit):
    """Runs one configuration in a fresh process; returns its result dict (or the error)."""
    return run_child(__file__, ["--child", precision, str(int(jit)), "--model", args.model,
                                "--options", args.options, "--size", str(args.size), "--batch", str(args.batch),
                                "--classes", str(args.classes), "--steps", str(args.steps),
                                "--chunks", str(args.chunks), "--warmup", str(args.warmup)],
                     backend, args.timeout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="vgg16")
    parser.add_argument("--options", default="{}", help="the model builder's keywords, as JSON")
    parser.add_argument("--size", type=int, default=224, help="image height and width")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed chunk")
    parser.add_argument("--chunks", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--backends", nargs="+", default=["tensorflow"],
                        choices=("tensorflow", "jax", "torch"))
    parser.add_argument("--precisions", nargs="+", default=list(PRECISIONS), choices=PRECISIONS)
    parser.add_argument("--jit", nargs="+", default=["on", "off"], choices=("on", "off"))
    parser.add_argument("--timeout", type=int, default=240, help="seconds per configuration")
    parser.add_argument("--json", help="also write every result here")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args, args.child[0], args.child[1] == "1")
        return
    print(f"{args.model} {json.loads(args.options) or ''} at {args.size}x{args.size}x3, batch {args.batch}, "
          f"median of {args.chunks} chunks of {args.steps} steps\n")
    print("| backend | jit_compile | precision | images/s | ratio to float32 | warm-up s | device |\n"
          "|---|---|---|---|---|---|---|", flush=True)
    results = []
    for backend in args.backends:
        for jit in args.jit:
            base = None
            for precision in args.precisions:
                result = measure(args, backend, precision, jit == "on")
                results.append({"backend": backend, "jit_compile": jit, "precision": precision, **result})
                if "error" in result:
                    print(f"| {backend} | {jit} | {precision} | failed: {result['error']} | | | |",
                          flush=True)
                    continue
                rate = result["images_per_second"]
                base = rate if precision == "float32" else base
                ratio = f"{rate / base:.2f}" if base else ""
                print(f"| {backend} | {jit} | {precision} | {rate:,.1f} | {ratio} | "
                      f"{result['warmup_seconds']:.1f} | {result['device']} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": vars(args), "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
