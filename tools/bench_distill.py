"""Benchmark: knowledge distillation side by side with keras.distillation.

Same data (20,000 Fashion-MNIST training images, 2,000 per class, flip
augmentation), teacher (a 580k-parameter VGG, trained once and reused), student
(LeNet-5, 61k parameters, the same initial weights for every method), optimizer
and epochs; in one process, one after another:

    scratch         the student alone, cross-entropy on labels
    keras_default   keras.distillation.Distiller with LogitsDistillation(T) as shipped
    keras_kl        the same with loss=keras.losses.KLDivergence() (the textbook term)
    kvision_online  kvision.Distiller, teacher on the student's batch
    kvision_cached  kvision.Distiller, teacher logits computed once (timed apart)

Reports test accuracy (10,000 test images) and the median seconds per epoch
(the first epoch, which traces the step, left out), and checks the targets:
cached epoch <= 1.25x a student-only epoch; online epoch <= 1.05x the Keras
Distiller's; distilled students beat scratch; online accuracy >= the Keras
Distiller's.

    python tools/bench_distill.py [--epochs 10] [--json out.json]
"""

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kvision.data import make_dataset, prepare_data  # noqa: E402
from kvision.distill import Distiller  # noqa: E402
from kvision.distill.cache import teacher_logits_for  # noqa: E402
from kvision.models import build_model  # noqa: E402
from kvision.recipes import recipe_from_mapping  # noqa: E402
from kvision.run import run_recipe  # noqa: E402

TEMPERATURE, ALPHA, BATCH = 4.0, 0.1, 128
DATA = {"source": "fashion_mnist", "labeled_per_class": 2000, "validation_split": 0.0,
        "batch_size": BATCH}


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def train_teacher(runs, epochs):
    recipe = recipe_from_mapping({
        "name": "teacher", "data": DATA, "augment": ["flip"],
        "model": {"name": "vgg11", "batch_norm": True, "width": 0.25, "head": "gap", "bn_momentum": 0.9},
        "train": {"epochs": epochs, "optimizer": {"name": "adam", "learning_rate": 0.003},
                  "schedule": {"name": "cosine", "warmup_epochs": 1}, "verbose": 2}})
    folder = os.path.join(runs, "teacher")
    summary = run_recipe(recipe, folder)
    return keras.saving.load_model(os.path.join(folder, "model.keras")), summary


