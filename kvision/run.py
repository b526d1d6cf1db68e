"""Turns a validated recipe into a run: the one place that wires the parts together.

Outputs, all in the run folder:

    recipe.yaml          the resolved recipe
    model.keras          the final model
    checkpoints/best.keras  the best model by validation accuracy
    checkpoints/state/   the training state a killed run resumes from
    metrics.csv          per-epoch metrics
    logs/                TensorBoard logs
    summary.json         test accuracy, per-class accuracy, confusion matrix, timing
    curves.png           loss and accuracy per epoch
    confusion.png        the test confusion matrix
"""

import copy
import json
import logging
import math
import os
import shutil
import tempfile
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
from kvision.runtime.checkpoint import StepCheckpoint, TrainingState
from kvision.runtime.nan_guard import StopOnNaN
from kvision.runtime.strategy import make_placement
from kvision.runtime.termination import StopOnSignal
from kvision.training import build_optimizer, build_schedule
from kvision.training.callbacks import ArtefactCheckpoint, Throughput

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


def datasets_for(recipe, data, train_split=None, extras=None, keep_clean=False):
    """The training stream (a function of batches to skip), validation and test pipelines.

    The training stream repeats forever, so that a resumed run can skip to
    the exact batch where the killed one stopped.

    Args:
        recipe: the `Recipe`.
        data: the `DataBundle`.
        train_split: what to train on (default data.train); labels of -1
            mark unlabeled examples, which get a sample weight of 0.
        extras, keep_clean: as in `make_dataset` (what a learner needs
            beside the images).
    """
    cfg = recipe.data
    augment = build_augmenter(recipe.augment, data.image_shape, recipe.seed)
    common = dict(image_shape=data.image_shape, num_classes=data.num_classes, cache=cfg.cache)
    train_split = data.train if train_split is None else train_split
    mask_unlabeled = bool((train_split.labels < 0).any())

    def train(skip_batches=0, repeat=True):
        return make_dataset(train_split, batch_size=cfg.batch_size, training=True, augment=augment,
                            seed=recipe.seed, shuffle_buffer=cfg.shuffle_buffer, repeat=repeat,
                            skip_batches=skip_batches, extras=extras, keep_clean=keep_clean,
                            mask_unlabeled=mask_unlabeled, **common)

    validation = None
    if len(data.validation):
        validation = make_dataset(data.validation, batch_size=cfg.eval_batch_size, **common)
    split = data.test if recipe.eval.split == "test" else data.validation
    evaluation = make_dataset(split, batch_size=cfg.eval_batch_size, **common)
    return train, validation, evaluation, split


def run_recipe(recipe, output=None, restart=False):
    """Trains and evaluates as the recipe says; writes the run folder.

    Re-running the same recipe into the same folder resumes from the last
    checkpoint (weights, optimizer state, step and data position), or does
    nothing if the run had finished.

    Args:
        recipe: a validated `Recipe`.
        output: the run folder (default: recipe.output_dir/recipe.name).
        restart: discard an earlier run in the folder and start over.

    Returns:
        The summary dict (also written to summary.json).
    """
    from kvision.backend import select_backend

    select_backend(recipe.backend, "the recipe's backend")  # refuses a switch after Keras is imported
    if recipe.stages or recipe.train.learner == "noisy_student":
        return run_stages(recipe, output, restart)
    started = time.time()
    placement = make_placement(recipe.runtime.strategy)  # first: multi-worker needs it before any op
    recipe = scaled_for_replicas(recipe, placement.replicas)
    run_dir = run_dir_for(recipe, output)
    chief_state = TrainingState(os.path.join(run_dir, "checkpoints", "state"))
    if not placement.is_chief:  # a worker writes nothing into the run folder
        scratch = tempfile.mkdtemp(prefix=f"kvision-worker{placement.worker}-")
        try:
            state = TrainingState(os.path.join(scratch, "state"), read_from=chief_state.folder)
            return _run_with_policy(recipe, scratch, state, placement, started)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    prepare_run_dir(run_dir)
    state = chief_state
    summary_path = os.path.join(run_dir, "summary.json")
    recipe_path = os.path.join(run_dir, "recipe.yaml")
    status = run_status(recipe, run_dir)
    if restart:
        clear_run_dir(run_dir, state)
    elif status == "different":
        raise KvisionError(f"{run_dir} holds a run of a different recipe; pass --restart to "
                           "replace it, or choose another --output")
    elif status == "finished":
        log.info("%s already finished (see summary.json); nothing to do. Pass --restart to train "
                 "again.", run_dir)
        with open(summary_path) as f:
            return json.load(f)
    dump_recipe(recipe, recipe_path)
    return _run_with_policy(recipe, run_dir, state, placement, started)


