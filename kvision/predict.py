"""Evaluation of a trained model on a data source, and prediction on image files."""

import os

import keras
import numpy as np
import tensorflow as tf

from kvision.data.pipeline import decode_file, fit_image, make_dataset
from kvision.data.prepare import load_source
from kvision.data.sources.image_folder import EXTENSIONS
from kvision.errors import KvisionError
from kvision.report.evaluation import classification_report, predict_classes


def evaluate(model, class_names, source, split="test", batch_size=256, source_options=None):
    """Accuracy, per-class accuracy and confusion matrix of `model` on a data source.

    Args:
        model: a classifier taking raw pixels.
        class_names: the model's class names.
        source: a data source spec ("fashion_mnist", "image_folder:PATH", ...).
        split: "test" or "train".
        batch_size: images per step.
        source_options: keyword arguments of the source.

    Returns:
        The report dict of `classification_report`.
    """
    data = load_source(source, source_options or {})
    examples = data.test if split == "test" else data.train
    if examples is None:
        raise KvisionError(f"data source {source!r} has no {split} split")
    if len(data.class_names) != len(class_names):
        raise KvisionError(f"the model has {len(class_names)} classes but {source!r} has "
                           f"{len(data.class_names)}")
    shape = tuple(model.input_shape[1:])
    dataset = make_dataset(examples, shape, len(class_names), batch_size, cache=False)
    return classification_report(examples.labels, predict_classes(model, dataset), class_names)


def image_files(paths):
    """Expands folders to the image files inside them (sorted)."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            files += sorted(os.path.join(root, f) for root, _, names in os.walk(path) for f in names
                            if f.lower().endswith(EXTENSIONS))
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise KvisionError(f"image not found: {path}")
    if not files:
        raise KvisionError("no images to predict")
    return files


def predict_files(model, class_names, paths, top_k=3):
    """Top-k classes with probabilities for each image file.

    Returns:
        A list of {"image": path, "predictions": [{"class", "index", "probability"}, ...]}.
    """
    shape = tuple(model.input_shape[1:])
    results = []
    for path in image_files(paths):
        try:
            image = fit_image(decode_file(tf.constant(path), shape[-1]), shape)
        except tf.errors.InvalidArgumentError:
            raise KvisionError(f"cannot decode image {path}") from None
        outputs = model(image.numpy()[None], training=False)[0]
        if not _outputs_probabilities(model):
            outputs = keras.ops.softmax(outputs)
        probabilities = keras.ops.convert_to_numpy(outputs)
        order = np.argsort(-probabilities)[:top_k]
        results.append({"image": path, "predictions": [
            {"class": class_names[i], "index": int(i), "probability": float(probabilities[i])}
            for i in order]})
    return results


def _outputs_probabilities(model):
    from kvision.models.knn import KNNClassifier

    return isinstance(model, KNNClassifier)
