"""Turns a validated recipe into a run: the one place that wires the parts together.

Outputs, all in the run folder:

    recipe.yaml          the resolved recipe
    model.keras          the final model
    checkpoints/best.keras  the best model by validation accuracy
    metrics.csv          per-epoch metrics
    logs/                TensorBoard logs
    summary.json         test accuracy, per-class accuracy, confusion matrix, timing
    curves.png           loss and accuracy per epoch
    confusion.png        the test confusion matrix
"""

import json
import logging
import math
import os
import time

import keras

from kvision.augment import build_augmenter
from kvision.data import make_dataset, prepare_data
from kvision.errors import KvisionError
from kvision.io import atomic_save, atomic_write_text
from kvision.models import build_model
from kvision.recipes import dump_recipe
from kvision.registry import LEARNERS
from kvision.report.evaluation import classification_report, predict_classes
from kvision.report.plots import plot_confusion, plot_curves
from kvision.training import build_optimizer, build_schedule
from kvision.training.callbacks import Throughput

log = logging.getLogger("kvision")


def device_description():
    """The accelerators TensorFlow sees, or the CPU."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"{len(gpus)} GPU(s)" if gpus else f"CPU ({os.cpu_count()} cores)"


def run_dir_for(recipe, output=None):
    """The run folder: `output` if given, else recipe.output_dir/recipe.name."""
    return output or os.path.join(recipe.output_dir, recipe.name)


def prepare_run_dir(run_dir):
    """Creates the run folder and checks it can be written."""
    try:
        os.makedirs(os.path.join(run_dir, "checkpoints"), exist_ok=True)
        probe = os.path.join(run_dir, ".write-test")
        with open(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
    except OSError as e:
        raise KvisionError(f"cannot write to the output folder {run_dir}: {e.strerror}") from None


def datasets_for(recipe, data):
    """The training, validation and test tf.data pipelines of a run."""
    cfg = recipe.data
    augment = build_augmenter(recipe.augment, data.image_shape, recipe.seed)
    common = dict(image_shape=data.image_shape, num_classes=data.num_classes, cache=cfg.cache)
    train = make_dataset(data.train, batch_size=cfg.batch_size, training=True, augment=augment,
                         seed=recipe.seed, shuffle_buffer=cfg.shuffle_buffer,
                         repeat=recipe.train.steps_per_epoch is not None, **common)
    validation = None
    if len(data.validation):
        validation = make_dataset(data.validation, batch_size=cfg.eval_batch_size, **common)
    split = data.test if recipe.eval.split == "test" else data.validation
    evaluation = make_dataset(split, batch_size=cfg.eval_batch_size, **common)
    return train, validation, evaluation, split


def run_recipe(recipe, output=None):
    """Trains and evaluates as the recipe says; writes the run folder.

    Args:
        recipe: a validated `Recipe`.
        output: the run folder (default: recipe.output_dir/recipe.name).

    Returns:
        The summary dict (also written to summary.json).
    """
    started = time.time()
    run_dir = run_dir_for(recipe, output)
    prepare_run_dir(run_dir)
    dump_recipe(recipe, os.path.join(run_dir, "recipe.yaml"))
    keras.utils.set_random_seed(recipe.seed)

    data = prepare_data(recipe.data, recipe.seed)
    train_ds, val_ds, eval_ds, eval_split = datasets_for(recipe, data)
    model = build_model(recipe.model.name, data.image_shape, data.num_classes, **recipe.model.options)

    cfg = recipe.train
    steps_per_epoch = cfg.steps_per_epoch or math.ceil(len(data.train) / recipe.data.batch_size)
    learning_rate = build_schedule(cfg.schedule, cfg.optimizer.learning_rate, steps_per_epoch, cfg.epochs)
    optimizer = build_optimizer(cfg.optimizer, learning_rate)
    learner = LEARNERS.get(cfg.learner)(model, optimizer, cfg)

    monitor = "val_accuracy" if val_ds is not None else "accuracy"
    throughput = Throughput(steps_per_epoch * recipe.data.batch_size)
    callbacks = [
        throughput,  # first, so its epoch time leaves out checkpoint writing
        keras.callbacks.CSVLogger(os.path.join(run_dir, "metrics.csv")),
        keras.callbacks.ModelCheckpoint(os.path.join(run_dir, "checkpoints", "best.keras"),
                                        monitor=monitor, mode="max", save_best_only=True),
        keras.callbacks.TensorBoard(os.path.join(run_dir, "logs")),
    ]
    log.info("training %s (%s parameters) for %d epochs of %d steps", recipe.model.name,
             f"{model.count_params():,}", cfg.epochs, steps_per_epoch)
    history = learner.fit(train_ds, epochs=cfg.epochs,
                          steps_per_epoch=cfg.steps_per_epoch, validation_data=val_ds,
                          callbacks=callbacks, verbose=cfg.verbose, shuffle=False)
    atomic_save(os.path.join(run_dir, "model.keras"), model.save)

    report = classification_report(eval_split.labels, predict_classes(model, eval_ds), data.class_names)
    plot_curves(history.history, os.path.join(run_dir, "curves.png"))
    plot_confusion(report["confusion_matrix"], data.class_names, os.path.join(run_dir, "confusion.png"),
                   title=f"{recipe.name}: {recipe.eval.split} accuracy {report['accuracy']:.4f}")
    summary = {
        "name": recipe.name,
        f"{recipe.eval.split}_accuracy": report["accuracy"],
        "model": recipe.model.name,
        "parameters": int(model.count_params()),
        "epochs": cfg.epochs,
        "steps_per_epoch": steps_per_epoch,
        "images_per_second": round(throughput.images_per_second, 1),
        "epoch_seconds": [round(s, 2) for s in throughput.epoch_seconds],
        "wall_seconds": round(time.time() - started, 1),
        "backend": keras.backend.backend(),
        "device": device_description(),
        "strategy": "default",
        "class_names": list(data.class_names),
        "data": {"origin": data.origin, "train": len(data.train), "validation": len(data.validation),
                 "test": len(data.test), "unlabeled": len(data.unlabeled),
                 "image_shape": list(data.image_shape)},
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
        "evaluation": {"split": recipe.eval.split, **report},
    }
    atomic_write_text(os.path.join(run_dir, "summary.json"), json.dumps(summary, indent=2))
    log.info("%s accuracy %.4f; outputs in %s", recipe.eval.split, report["accuracy"], run_dir)
    return summary
