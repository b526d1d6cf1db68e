"""Benchmark: knowledge distillation side by side with keras.distillation.

Same data (20,000 Fashion-MNIST training images, 2,000 per class, flip
augmentation), teacher (VGG-11 at width 0.25, 580k parameters, trained once
for 30 epochs and reused), student (VGG-11 at width 0.125, 146k parameters,
the same initial weights for every method per seed), optimizer (Adam, cosine
decay) and epochs, three seeds; in one process, the methods' epochs
interleaved so that machine noise hits them alike:

    scratch         the student alone, cross-entropy on labels
    keras_default   keras.distillation.Distiller with LogitsDistillation(T) as shipped
    keras_kl        the same with loss=keras.losses.KLDivergence() (the textbook term)
    kvision_online  kvision.Distiller, teacher on the student's batch
    kvision_cached  kvision.Distiller, teacher logits computed once (timed apart)

Reports test accuracy (10,000 test images; median over seeds) and the median
seconds per epoch (the first epoch, which traces the step, left out; ratios
are medians of per-epoch ratios), and checks the targets:
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

from kvision.data import make_dataset, prepare_data  # noqa: E402
from kvision.distill import Distiller  # noqa: E402
from kvision.distill.cache import teacher_logits_for  # noqa: E402
from kvision.models import build_model  # noqa: E402
from kvision.recipes import recipe_from_mapping  # noqa: E402
from kvision.run import run_recipe  # noqa: E402

TEMPERATURE, ALPHA, BATCH = 4.0, 0.1, 128
DATA = {"source": "fashion_mnist", "labeled_per_class": 2000, "validation_split": 0.0,
        "batch_size": BATCH}


def train_teacher(runs, epochs):
    recipe = recipe_from_mapping({
        "name": "teacher", "data": DATA, "augment": ["flip", "pad_crop-p2"],
        "model": {"name": "vgg11", "batch_norm": True, "width": 0.25, "head": "gap", "bn_momentum": 0.9},
        "train": {"epochs": epochs, "optimizer": {"name": "adam", "learning_rate": 0.003},
                  "schedule": {"name": "cosine", "warmup_epochs": 1}, "verbose": 2}})
    folder = os.path.join(runs, "teacher")
    summary = run_recipe(recipe, folder)
    return keras.saving.load_model(os.path.join(folder, "model.keras")), summary


def student(initial_weights=None):
    model = build_model("vgg11", (28, 28, 1), 10, batch_norm=True, width=0.125, head="gap",
                        bn_momentum=0.9)
    if initial_weights is not None:
        model.set_weights(initial_weights)
    return model


def learners(teacher, initial, cached_logits, steps):
    """The five methods' trainable models, each with the same student initial weights.

    Returns:
        {method: (model to fit, student, dataset key)}.
    """
    from keras.distillation import Distiller as KerasDistiller, LogitsDistillation

    ce = keras.losses.CategoricalCrossentropy(from_logits=True)

    def optimizer():
        return keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.002, steps))

    out = {}
    s = student(initial)
    s.compile(optimizer=optimizer(), loss=ce, metrics=["accuracy"])
    out["scratch"] = (s, s, "plain")
    for name, term in (("keras_default", LogitsDistillation(temperature=TEMPERATURE)),
                       ("keras_kl", LogitsDistillation(temperature=TEMPERATURE,
                                                       loss=keras.losses.KLDivergence()))):
        s = student(initial)
        distiller = KerasDistiller(teacher=teacher, student=s, distillation_losses=term,
                                   student_loss_weight=ALPHA)
        distiller.compile(optimizer=optimizer(), loss=ce, metrics=["accuracy"])
        out[name] = (distiller, s, "plain")
    s = student(initial)
    distiller = Distiller(s, teacher, temperature=TEMPERATURE, alpha=ALPHA, teacher_mode="online")
    distiller.compile(optimizer=optimizer(), metrics=["accuracy"])
    out["kvision_online"] = (distiller, s, "plain")
    s = student(initial)
    distiller = Distiller(s, None, temperature=TEMPERATURE, alpha=ALPHA, teacher_mode="cached")
    distiller.compile(optimizer=optimizer(), metrics=["accuracy"])
    out["kvision_cached"] = (distiller, s, "cached")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--teacher-epochs", type=int, default=30)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--runs", default="runs/bench_distill")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    started = time.time()
    teacher, teacher_summary = train_teacher(args.runs, args.teacher_epochs)
    print(f"teacher: test accuracy {teacher_summary['test_accuracy']:.4f}, "
          f"{teacher_summary['parameters']:,} parameters", flush=True)
    recipe = recipe_from_mapping({"data": DATA, "augment": ["flip"]})
    data = prepare_data(recipe.data, recipe.seed)
    from kvision.augment import build_augmenter

    augment = build_augmenter(recipe.augment, data.image_shape, 0)
    common = dict(image_shape=data.image_shape, num_classes=10, batch_size=BATCH, training=True,
                  augment=augment, seed=0)
    start = time.perf_counter()
    cached_logits = teacher_logits_for(Distiller(student(), teacher), data.train, data.image_shape, 10,
                                       args.runs)
    one_off = time.perf_counter() - start
    datasets = {"plain": make_dataset(data.train, **common),
                "cached": make_dataset(data.train, extras={"teacher_logits": cached_logits}, **common)}
    test = make_dataset(data.test, data.image_shape, 10, 512)
    steps = args.epochs * -(-len(data.train) // BATCH)

    accuracy, seconds = {}, {}
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        initial = student().get_weights()
        methods = learners(teacher, initial, cached_logits, steps)
        # Epochs interleaved across methods, so that machine noise hits them alike.
        for epoch in range(args.epochs):
            for name, (model, _, key) in methods.items():
                start = time.perf_counter()
                model.fit(datasets[key], initial_epoch=epoch, epochs=epoch + 1, verbose=0)
                if epoch:  # the first epoch traces the step
                    seconds.setdefault(name, []).append(time.perf_counter() - start)
        for name, (_, s, _) in methods.items():
            predicted = s.predict(test, verbose=0).argmax(-1)
            accuracy.setdefault(name, []).append(float((predicted == data.test.labels).mean()))
        print(f"seed {seed}: " + ", ".join(f"{n} {a[-1]:.4f}" for n, a in accuracy.items()), flush=True)
        keras.backend.clear_session()

    def ratio(a, b):
        return statistics.median(x / y for x, y in zip(seconds[a], seconds[b]))

    med = {n: statistics.median(a) for n, a in accuracy.items()}
    print(f"\n{len(data.train):,} training images, {args.epochs} epochs, seeds {args.seeds}; teacher "
          f"VGG-11 x0.25 {teacher_summary['parameters']:,} parameters (test accuracy "
          f"{teacher_summary['test_accuracy']:.4f}), student VGG-11 x0.125 {student().count_params():,} "
          f"parameters; total {(time.time() - started) / 60:.1f} min\n")
    print("| method | test accuracy, median (min-max) | s / epoch | x student-only epoch |\n"
          "|---|---|---|---|")
    for name in accuracy:
        extra = f" (+{one_off:.1f} s once)" if name == "kvision_cached" else ""
        print(f"| {name} | {med[name]:.4f} ({min(accuracy[name]):.4f}-{max(accuracy[name]):.4f}) | "
              f"{statistics.median(seconds[name]):.2f}{extra} | {ratio(name, 'scratch'):.2f} |")
    print(f"\ncached epoch / student-only epoch: {ratio('kvision_cached', 'scratch'):.2f} (target <= 1.25)")
    for name in ("keras_default", "keras_kl"):
        print(f"online epoch / {name} epoch: {ratio('kvision_online', name):.2f} (target <= 1.05)")
    for name in ("keras_default", "keras_kl", "kvision_online", "kvision_cached"):
        print(f"{name} beats scratch: {med[name] > med['scratch']} ({(med[name] - med['scratch']) * 100:+.2f})")
    print(f"online >= keras Distiller (default / KL): {med['kvision_online'] >= med['keras_default']} / "
          f"{med['kvision_online'] >= med['keras_kl']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"teacher": teacher_summary["test_accuracy"], "accuracy": accuracy,
                       "seconds": seconds, "one_off_seconds": one_off}, f, indent=2)


if __name__ == "__main__":
    main()
