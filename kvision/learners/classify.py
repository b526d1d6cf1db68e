"""Plain supervised classification: cross-entropy on labels."""

import keras

from kvision.backend import resolve_jit_compile
from kvision.registry import LEARNERS


def classification_loss(label_smoothing=0.0):
    """Cross-entropy on logits against one-hot (or mixed) labels."""
    return keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=label_smoothing)


@LEARNERS.register("classify")
def classify(model, optimizer, config):
    """Compiles `model` for supervised training.

    Args:
        model: a classifier giving logits.
        optimizer: a Keras optimizer.
        config: the recipe's `TrainConfig` (label_smoothing, jit_compile).

    Returns:
        The compiled model, ready for `fit`; it is also the trained artefact.
    """
    model.compile(optimizer=optimizer,
                  loss=classification_loss(config.label_smoothing),
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
                  jit_compile=resolve_jit_compile(config.jit_compile))
    return model
