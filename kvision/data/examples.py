"""In-memory descriptions of labeled images, before tf.data reads them."""

import dataclasses
from typing import Optional

import numpy as np


@dataclasses.dataclass
class Split:
    """Images and their labels.

    Attributes:
        images: a uint8 array (N, H, W, C), or an array of file paths (str),
            or an object array of uint8 arrays of varying sizes.
        labels: int64 array (N,).
    """

    images: np.ndarray
    labels: np.ndarray

    def __len__(self):
        return len(self.labels)

    @property
    def kind(self):
        """'array', 'files' or 'ragged'."""
        if self.images.dtype.kind in "US":
            return "files"
        if self.images.dtype == object:
            return "ragged"
        return "array"

    def take(self, indices):
        """Returns the examples at `indices`."""
        indices = np.asarray(indices, dtype=np.int64)
        return Split(self.images[indices], self.labels[indices])


@dataclasses.dataclass
class SourceData:
    """What a data source returns.

    Attributes:
        train: the training split.
        test: the test split, or None if the source has none.
        class_names: one name per label index.
        origin: where the data was found, for logs and summaries.
    """

    train: Split
    test: Optional[Split]
    class_names: list
    origin: str = ""


@dataclasses.dataclass
class DataBundle:
    """The splits a run uses, after hold-outs and label budgets.

    Attributes:
        train: labeled training examples.
        validation: held-out examples for model selection (may be empty).
        test: examples for the final report.
        unlabeled: the unlabeled pool; its `labels` are the hidden truth,
            for reporting only.
        class_names: one name per label index.
        image_shape: (height, width, channels) the pipeline produces.
        origin: where the data was found.
    """

    train: Split
    validation: Split
    test: Split
    unlabeled: Split
    class_names: list
    image_shape: tuple
    origin: str = ""

    @property
    def num_classes(self):
        return len(self.class_names)
