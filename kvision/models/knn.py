"""k-nearest neighbours: the "store every image" baseline (Cover and Hart 1967)."""

import os

import keras
import numpy as np
from keras import ops

from kvision.registry import MODELS

METRICS = ("cosine", "l2")


@keras.saving.register_keras_serializable(package="kvision")
class KNNClassifier(keras.Model):
    """Classifies an image by the majority label of its k nearest stored images.

    Works on every backend (`keras.ops`). Distances are computed one query
    batch at a time against the whole memory, so 10,000 queries against
    60,000 stored images need only batch x 60,000 distances at once.
    Predictions are vote shares per class (rows sum to 1), so `argmax`
    gives the class.

    Args:
        image_shape: (height, width, channels) of the raw-pixel input.
        num_classes: number of classes.
        k: neighbours that vote.
        metric: "cosine" (similarity of the feature vectors) or "l2".
        feature_model: a `keras.Model` from raw pixels to embeddings (e.g. a
            trained backbone); None uses the pixels scaled to [0, 1].
        memory_size, feature_dim: sizes of the stored features; set by
            `remember` and carried in the config so a saved model reloads.
    """

    resumable = False  # fit is one pass that stores the training set

    def __init__(self, image_shape, num_classes, k=5, metric="cosine", feature_model=None,
                 memory_size=0, feature_dim=0, **kwargs):
        super().__init__(**kwargs)
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}. Received: metric={metric!r}")
        if k < 1:
            raise ValueError(f"k must be at least 1. Received: k={k}")
        self.image_shape = tuple(image_shape)
        self.num_classes = int(num_classes)
        self.k = int(k)
        self.metric = metric
        self.feature_model = feature_model
        self.memory_size = 0
        self.feature_dim = 0
        if memory_size:
            self._make_memory(memory_size, feature_dim)

    def _make_memory(self, memory_size, feature_dim):
        self.memory_size, self.feature_dim = int(memory_size), int(feature_dim)
        self.memory = self.add_weight(shape=(self.memory_size, self.feature_dim), initializer="zeros",
                                      trainable=False, name="memory")
        self.memory_labels = self.add_weight(shape=(self.memory_size,), initializer="zeros",
                                             dtype="int32", trainable=False, name="memory_labels")
        self.built = True  # its only state is the memory

    def count_params(self):
        """Stored numbers (features and labels) plus the feature model's parameters."""
        stored = self.memory_size * (self.feature_dim + 1)
        return stored + (self.feature_model.count_params() if self.feature_model is not None else 0)

    def features(self, images):
        """Feature vectors (batch, dim) of raw-pixel images."""
        if self.feature_model is not None:
            features = self.feature_model(images, training=False)
        else:
            features = ops.cast(images, "float32") / 255.0
        features = ops.reshape(features, (ops.shape(features)[0], -1))
        if self.metric == "cosine":
            features = features / (ops.norm(features, axis=1, keepdims=True) + 1e-8)
        return features

    def remember(self, dataset, verbose=1):
        """Stores the features and labels of every (images, labels) batch of `dataset`.

        Labels may be class indices or one-hot rows.
        """
        features, labels = [], []
        try:
            total = len(dataset)  # tf.data datasets of known cardinality, lists
        except TypeError:
            total = None
        progress = keras.utils.Progbar(total, verbose=verbose, unit_name="batch")
        for step, (images, batch_labels) in enumerate(dataset):
            features.append(ops.convert_to_numpy(self.features(images)))
            batch_labels = np.asarray(batch_labels)
            labels.append(batch_labels.argmax(-1) if batch_labels.ndim == 2 else batch_labels)
            progress.update(step + 1)
        features, labels = np.concatenate(features), np.concatenate(labels).astype("int32")
        if self.memory_size != len(features) or self.feature_dim != features.shape[1]:
            if self.memory_size:
                raise ValueError("this kNN already stores a memory of another size")
            self._make_memory(len(features), features.shape[1])
        self.memory.assign(features)
        self.memory_labels.assign(labels)
        return self

    def call(self, images):
        if not self.memory_size:
            raise ValueError("the kNN classifier has no memory yet: call remember() (or fit) first")
        queries = self.features(images)
        if self.metric == "cosine":
            scores = ops.matmul(queries, ops.transpose(self.memory))
        else:  # negative squared distance, so that larger is nearer
            scores = (2.0 * ops.matmul(queries, ops.transpose(self.memory))
                      - ops.sum(ops.square(queries), axis=1, keepdims=True)
                      - ops.sum(ops.square(self.memory), axis=1)[None, :])
        _, nearest = ops.top_k(scores, k=min(self.k, self.memory_size))
        votes = ops.one_hot(ops.take(self.memory_labels, nearest), self.num_classes)
        return ops.mean(votes, axis=1)

    def fit(self, x=None, y=None, epochs=1, steps_per_epoch=None, validation_data=None, verbose=1,
            **kwargs):
        """Stores the training set (one pass; kNN has nothing else to fit).

        Accepts `model.fit`'s arguments so that the recipe machinery can run
        it like any learner; optimizer, epochs and callbacks do not apply.

        Returns:
            A `keras.callbacks.History`, with validation accuracy if given.
        """
        dataset = x if y is None else [(x, y)]
        if steps_per_epoch is not None and hasattr(dataset, "take"):
            dataset = dataset.take(steps_per_epoch)
        self.remember(dataset, verbose=verbose)
        history = keras.callbacks.History()
        history.history = {}
        if validation_data is not None:
            correct = total = 0
            for images, labels in validation_data:
                labels = np.asarray(labels)
                labels = labels.argmax(-1) if labels.ndim == 2 else labels
                predicted = ops.convert_to_numpy(self(images)).argmax(-1)
                correct += int((predicted == labels).sum())
                total += len(labels)
            history.history["val_accuracy"] = [correct / max(total, 1)]
        return history

    def get_config(self):
        feature_model = self.feature_model
        if feature_model is not None:
            feature_model = keras.saving.serialize_keras_object(feature_model)
        return {**super().get_config(), "image_shape": list(self.image_shape),
                "num_classes": self.num_classes, "k": self.k, "metric": self.metric,
                "feature_model": feature_model, "memory_size": self.memory_size,
                "feature_dim": self.feature_dim}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("feature_model"), dict):
            config["feature_model"] = keras.saving.deserialize_keras_object(config["feature_model"])
        return cls(**config)


