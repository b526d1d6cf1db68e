"""`Distiller`: a student learns from a frozen teacher's softened outputs and from labels.

loss = alpha x cross-entropy(labels, student) + (1 - alpha) x distillation term,

the distillation term being `distillation_loss` (T^2 x KL of the softened
distributions by default, kvision/distill/loss.py). The loss lives in
`compute_loss`, so `compile`/`fit`/`evaluate`, metrics and callbacks behave
as for any Keras model on every backend. The student is the artefact:
`save` and `export` write the student alone, and evaluation runs only the
student (its cross-entropy is the validation loss).
"""

import keras
from keras import ops

from kvision.distill.loss import distillation_kl, masked_cross_entropy

TEACHER_MODES = ("online", "cached", "clean_view")


@keras.saving.register_keras_serializable("kvision")
class Distiller(keras.Model):
    """Knowledge distillation (Hinton et al. 2015) of `teacher` into `student`.

    Inputs are images, or a dict with "images" and, by teacher mode,
    "teacher_logits" (cached) or "clean" (clean_view). Labels are one-hot;
    an all-zero row (or a sample weight of 0) marks an unlabeled image, which
    contributes only the distillation term.

    Args:
        student: the model being trained (gives logits).
        teacher: the trained model to imitate (gives logits); frozen and
            always called with `training=False`. Not needed when
            `teacher_mode` is "cached" and the inputs carry the logits.
        temperature: T of the softened softmax.
        alpha: weight of the students' cross-entropy on labels; 1 - alpha
            weighs the distillation term. alpha = 1 is plain supervised
            training.
        teacher_mode: "online" (the teacher sees the student's augmented
            batch), "cached" (teacher logits computed once, read from the
            inputs), or "clean_view" (the teacher sees the un-augmented
            image, computed each step).
        label_smoothing: label smoothing of the cross-entropy.

    Subclass and override `distillation_loss` to change the distillation
    term; everything else stays as is.
    """

    def __init__(self, student, teacher=None, temperature=4.0, alpha=0.1, teacher_mode="online",
                 label_smoothing=0.0, **kwargs):
        super().__init__(**kwargs)
        if teacher_mode not in TEACHER_MODES:
            raise ValueError(f"teacher_mode must be one of {', '.join(TEACHER_MODES)}. "
                             f"Received: {teacher_mode!r}")
        if teacher is None and teacher_mode != "cached":
            raise ValueError(f"teacher_mode {teacher_mode!r} needs a teacher")
        if not temperature > 0:
            raise ValueError(f"temperature must be positive. Received: {temperature}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1]. Received: {alpha}")
        if teacher is not None and teacher.output_shape[-1] != student.output_shape[-1]:
            raise ValueError(f"the teacher gives {teacher.output_shape[-1]} classes and the student "
                             f"{student.output_shape[-1]}; they must agree")
        self.student = student
        self.teacher = teacher
        if teacher is not None:
            teacher.trainable = False
        self.temperature = float(temperature)
        self.alpha = float(alpha)
        self.teacher_mode = teacher_mode
        self.label_smoothing = float(label_smoothing)
        self.student_loss_tracker = keras.metrics.Mean(name="student_loss")
        self.distillation_loss_tracker = keras.metrics.Mean(name="distillation_loss")
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")

    # -- the one method a subclass usually changes ------------------------------------------------

    def distillation_loss(self, teacher_logits, student_logits):
        """The distillation term: T^2 x KL(teacher softened || student softened), batch mean.

        Args:
            teacher_logits: (batch, classes), already without gradient.
            student_logits: (batch, classes).

        Returns:
            A scalar.
        """
        return distillation_kl(teacher_logits, student_logits, self.temperature)

    # -- plumbing ---------------------------------------------------------------------------------

    @staticmethod
    def images_of(inputs):
        return inputs["images"] if isinstance(inputs, dict) else inputs

    def call(self, inputs, training=None):
        return self.student(self.images_of(inputs), training=training)

    def fit_to_teacher(self, images):
        """Resizes images (and converts channels) to the teacher's input shape."""
        height, width, channels = self.teacher.input_shape[1:]
        if images.shape[-1] != channels:
            if channels == 3:
                images = ops.repeat(images[..., :1], 3, axis=-1)
            else:
                images = ops.sum(images * ops.convert_to_tensor([0.299, 0.587, 0.114])[: images.shape[-1]],
                                 axis=-1, keepdims=True)
        if (height, width) != tuple(images.shape[1:3]) and height is not None:
            images = ops.image.resize(images, (height, width), antialias=True)
        return images

    def teacher_logits(self, inputs):
        """The teacher's logits for a batch, as the teacher mode says (no gradient)."""
        if self.teacher_mode == "cached":
            if not (isinstance(inputs, dict) and "teacher_logits" in inputs):
                raise ValueError("teacher_mode 'cached' needs inputs {'images', 'teacher_logits'}")
            return ops.stop_gradient(ops.convert_to_tensor(inputs["teacher_logits"]))
        if self.teacher_mode == "clean_view":
            if not (isinstance(inputs, dict) and "clean" in inputs):
                raise ValueError("teacher_mode 'clean_view' needs inputs {'images', 'clean'}")
            view = inputs["clean"]
        else:
            view = self.images_of(inputs)
        return ops.stop_gradient(self.teacher(self.fit_to_teacher(view), training=False))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y_pred is None:
            y_pred = self(x, training=training)
        if y is None:
            student_loss = ops.zeros((), "float32")
        else:
            mask = (sample_weight if sample_weight is not None
                    else ops.cast(ops.sum(y, axis=-1) > 0, "float32"))
            student_loss = masked_cross_entropy(y, y_pred, ops.reshape(mask, (-1,)),
                                                self.label_smoothing)
        if training and self.alpha < 1.0:
            distill = self.distillation_loss(self.teacher_logits(x), y_pred)
            total = self.alpha * student_loss + (1.0 - self.alpha) * distill
            self.distillation_loss_tracker.update_state(distill)
        else:  # evaluation: the student alone
            total = student_loss
        self.student_loss_tracker.update_state(student_loss)
        self.total_loss_tracker.update_state(total)
        return total

    # -- the student is the artefact --------------------------------------------------------------

    def save(self, filepath, *args, **kwargs):
        """Saves the student alone."""
        return self.student.save(filepath, *args, **kwargs)

    def export(self, filepath, *args, **kwargs):
        """Exports the student alone."""
        return self.student.export(filepath, *args, **kwargs)

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {**super().get_config(), "student": serialize(self.student),
                "teacher": serialize(self.teacher) if self.teacher is not None else None,
                "temperature": self.temperature, "alpha": self.alpha,
                "teacher_mode": self.teacher_mode, "label_smoothing": self.label_smoothing}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["student"] = keras.saving.deserialize_keras_object(config["student"])
        if config.get("teacher") is not None:
            config["teacher"] = keras.saving.deserialize_keras_object(config["teacher"])
        return cls(**config)
