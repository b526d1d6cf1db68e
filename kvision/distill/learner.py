"""The `distill` learner: a recipe's student distilled from a trained teacher."""

import keras
import numpy as np

from kvision.backend import resolve_jit_compile
from kvision.data.examples import Split
from kvision.distill.cache import teacher_logits_for
from kvision.distill.distiller import Distiller
from kvision.errors import KvisionError
from kvision.registry import LEARNERS


class RecipeDistiller(Distiller):
    """A `Distiller` that also says what its training pipeline must carry (used by kvision.run)."""

    def training_inputs(self, split, data, run_dir):
        """What the training pipeline carries besides images and labels.

        Args:
            split: the training split (from `training_split`).
            data: the run's `DataBundle`.
            run_dir: the run folder (cached teacher logits are kept there).

        Returns:
            (extras, keep_clean): per-example arrays to carry beside the
            images, and whether to keep the un-augmented images ("clean").
        """
        extras = {}
        if self.teacher_mode == "cached":
            extras["teacher_logits"] = teacher_logits_for(self, split, data.image_shape,
                                                          data.num_classes, run_dir)
        return extras, self.teacher_mode == "clean_view"


def load_teacher(source, num_classes):
    """The teacher model from a run folder, stage or `.keras` file (safe mode)."""
    from kvision.artifacts import load_trained

    teacher, _ = load_trained(source)
    if teacher.output_shape[-1] != num_classes:
        raise KvisionError(f"the teacher {source} gives {teacher.output_shape[-1]} classes but the "
                           f"student's data has {num_classes}; distill on the teacher's classes")
    return teacher


def training_split(data, config):
    """The examples the student trains on: the labeled ones, plus (distill.unlabeled) the
    unlabeled pool with its labels hidden (-1)."""
    if not config.distill.unlabeled:
        return data.train
    if not len(data.unlabeled):
        raise KvisionError("train.distill.unlabeled is on but the data has no unlabeled pool; set "
                           "data.labeled_per_class to keep only some labels")
    hidden = np.full(len(data.unlabeled), -1, dtype=data.train.labels.dtype)
    return Split(np.concatenate([data.train.images, data.unlabeled.images]),
                 np.concatenate([data.train.labels, hidden]))


@LEARNERS.register("distill")
def distill(model, optimizer, config):
    """Compiles a distiller: `model` (the student) learns from `train.distill.teacher`.

    Args:
        model: the student.
        optimizer: a Keras optimizer.
        config: the recipe's `TrainConfig` (its `distill` section).

    Returns:
        The compiled `Distiller`; its student (`model`) is the artefact.
    """
    settings = config.distill
    teacher = load_teacher(settings.teacher, int(model.output_shape[-1]))
    distiller = RecipeDistiller(model, teacher, temperature=settings.temperature, alpha=settings.alpha,
                                teacher_mode=settings.teacher_mode,
                                label_smoothing=config.label_smoothing)
    distiller.compile(optimizer=optimizer,
                      metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
                      jit_compile=resolve_jit_compile(config.jit_compile))
    return distiller


distill.training_split = training_split
