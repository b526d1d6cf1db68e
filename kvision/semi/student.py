"""The `student` learner: one Noisy Student iteration (Xie et al. 2020, "Self-training with
Noisy Student improves ImageNet classification").

The teacher labels the whole unlabeled pool once, from clean images with
`training=False` (no augmentation, no dropout); the labels (soft or hard),
their confidence and the chosen images are written to the run folder's
`pseudo_labels.npz` and reused on resume. The student trains on batches of
labeled images plus `pseudo_ratio` times as many pseudo-labeled ones, under
the recipe's augmentation (the noise; dropout and stochastic depth come with
the student model's own settings).
"""

import hashlib
import io
import json
import logging
import os

import keras
import numpy as np
import tensorflow as tf

from kvision.backend import resolve_jit_compile
from kvision.data import make_dataset
from kvision.data.pipeline import predict_split
from kvision.data.examples import Split
from kvision.io import atomic_write_bytes, atomic_write_text
from kvision.learners.classify import classification_loss
from kvision.learners.wrapper import ModelLearner
from kvision.registry import LEARNERS
from kvision.semi.selection import select_pseudo_labels

log = logging.getLogger("kvision")


def teacher_probabilities(teacher, split, image_shape, num_classes, batch_size=1024):
    """The teacher's softmax outputs on every image of `split`: clean, `training=False`, in order."""
    return predict_split(lambda images: keras.ops.softmax(teacher(images, training=False), axis=-1),
                         split, image_shape, num_classes, batch_size)


@keras.saving.register_keras_serializable("kvision")
class StudentLearner(ModelLearner):
    """Trains `model` on labeled images plus a teacher's pseudo-labels for the unlabeled pool.

    Args:
        model: the student (the artefact).
        teacher: a run folder, stage folder or `.keras` file.
        labels: "soft" (the teacher's probabilities) or "hard" (its argmax).
        confidence_threshold: drop pool images whose top probability is lower.
        balance: equal pseudo-labeled counts per class (trim or repeat).
        pseudo_ratio: pseudo-labeled images per labeled image in a batch.
    """

    CONFIG_KEYS = ("teacher", "labels", "confidence_threshold", "balance", "pseudo_ratio")

    def __init__(self, model, teacher=None, labels="soft", confidence_threshold=0.0, balance=True,
                 pseudo_ratio=3, **kwargs):
        super().__init__(**kwargs)
        if labels not in ("soft", "hard"):
            raise ValueError(f"labels must be soft or hard. Received: {labels!r}")
        self.model = model
        self.teacher = teacher
        self.labels = labels
        self.confidence_threshold = float(confidence_threshold)
        self.balance = bool(balance)
        self.pseudo_ratio = int(pseudo_ratio)

    def pseudo_labels(self, data, run_dir):
        """(pool indices, targets) for the student, computed once and kept in run_dir.

        Returns:
            (int array of indices into data.unlabeled, possibly repeated;
            float32 targets, one row per index).
        """
        from kvision.artifacts import load_trained
        from kvision.run import weights_checksum

        path = os.path.join(run_dir, "pseudo_labels.npz")
        teacher, _ = load_trained(self.teacher)
        key = hashlib.sha256(json.dumps([
            weights_checksum(teacher), len(data.unlabeled), self.labels, self.confidence_threshold,
            self.balance, hashlib.sha256(np.ascontiguousarray(data.unlabeled.labels)).hexdigest(),
        ]).encode()).hexdigest()[:16]
        if os.path.isfile(path):
            with np.load(path) as saved:
                if str(saved["key"]) == key:
                    log.info("pseudo-labels: reusing %s", path)
                    return saved["index"], saved["target"]
        log.info("pseudo-labels: the teacher labels %d unlabeled images", len(data.unlabeled))
        probabilities = teacher_probabilities(teacher, data.unlabeled, data.image_shape,
                                              data.num_classes)
        index, kept_counts = select_pseudo_labels(probabilities, self.confidence_threshold, self.balance)
        target = probabilities[index]
        if self.labels == "hard":
            target = np.eye(data.num_classes, dtype="float32")[target.argmax(-1)]
        used_counts = np.bincount(target.argmax(-1), minlength=data.num_classes).tolist()
        truth = data.unlabeled.labels
        unique = np.unique(index)
        report = {
            "pool": len(data.unlabeled), "kept": int(len(unique)),
            "kept_fraction": float(len(unique) / max(len(data.unlabeled), 1)),
            "kept_per_class": dict(zip(data.class_names, map(int, kept_counts))),
            "used_per_class": dict(zip(data.class_names, map(int, used_counts))),
            "pseudo_label_accuracy_on_kept": float((probabilities[unique].argmax(-1) == truth[unique])
                                                   .mean()) if len(unique) else 0.0,
        }
        buffer = io.BytesIO()
        np.savez(buffer, index=index, target=target.astype("float32"),
                 confidence=probabilities[index].max(-1), key=np.array(key))
        atomic_write_bytes(path, buffer.getvalue())
        atomic_write_text(os.path.join(run_dir, "pseudo_labels.json"), json.dumps(report, indent=2))
        log.info("pseudo-labels: kept %d of %d (%.0f%%), accuracy on kept %.3f; per class %s",
                 report["kept"], report["pool"], 100 * report["kept_fraction"],
                 report["pseudo_label_accuracy_on_kept"], kept_counts)
        return index, target.astype("float32")

    def training_stream(self, recipe, data, run_dir):
        """A function of batches to skip giving batches of labeled + pseudo-labeled images."""
        from kvision.augment import build_augmenter
        from kvision.semi.streams import require_unlabeled

        require_unlabeled(data, "student")
        index, target = self.pseudo_labels(data, run_dir)
        noise = build_augmenter(recipe.augment, data.image_shape, recipe.seed)
        pseudo = Split(data.unlabeled.images[index], np.zeros(len(index), dtype=np.int64))
        cfg = recipe.data
        common = dict(image_shape=data.image_shape, num_classes=data.num_classes, cache=cfg.cache,
                      training=True, augment=noise, repeat=True, shuffle_buffer=cfg.shuffle_buffer)

        def stream(skip_batches=0):
            labeled = make_dataset(data.train, batch_size=cfg.batch_size, seed=recipe.seed,
                                   skip_batches=skip_batches, **common)
            pseudo_ds = make_dataset(pseudo, batch_size=cfg.batch_size * self.pseudo_ratio,
                                     seed=recipe.seed + 1, skip_batches=skip_batches,
                                     extras={"target": target}, **common)

            def combine(labeled_batch, pseudo_batch):
                (images, labels), (features, _) = labeled_batch, pseudo_batch
                return (tf.concat([images, features["images"]], axis=0),
                        tf.concat([labels, features["target"]], axis=0))

            return tf.data.Dataset.zip((labeled, pseudo_ds)).map(combine).prefetch(tf.data.AUTOTUNE)

        return stream


@LEARNERS.register("student")
def student(model, optimizer, config):
    """Compiles a `StudentLearner` with `train.student`'s settings (one Noisy Student iteration).

    Args:
        model: the student.
        optimizer: a Keras optimizer.
        config: the recipe's `TrainConfig`.

    Returns:
        The compiled learner.
    """
    settings = config.student
    learner = StudentLearner(model, teacher=settings.teacher, labels=settings.labels,
                             confidence_threshold=settings.confidence_threshold,
                             balance=settings.balance, pseudo_ratio=settings.pseudo_ratio)
    learner.compile(optimizer=optimizer, loss=classification_loss(config.label_smoothing),
                    metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
                    jit_compile=resolve_jit_compile(config.jit_compile))
    return learner
