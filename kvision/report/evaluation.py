"""Test-set evaluation: accuracy, per-class accuracy, confusion matrix."""

import numpy as np


def confusion_matrix(labels, predictions, num_classes):
    """counts[i, j]: images of true class i predicted as class j."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(labels), np.asarray(predictions)), 1)
    return counts


def classification_report(labels, predictions, class_names):
    """Accuracy, per-class accuracy and the confusion matrix, as plain data.

    Args:
        labels: true class indices (N,).
        predictions: predicted class indices (N,).
        class_names: one name per class.

    Returns:
        A dict with accuracy, per_class_accuracy ({name: accuracy}),
        confusion_matrix (list of lists) and num_examples.
    """
    counts = confusion_matrix(labels, predictions, len(class_names))
    per_class = counts.diagonal() / np.maximum(counts.sum(axis=1), 1)
    return {
        "accuracy": float(counts.diagonal().sum() / max(counts.sum(), 1)),
        "per_class_accuracy": {n: float(a) for n, a in zip(class_names, per_class)},
        "confusion_matrix": counts.tolist(),
        "num_examples": int(counts.sum()),
    }


def predict_classes(model, dataset):
    """Argmax predictions of `model` over a dataset of (images, labels) batches."""
    logits = model.predict(dataset.map(lambda x, y: x), verbose=0)
    return np.argmax(logits, axis=-1)