def student(initial_weights=None):
    model = build_model("lenet5", (28, 28, 1), 10, activation="relu", pooling="max")
    if initial_weights is not None:
        model.set_weights(initial_weights)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--teacher-epochs", type=int, default=15)
    parser.add_argument("--runs", default="runs/bench_distill")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    teacher, teacher_summary = train_teacher(args.runs, args.teacher_epochs)
    print(f"teacher: test accuracy {teacher_summary['test_accuracy']:.4f}, "
          f"{teacher_summary['parameters']:,} parameters", flush=True)
    recipe = recipe_from_mapping({"data": DATA, "augment": ["flip"]})
    data = prepare_data(recipe.data, recipe.seed)
    from kvision.augment import build_augmenter

    augment = build_augmenter(recipe.augment, data.image_shape, 0)
    common = dict(image_shape=data.image_shape, num_classes=10, batch_size=BATCH, training=True,
                  augment=augment, seed=0)
    plain = make_dataset(data.train, **common)
    test = make_dataset(data.test, data.image_shape, 10, 512)

    keras.utils.set_random_seed(0)
    initial = student().get_weights()
    ce = keras.losses.CategoricalCrossentropy(from_logits=True)
    results = {}

    def fit(name, model, dataset, artefact, extra_seconds=0.0):
        timer = EpochTimer()
        model.fit(dataset, epochs=args.epochs, verbose=2, callbacks=[timer])
        artefact.compile(metrics=["accuracy"], loss=ce)
        accuracy = artefact.evaluate(test, verbose=0, return_dict=True)["accuracy"]
        results[name] = {"test_accuracy": accuracy, "epoch_seconds": timer.seconds,
                         "median_epoch_seconds": statistics.median(timer.seconds[1:] or timer.seconds),
                         "one_off_seconds": extra_seconds}
        print(f"{name}: accuracy {accuracy:.4f}, median epoch {results[name]['median_epoch_seconds']:.2f} s",
              flush=True)

    def optimizer():
        return keras.optimizers.Adam(0.002)

    model = student(initial)
    model.compile(optimizer=optimizer(), loss=ce, metrics=["accuracy"])
    fit("scratch", model, plain, model)

    from keras.distillation import Distiller as KerasDistiller, LogitsDistillation

    for name, loss in (("keras_default", None), ("keras_kl", keras.losses.KLDivergence())):
        s = student(initial)
        term = LogitsDistillation(temperature=TEMPERATURE) if loss is None else \
            LogitsDistillation(temperature=TEMPERATURE, loss=loss)
        distiller = KerasDistiller(teacher=teacher, student=s, distillation_losses=term,
                                   student_loss_weight=ALPHA)
        distiller.compile(optimizer=optimizer(), loss=ce, metrics=["accuracy"])
        fit(name, distiller, plain, s)

    s = student(initial)
    distiller = Distiller(s, teacher, temperature=TEMPERATURE, alpha=ALPHA, teacher_mode="online")
    distiller.compile(optimizer=optimizer(), metrics=["accuracy"])
    fit("kvision_online", distiller, plain, s)

    start = time.perf_counter()
    cached_logits = teacher_logits_for(Distiller(student(), teacher), data.train, data.image_shape, 10,
                                       args.runs)
    one_off = time.perf_counter() - start
    cached = make_dataset(data.train, extras={"teacher_logits": cached_logits}, **common)
    s = student(initial)
    distiller = Distiller(s, teacher=None, temperature=TEMPERATURE, alpha=ALPHA, teacher_mode="cached")
    distiller.compile(optimizer=optimizer(), metrics=["accuracy"])
    fit("kvision_cached", distiller, cached, s, one_off)

    base = results["scratch"]["median_epoch_seconds"]
    keras_epoch = results["keras_kl"]["median_epoch_seconds"]
    print(f"\n{len(data.train):,} training images, {args.epochs} epochs, teacher "
          f"{teacher_summary['parameters']:,} parameters (test accuracy "
          f"{teacher_summary['test_accuracy']:.4f}), student LeNet-5 {student().count_params():,}\n")
    print("| method | test accuracy | s / epoch | x student-only epoch |\n|---|---|---|---|")
    for name, r in results.items():
        extra = f" (+{r['one_off_seconds']:.1f} s once)" if r["one_off_seconds"] else ""
        print(f"| {name} | {r['test_accuracy']:.4f} | {r['median_epoch_seconds']:.2f}{extra} | "
              f"{r['median_epoch_seconds'] / base:.2f} |")
    acc = {n: r["test_accuracy"] for n, r in results.items()}
    print(f"\ncached epoch / student-only epoch: {results['kvision_cached']['median_epoch_seconds'] / base:.2f}"
          " (target <= 1.25)")
    for name in ("keras_default", "keras_kl"):
        ratio = results["kvision_online"]["median_epoch_seconds"] / results[name]["median_epoch_seconds"]
        print(f"online epoch / {name} epoch: {ratio:.2f} (target <= 1.05)")
    print(f"keras Distiller epoch / student-only epoch: {keras_epoch / base:.2f}")
    for name in ("keras_kl", "kvision_online", "kvision_cached"):
        print(f"{name} beats scratch: {acc[name] > acc['scratch']} ({(acc[name] - acc['scratch']) * 100:+.2f})")
    print(f"online >= keras Distiller (default / KL): {acc['kvision_online'] >= acc['keras_default']} / "
          f"{acc['kvision_online'] >= acc['keras_kl']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"teacher": teacher_summary["test_accuracy"], "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
