"""Fashion-MNIST (Xiao et al. 2017), found offline wherever it already is.

Looked for, in order: a prepared TFDS data dir, the Keras dataset cache,
Debian's `dataset-fashion-mnist` package, and only then a download.
"""

import glob
import os

import numpy as np

from kvision.data.examples import SourceData, Split
from kvision.data.idx import read_idx
from kvision.errors import DataError
from kvision.registry import DATA_SOURCES

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"


def tfds_dir(data_dir=None):
    """The TFDS data dir kvision looks in: the argument, $TFDS_DATA_DIR, ~/tensorflow_datasets."""
    return data_dir or os.environ.get("TFDS_DATA_DIR") or os.path.expanduser("~/tensorflow_datasets")


def keras_cache_dir():
    """The folder where `keras.datasets.fashion_mnist` keeps its files."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "datasets", "fashion-mnist")


def find_idx_files(folder):
    """Returns the four IDX paths in `folder` (gzipped or not), or None."""
    paths = []
    for name in IDX_FILES:
        for candidate in (os.path.join(folder, name + ".gz"), os.path.join(folder, name)):
            if os.path.isfile(candidate):
                paths.append(candidate)
                break
        else:
            return None
    return paths


def load_idx_folder(folder):
    """Loads Fashion-MNIST from the four IDX files in `folder`."""
    x_train, y_train, x_test, y_test = (read_idx(p) for p in find_idx_files(folder))
    return (Split(x_train[..., None], y_train.astype(np.int64)),
            Split(x_test[..., None], y_test.astype(np.int64)))


@DATA_SOURCES.register("fashion_mnist")
def fashion_mnist(data_dir=None, download=True):
    """Fashion-MNIST: 60,000 training and 10,000 test 28x28 grayscale images, 10 classes.

    Args:
        data_dir: a TFDS data dir to look in first (default $TFDS_DATA_DIR
            or ~/tensorflow_datasets).
        download: allow a download when no local copy is found.

    Returns:
        A `SourceData`.

    Raises:
        DataError: no local copy and no download possible; names every place
            looked in.
    """
    looked = []
    prepared = tfds_dir(data_dir)
    if glob.glob(os.path.join(prepared, "fashion_mnist", "*", "dataset_info.json")):
        from kvision.data.sources.tfds_source import load_tfds

        train, test, names = load_tfds("fashion_mnist", data_dir=prepared)
        return SourceData(train, test, names, origin=f"TFDS data dir {prepared}")
    looked.append(f"TFDS data dir {prepared}/fashion_mnist")
    for label, folder in (("Keras cache", keras_cache_dir()), ("Debian package", DEBIAN_DIR)):
        if find_idx_files(folder):
            train, test = load_idx_folder(folder)
            return SourceData(train, test, list(CLASS_NAMES), origin=f"{label} {folder}")
        looked.append(f"{label} {folder}")
    if download:
        try:
            import keras

            (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
            return SourceData(Split(x_train[..., None], y_train.astype(np.int64)),
                              Split(x_test[..., None], y_test.astype(np.int64)),
                              list(CLASS_NAMES), origin="downloaded by keras.datasets")
        except Exception as e:  # no network: urllib raises several kinds
            looked.append(f"download by keras.datasets (failed: {e.__class__.__name__}: {e})")
    else:
        looked.append("download (disabled by download: false)")
    raise DataError(
        "Fashion-MNIST not found. Looked in:\n  - " + "\n  - ".join(looked) +
        "\nInstall it offline with `apt-get install dataset-fashion-mnist` (Debian), or copy the "
        f"four .gz files into {keras_cache_dir()}."
    )
