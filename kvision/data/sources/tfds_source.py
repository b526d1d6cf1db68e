"""Any TensorFlow Datasets dataset, read into memory (`tfds:NAME`)."""

import numpy as np

from kvision.data.examples import SourceData, Split
from kvision.errors import DataError
from kvision.registry import DATA_SOURCES


def _to_split(dataset, image_key, label_key):
    images, labels = [], []
    for example in dataset.as_numpy_iterator():
        images.append(example[image_key])
        labels.append(example[label_key])
    if not images:
        raise DataError("the TFDS split is empty")
    if len({im.shape for im in images}) == 1:
        stacked = np.stack(images)
    else:
        stacked = np.empty(len(images), dtype=object)
        stacked[:] = images
    return Split(stacked, np.asarray(labels, dtype=np.int64))


def load_tfds(name, data_dir=None, train_split="train", test_split="test", download=False,
              image_key=None, label_key=None):
    """Loads a TFDS image dataset into memory; returns (train, test, class_names).

    The image and label features are the dataset's supervised keys, else
    "image" and "label", unless given.
    """
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
        if download:
            builder.download_and_prepare()
        supervised = builder.info.supervised_keys or ("image", "label")
        image_key, label_key = image_key or supervised[0], label_key or supervised[1]
        train = _to_split(builder.as_dataset(split=train_split), image_key, label_key)
        test = _to_split(builder.as_dataset(split=test_split), image_key, label_key) if test_split else None
    except DataError:
        raise
    except Exception as e:
        raise DataError(f"TFDS dataset {name!r} could not be read from {data_dir or 'the default data dir'}: "
                        f"{e.__class__.__name__}: {e}. Offline, prepare it first with "
                        f"`tfds build {name}` on a machine with network and copy the data dir.") from None
    label = builder.info.features[label_key]
    names = list(label.names) if getattr(label, "names", None) else [str(i) for i in range(label.num_classes)]
    return train, test, names


@DATA_SOURCES.register("tfds")
def tfds(name, data_dir=None, train_split="train", test_split="test", download=False, image_key=None,
         label_key=None):
    """A TFDS dataset, given as `tfds:NAME` in a recipe.

    Args:
        name: the TFDS name (`mnist`, `cifar10`, ...).
        data_dir: the TFDS data dir (default: TFDS's own).
        train_split: split used for training (TFDS split syntax, e.g. `train[:80%]`).
        test_split: split used for the test report; empty for none.
        download: prepare the dataset if it is not there (needs network).
        image_key, label_key: feature names (default: the supervised keys).

    Returns:
        A `SourceData` held in memory.
    """
    train, test, names = load_tfds(name, data_dir, train_split, test_split, download, image_key,
                                   label_key)
    return SourceData(train, test, names, origin=f"tfds:{name}")