def run_status(recipe, run_dir):
    """What `run_dir` holds for `recipe`: "new", "finished", "interrupted" or "different"."""
    state = TrainingState(os.path.join(run_dir, "checkpoints", "state"))
    meta = state.meta()
    summary_path = os.path.join(run_dir, "summary.json")
    if meta is None and not os.path.isfile(summary_path):
        return "new"
    if not same_recipe(recipe, os.path.join(run_dir, "recipe.yaml")):
        return "different"
    if os.path.isfile(summary_path) and (meta or {}).get("finished", True):
        return "finished"
    return "interrupted"


def run_stages(recipe, output=None, restart=False):
    """Runs a recipe's stages in order, each in RUN_DIR/STAGE (see kvision/recipes/stages.py).

    A finished stage whose settings and predecessors are unchanged is
    skipped, an interrupted one resumes, and a changed one re-runs together
    with every stage after it.

    Returns:
        The last stage's summary with a "stages" list (also written to
        RUN_DIR/summary.json; the last stage's model is copied to
        RUN_DIR/model.keras).
    """
    from kvision.io import atomic_write_bytes
    from kvision.recipes.stages import build_stages, fingerprint, resolve
    from kvision.recipes.typed import to_plain

    run_dir = run_dir_for(recipe, output)
    os.makedirs(run_dir, exist_ok=True)
    stages = getattr(recipe, "stage_recipes", None)
    if stages is None:
        if recipe.train.learner == "noisy_student":
            from kvision.semi.noisy_student import expand

            stages = expand(recipe)
        else:
            stages = build_stages(to_plain(recipe), recipe)
    dump_recipe(recipe, os.path.join(run_dir, "recipe.yaml"))
    folders, fingerprints, results = {}, {}, []
    for number, stage in enumerate(stages, 1):
        folder = os.path.join(run_dir, stage.name)
        resolved = resolve(stage, folders, fingerprints)
        status = "restarted" if restart else run_status(resolved, folder)
        said = {"new": "starting", "finished": "finished before with the same settings; skipping",
                "interrupted": "resuming", "restarted": "starting over (--restart)",
                "different": "its settings or an earlier stage's changed; running it again"}[status]
        log.info("stage %d/%d %s: %s", number, len(stages), stage.name, said)
        summary = run_recipe(resolved, folder, restart=status in ("restarted", "different"))
        folders[stage.name] = folder
        fingerprints[stage.name] = fingerprint(resolved)
        split = summary["evaluation"]["split"]
        results.append({"stage": stage.name, "status": status, "learner": resolved.train.learner,
                        "model": resolved.model.name, f"{split}_accuracy": summary[f"{split}_accuracy"],
                        "wall_seconds": summary["wall_seconds"], "folder": folder})
    final = dict(summary, name=recipe.name, stages=results, final_stage=stages[-1].name)
    if recipe.train.learner == "noisy_student":
        from kvision.report.plots import plot_iterations

        split = summary["evaluation"]["split"]
        final["iterations"] = [{"iteration": i, "stage": r["stage"], f"{split}_accuracy": r[f"{split}_accuracy"]}
                               for i, r in enumerate(results)]
        plot_iterations([r[f"{split}_accuracy"] for r in results], os.path.join(run_dir, "iterations.png"),
                        title=f"{recipe.name}: {split} accuracy per iteration")
    with open(os.path.join(folders[stages[-1].name], "model.keras"), "rb") as f:
        atomic_write_bytes(os.path.join(run_dir, "model.keras"), f.read())
    atomic_write_text(os.path.join(run_dir, "summary.json"), json.dumps(final, indent=2))
    return final


def scaled_for_replicas(recipe, replicas):
    """With runtime.lr_scaling linear: batch_size per replica, learning rate x replicas."""
    if recipe.runtime.lr_scaling != "linear" or replicas == 1:
        return recipe
    recipe = copy.deepcopy(recipe)
    recipe.data.batch_size *= replicas
    recipe.train.optimizer.learning_rate *= replicas
    return recipe


def _run_with_policy(recipe, run_dir, state, placement, started):
    keras.utils.set_random_seed(recipe.seed)
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(recipe.runtime.mixed_precision)
    try:
        return _run(recipe, run_dir, state, placement, started)
    finally:
        keras.config.set_dtype_policy(policy)


