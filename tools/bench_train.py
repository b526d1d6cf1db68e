"""Benchmark: kvision's training loop against plain Keras, and RandAugment costs.

In one process, on Fashion-MNIST (offline), LeNet-5, batch 128:

1. images/s of `kvision run` (recipes/quickstart.yaml) against a hand-written
   tf.data + model.fit script of the same model, data and augmentation;
2. the same kvision run with and without `randaugment-n2-m9` added;
3. RandAugment alone in a batched tf.data map: kvision's against
   `keras.layers.RandAugment`, on the same batches.

Throughput is the median over epochs after the first, and each pair is run
alternately `--repeats` times; ratios are of medians.

    python tools/bench_train.py [--epochs 3] [--repeats 2] [--json out.json]
"""

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kvision.augment import RandAugment  # noqa: E402
from kvision.data.sources.fashion_mnist import fashion_mnist  # noqa: E402
from kvision.data.splits import stratified_holdout  # noqa: E402
from kvision.recipes import load_recipe  # noqa: E402
from kvision.run import run_recipe  # noqa: E402
from kvision.training.callbacks import Throughput  # noqa: E402

RECIPE = os.path.join(os.path.dirname(__file__), "..", "recipes", "quickstart.yaml")
BATCH = 128


def vgg_style(input_shape, num_classes):
    """A 585k-parameter VGG-style CNN (3x3 convs, 2x2 pools): compute-bound like real models."""
    from kvision.models import image_classifier

    inputs = keras.Input(input_shape)
    x = inputs
    for filters in (32, 64, 128):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(256, activation="relu")(x)
    return image_classifier(keras.Model(inputs, x), num_classes, name="vgg_style")


def kvision_rate(epochs, extra_augment=(), overrides=()):
    overrides = [f"train.epochs={epochs}", "train.verbose=0", *overrides]  # quickstart: LeNet-5
    recipe = load_recipe(RECIPE, overrides)
    if extra_augment:
        from kvision.recipes.schema import AugmentSpec
        from kvision.augment.policy import parse_policy

        recipe.augment += [AugmentSpec(*parse_policy(p)) for p in extra_augment]
    with tempfile.TemporaryDirectory() as out:
        summary = run_recipe(recipe, output=out)
    keras.backend.clear_session()
    return summary["images_per_second"]


def hand_written_rate(epochs):
    """The plain-Keras script a user would write for the quickstart run."""
    data = fashion_mnist(download=False)
    keep, held = stratified_holdout(data.train.labels, 0.1, seed=0)
    x, y = data.train.images[keep], data.train.labels[keep]
    xv, yv = data.train.images[held], data.train.labels[held]
    keras.utils.set_random_seed(0)
    flip = keras.layers.RandomFlip("horizontal", seed=0)
    shift = keras.layers.RandomTranslation(2 / 28, 2 / 28, fill_mode="constant", interpolation="nearest",
                                           seed=1)

    def augment(images, labels):
        return tf.clip_by_value(shift(flip(images, training=True), training=True), 0.0, 255.0), labels

    train = (tf.data.Dataset.from_tensor_slices((x, y))
             .map(lambda a, b: (tf.cast(a, tf.float32), b), num_parallel_calls=tf.data.AUTOTUNE)
             .cache().shuffle(10000, seed=0).batch(BATCH)
             .map(lambda a, b: (a, tf.one_hot(b, 10)), num_parallel_calls=tf.data.AUTOTUNE)
             .map(augment, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))
    val = (tf.data.Dataset.from_tensor_slices((xv.astype("float32"), tf.one_hot(yv, 10)))
           .cache().batch(512).prefetch(tf.data.AUTOTUNE))
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(6, 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(16, 5, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(120, activation="relu"),
        keras.layers.Dense(84, activation="relu"),
        keras.layers.Dense(10),
    ])
    steps = int(np.ceil(len(x) / BATCH))
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
        0.0, steps * (epochs - 1), warmup_target=0.003, warmup_steps=steps)),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    throughput = Throughput(steps * BATCH)
    model.fit(train, epochs=epochs, validation_data=val, callbacks=[throughput], verbose=0)
    keras.backend.clear_session()
    return throughput.images_per_second


