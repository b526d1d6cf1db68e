"""The kNN "learner": store every training image (no gradient descent)."""

import keras

from kvision.registry import LEARNERS


@LEARNERS.register("knn")
def knn(model, optimizer, config):
    """Prepares a `KNNClassifier` for the run; `fit` stores the training set.

    Args:
        model: a `kvision.models.knn.KNNClassifier`.
        optimizer: unused (nothing is optimised).
        config: the recipe's `TrainConfig` (unused).

    Returns:
        The model.
    """
    from kvision.models.knn import KNNClassifier

    if not isinstance(model, KNNClassifier):
        raise TypeError(f"the knn learner needs the knn model. Received: {type(model).__name__}")
    model.compile(metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    return model