def _run(recipe, run_dir, state, placement, started):
    """The body of `run_recipe`, under the recipe's dtype policy and strategy."""
    summary_path = os.path.join(run_dir, "summary.json")
    data = prepare_data(recipe.data, recipe.seed)
    cfg = recipe.train
    choose_split = getattr(LEARNERS.get(cfg.learner), "training_split", None)
    train_split = choose_split(data, cfg) if choose_split else data.train
    steps_per_epoch = cfg.steps_per_epoch or math.ceil(len(train_split) / recipe.data.batch_size)
    with placement.scope():  # model, optimizer and metrics live in the strategy
        model = build_model(recipe.model.name, data.image_shape, data.num_classes,
                            **recipe.model.options)
        learning_rate = build_schedule(cfg.schedule, cfg.optimizer.learning_rate, steps_per_epoch,
                                       cfg.epochs)
        optimizer = build_optimizer(cfg.optimizer, learning_rate)
        learner = LEARNERS.get(cfg.learner)(model, optimizer, cfg)
        if learner.optimizer is not None and not learner.optimizer.built:
            learner.optimizer.build(learner.trainable_variables)
    placement.prepare(learner)
    needs = getattr(learner, "training_inputs", None)
    extras, keep_clean = needs(train_split, data, run_dir) if needs else ({}, False)
    train_stream, val_ds, eval_ds, eval_split = datasets_for(recipe, data, train_split, extras,
                                                             keep_clean)
    own_stream = getattr(learner, "training_stream", None)  # learners reading more than one split
    if own_stream is not None:
        train_stream = own_stream(recipe, data, run_dir)

    monitor = "val_accuracy" if val_ds is not None else "accuracy"
    metrics_path = os.path.join(run_dir, "metrics.csv")
    throughput = Throughput(steps_per_epoch * recipe.data.batch_size)
    callbacks = [
        throughput,  # first, so its epoch time leaves out checkpoint writing
        keras.callbacks.CSVLogger(metrics_path, append=True),
        ArtefactCheckpoint(model, os.path.join(run_dir, "checkpoints", "best.keras"),
                           monitor=monitor, mode="max", save_best_only=True,
                           initial_value_threshold=best_so_far(metrics_path, monitor)),
        keras.callbacks.TensorBoard(os.path.join(run_dir, "logs")),
    ]
    log.info("training %s (%s parameters) for %d epochs of %d steps", recipe.model.name,
             f"{model.count_params():,}", cfg.epochs, steps_per_epoch)
    if getattr(learner, "resumable", True):
        guard = StopOnNaN()
        stopper = StopOnSignal(state)
        callbacks += [guard, StepCheckpoint(state, recipe.runtime.checkpoint_every_steps, guard), stopper]
        with placement.scope(), stopper:
            train_resumably(learner, state, train_stream, val_ds, callbacks, cfg, steps_per_epoch, guard)
    else:
        learner.fit(train_stream(repeat=False), epochs=cfg.epochs, validation_data=val_ds,
                    callbacks=callbacks, verbose=cfg.verbose, shuffle=False)
    atomic_save(os.path.join(run_dir, "model.keras"), model.save)

    history = read_metrics(metrics_path)
    report = classification_report(eval_split.labels, predict_classes(model, eval_ds), data.class_names)
    plot_curves(history, os.path.join(run_dir, "curves.png"))
    plot_confusion(report["confusion_matrix"], data.class_names, os.path.join(run_dir, "confusion.png"),
                   title=f"{recipe.name}: {recipe.eval.split} accuracy {report['accuracy']:.4f}")
    summary = {
        "name": recipe.name,
        f"{recipe.eval.split}_accuracy": report["accuracy"],
        "model": recipe.model.name,
        "parameters": int(model.count_params()),
        "epochs": cfg.epochs,
        "steps_per_epoch": steps_per_epoch,
        "total_steps": int(keras.ops.convert_to_numpy(learner.optimizer.iterations))
        if getattr(learner, "resumable", True) else 0,
        "images_per_second": round(throughput.images_per_second, 1),
        "epoch_seconds": [round(s, 2) for s in throughput.epoch_seconds],
        "wall_seconds": round(time.time() - started, 1),
        "backend": keras.backend.backend(),
        "device": device_description(),
        "strategy": placement.name,
        "worker": placement.worker,
        "weights_checksum": weights_checksum(model),
        "class_names": list(data.class_names),
        "data": {"origin": data.origin, "train": len(data.train), "validation": len(data.validation),
                 "test": len(data.test), "unlabeled": len(data.unlabeled),
                 "image_shape": list(data.image_shape)},
        "history": history,
        "evaluation": {"split": recipe.eval.split, **report},
    }
    if placement.is_chief and recipe.export.formats:
        from kvision.export import export_model

        names = {"saved_model": "saved_model", "keras": "model.keras", "onnx": "model.onnx"}
        summary["exports"] = [export_model(model, os.path.join(run_dir, "export", names[fmt]),
                                           data.class_names, fmt) for fmt in recipe.export.formats]
    atomic_write_text(summary_path, json.dumps(summary, indent=2))
    if placement.is_chief:
        log.info("%s accuracy %.4f; outputs in %s", recipe.eval.split, report["accuracy"], run_dir)
    else:
        log.info("worker %d finished; weights checksum %s", placement.worker, summary["weights_checksum"])
    return summary