def randaugment_rates(repeats=5, parallel=True):
    """Images/s of the two RandAugments in the same batched tf.data map."""
    images = fashion_mnist(download=False).train.images[:12800].astype("float32")
    ours = RandAugment(num_ops=2, magnitude=9, channels=1, seed=0)
    theirs = keras.layers.RandAugment(value_range=(0, 255), num_ops=2, seed=0)

    def ours_fn(batch):
        return ours(batch)

    def keras_fn(batch):
        return theirs(batch, training=True)

    def rate(fn):
        ds = (tf.data.Dataset.from_tensor_slices(images).batch(BATCH)
              .map(fn, num_parallel_calls=tf.data.AUTOTUNE if parallel else None)
              .prefetch(tf.data.AUTOTUNE))
        for _ in ds.take(5):
            pass
        start = time.perf_counter()
        count = sum(int(b.shape[0]) for b in ds)
        return count / (time.perf_counter() - start)

    ours_rates, keras_rates = [], []
    for _ in range(repeats):
        ours_rates.append(rate(ours_fn))
        keras_rates.append(rate(keras_fn))
    return float(np.median(ours_rates)), float(np.median(keras_rates))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", default=None)
    parser.add_argument("--skip-vgg", action="store_true")
    args = parser.parse_args()
    from kvision.registry import MODELS

    MODELS.register("bench_vgg_style")(vgg_style)

    ours_ra, keras_ra = randaugment_rates()
    ours_seq, keras_seq = randaugment_rates(parallel=False)
    print(f"RandAugment alone, parallel map: kvision {ours_ra:,.0f} img/s, keras {keras_ra:,.0f} img/s; "
          f"sequential map: {ours_seq:,.0f} vs {keras_seq:,.0f}", flush=True)
    rates = {"kvision": [], "hand_written": [], "kvision_randaugment": []}
    for r in range(args.repeats):
        rates["kvision"].append(kvision_rate(args.epochs))
        rates["hand_written"].append(hand_written_rate(args.epochs))
        rates["kvision_randaugment"].append(kvision_rate(args.epochs, ["randaugment-n2-m9"]))
        print(f"repeat {r + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}" for k, v in rates.items()), flush=True)
    if not args.skip_vgg:  # RandAugment's share of the CPU on a compute-bound model
        rates.update(vgg=[], vgg_randaugment=[])
        vgg = ["model={name: bench_vgg_style}",
               "train.steps_per_epoch=60"]
        for r in range(args.repeats):
            rates["vgg"].append(kvision_rate(args.epochs, overrides=vgg))
            rates["vgg_randaugment"].append(kvision_rate(args.epochs, ["randaugment-n2-m9"], vgg))
            print(f"vgg repeat {r + 1}: {rates['vgg'][-1]:,.0f} vs {rates['vgg_randaugment'][-1]:,.0f}",
                  flush=True)
    med = {k: float(np.median(v)) for k, v in rates.items()}
    results = {
        "images_per_second": med,
        "vgg_randaugment_over_plain": (med["vgg_randaugment"] / med["vgg"]) if "vgg" in med else None,
        "kvision_over_hand_written": med["kvision"] / med["hand_written"],
        "randaugment_over_plain": med["kvision_randaugment"] / med["kvision"],
        "randaugment_alone": {"parallel_map": {"kvision": ours_ra, "keras": keras_ra,
                                               "ratio": ours_ra / keras_ra},
                              "sequential_map": {"kvision": ours_seq, "keras": keras_seq,
                                                 "ratio": ours_seq / keras_seq}},
        "epochs": args.epochs, "repeats": args.repeats, "cpus": os.cpu_count(),
        "tensorflow": tf.__version__, "keras": keras.__version__,
    }
    print(f"\n| measure | value | target |\n|---|---|---|\n"
          f"| kvision run, img/s | {med['kvision']:,.0f} | |\n"
          f"| hand-written tf.data + fit, img/s | {med['hand_written']:,.0f} | |\n"
          f"| kvision / hand-written | {results['kvision_over_hand_written']:.3f} | >= 0.97 |\n"
          f"| kvision + randaugment-n2-m9, img/s | {med['kvision_randaugment']:,.0f} | |\n"
          f"| with / without RandAugment (LeNet-5) | {results['randaugment_over_plain']:.3f} | >= 0.90 |\n"
          + (f"| VGG-style 585k: plain / with RandAugment, img/s | {med['vgg']:,.0f} / "
             f"{med['vgg_randaugment']:,.0f} | |\n"
             f"| with / without RandAugment (VGG-style) | {results['vgg_randaugment_over_plain']:.3f} "
             "| >= 0.90 |\n" if "vgg" in med else "") +
          f"| RandAugment alone (parallel map), kvision / keras | {ours_ra:,.0f} / {keras_ra:,.0f} = "
          f"{ours_ra / keras_ra:.2f}x | >= 4x |\n"
          f"| RandAugment alone (sequential map), kvision / keras | {ours_seq:,.0f} / {keras_seq:,.0f} = "
          f"{ours_seq / keras_seq:.2f}x | >= 4x |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
