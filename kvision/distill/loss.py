"""The knowledge-distillation term (Hinton, Vinyals and Dean 2015, "Distilling the knowledge
in a neural network").

Both logit vectors are softened by the temperature T, softmax(z / T); the
term is the KL divergence from the teacher's softened distribution (the
target) to the student's, times T^2 so that its gradients keep their size as
T changes.

Why not `keras.distillation.LogitsDistillation`: in keras 3.15 its default
`loss="kl_divergence"` resolves to a plain function, so its softmax and T^2
branch (taken only for a `keras.losses.KLDivergence` instance) never runs and
it computes a KL divergence of clipped raw logits. `tests/test_distill.py`
pins the difference.
"""

import keras
from keras import ops


def softened(logits, temperature):
    """softmax(logits / temperature), in float32."""
    return ops.softmax(ops.cast(logits, "float32") / temperature, axis=-1)


def distillation_kl(teacher_logits, student_logits, temperature):
    """T^2 x KL(softmax(teacher / T) || softmax(student / T)), averaged over the batch.

    Args:
        teacher_logits: (batch, classes), the target (no gradient flows into it).
        student_logits: (batch, classes).
        temperature: T > 0.

    Returns:
        A scalar.
    """
    teacher_logits = ops.stop_gradient(ops.cast(teacher_logits, "float32"))
    student_logits = ops.cast(student_logits, "float32")
    target = softened(teacher_logits, temperature)
    log_target = ops.log_softmax(teacher_logits / temperature, axis=-1)
    log_student = ops.log_softmax(student_logits / temperature, axis=-1)
    per_example = ops.sum(target * (log_target - log_student), axis=-1)
    return ops.mean(per_example) * (temperature ** 2)


def masked_cross_entropy(labels, logits, mask, label_smoothing=0.0):
    """Mean cross-entropy (at T = 1) over the examples where `mask` is 1.

    Args:
        labels: one-hot (batch, classes); rows of unlabeled examples are ignored.
        logits: (batch, classes).
        mask: (batch,) 1 for labeled examples, 0 for unlabeled ones.
        label_smoothing: as in `keras.losses.CategoricalCrossentropy`.

    Returns:
        A scalar (0 when no example is labeled).
    """
    per_example = keras.losses.categorical_crossentropy(labels, ops.cast(logits, "float32"),
                                                        from_logits=True,
                                                        label_smoothing=label_smoothing)
    mask = ops.cast(mask, "float32")
    return ops.sum(per_example * mask) / ops.maximum(ops.sum(mask), 1.0)