def weights_checksum(model):
    """A short hash of the model's weights (workers of one run must agree on it)."""
    import hashlib

    digest = hashlib.sha256()
    for weight in model.weights:
        digest.update(keras.ops.convert_to_numpy(weight).tobytes())
    return digest.hexdigest()[:16]


def train_resumably(learner, state, train_stream, val_ds, callbacks, cfg, steps_per_epoch, guard):
    """Runs `fit` from wherever the saved state says, to epochs x steps_per_epoch steps.

    A run killed mid-epoch resumes at the same batch of the same epoch: the
    first `fit` finishes that epoch, a second one runs the rest.
    """
    total = cfg.epochs * steps_per_epoch
    meta = state.restore(learner)
    step = meta["step"] if meta else 0
    if step:
        log.info("resuming from step %d of %d (%s)", step, total, state.folder)
    # A learner may train in phases (lp_ft: linear probe, then fine-tuning); each fit stays in one.
    boundaries = sorted(set(getattr(learner, "phase_starts", ())) | {cfg.epochs})
    common = dict(validation_data=val_ds, callbacks=callbacks, verbose=cfg.verbose, shuffle=False)
    while step < total and not guard.broken:
        epoch, done_in_epoch = divmod(step, steps_per_epoch)
        if done_in_epoch:  # killed mid-epoch: finish that epoch first
            learner.fit(train_stream(step), initial_epoch=epoch, epochs=epoch + 1,
                        steps_per_epoch=steps_per_epoch - done_in_epoch, **common)
            step = (epoch + 1) * steps_per_epoch
            continue
        end = min(b for b in boundaries if b > epoch)
        learner.fit(train_stream(step), initial_epoch=epoch, epochs=end,
                    steps_per_epoch=steps_per_epoch, **common)
        step = end * steps_per_epoch
    if guard.broken:
        meta = state.meta()
        last = (f"the last good checkpoint is step {meta['step']} in {state.folder}" if meta
                else "no checkpoint was saved before it")
        raise KvisionError(f"the loss became NaN at step {guard.bad_step}; training stopped and {last}. "
                           "Lower train.optimizer.learning_rate or set train.optimizer.clipnorm, then "
                           "re-run with --restart (or as is, to resume from that checkpoint).")
    state.save(learner, total, finished=True)


def same_recipe(recipe, path):
    """True if `path` holds this recipe, resolved (compared as data, display settings aside)."""
    import yaml

    from kvision.recipes.stages import settings_that_matter
    from kvision.recipes.typed import to_plain

    if not os.path.isfile(path):
        return False
    with open(path) as f:
        saved = yaml.safe_load(f)
    current = yaml.safe_load(yaml.safe_dump(to_plain(recipe), sort_keys=False))
    return settings_that_matter(saved) == settings_that_matter(current)


def clear_run_dir(run_dir, state):
    """Removes an earlier run's state and outputs from `run_dir`."""
    state.clear()
    for name in ("summary.json", "metrics.csv", "model.keras", "curves.png", "confusion.png",
                 os.path.join("checkpoints", "best.keras")):
        path = os.path.join(run_dir, name)
        if os.path.exists(path):
            os.remove(path)


def read_metrics(path):
    """Per-epoch metrics from metrics.csv as {name: [values]} (all epochs, resumed or not)."""
    import csv

    if not os.path.isfile(path):
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    keys = [k for k in (rows[0] if rows else {}) if k != "epoch"]
    history = {k: [float(r[k]) for r in rows if r.get(k) not in (None, "", "NA")] for k in keys}
    return {k: v for k, v in history.items() if v}


def best_so_far(path, monitor):
    """The best `monitor` value already in metrics.csv (so a resumed run keeps the best checkpoint)."""
    values = read_metrics(path).get(monitor)
    return max(values) if values else None