def embedding_model(path):
    """A raw-pixels -> backbone-features model from a saved kvision classifier."""
    from kvision.models.classifier import get_backbone

    trained = keras.saving.load_model(path, safe_mode=True)
    inputs = keras.Input(trained.input_shape[1:])
    features = get_backbone(trained)(trained.get_layer("rescale")(inputs))
    return keras.Model(inputs, features, name="embedding")


@MODELS.register("knn")
def knn(input_shape, num_classes, k=5, metric="cosine", features=None):
    """k-nearest neighbours (Cover and Hart 1967, "Nearest neighbor pattern classification").

    Args:
        input_shape: (height, width, channels).
        num_classes: number of classes.
        k: neighbours that vote.
        metric: "cosine" or "l2".
        features: None for raw pixels, or the path of a trained kvision
            `.keras` classifier whose backbone embeds the images.

    Returns:
        A `KNNClassifier`; train it with the `knn` learner (it stores the
        training images' features).
    """
    feature_model = embedding_model(features) if features else None
    model = KNNClassifier(input_shape, num_classes, k=k, metric=metric, feature_model=feature_model,
                          name="knn")
    return model


knn.learner = "knn"
knn.check_arguments = (lambda features=None, **_: None if not features or os.path.isfile(features)
                       else f"model file not found: features: {features}")
