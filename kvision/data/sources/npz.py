"""Arrays from a NumPy `.npz` file (`npz:PATH`)."""

import os

import numpy as np

from kvision.data.examples import SourceData, Split
from kvision.errors import DataError
from kvision.registry import DATA_SOURCES

KEYS = ("x_train", "y_train", "x_test", "y_test")


def _images(array, path, key):
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[-1] not in (1, 3, 4):
        raise DataError(f"{path}: {key!r} must have shape (N, H, W) or (N, H, W, C) with C in 1, 3, 4; "
                        f"found {array.shape}")
    if array.dtype != np.uint8:
        if array.max() <= 1.0:
            array = array * 255.0
        array = np.clip(np.round(array), 0, 255).astype(np.uint8)
    return array[..., :3] if array.shape[-1] == 4 else array


@DATA_SOURCES.register("npz")
def npz(path, class_names=None):
    """Images and labels from an `.npz` file with keys x_train, y_train, x_test, y_test.

    Images are uint8 (N, H, W[, C]) or floats in [0, 1]; labels are class
    indices. The test keys are optional.

    Args:
        path: the `.npz` file.
        class_names: names for the label indices (default: the indices).

    Returns:
        A `SourceData`.
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as e:
        raise DataError(f"{path}: cannot read as .npz ({e.__class__.__name__}: {e})") from None
    missing = [k for k in KEYS[:2] if k not in arrays]
    if missing:
        raise DataError(f"{path}: missing keys {missing}; found {sorted(arrays)}; expected {list(KEYS)}")
    train = Split(_images(arrays["x_train"], path, "x_train"), arrays["y_train"].astype(np.int64).ravel())
    test = None
    if "x_test" in arrays and "y_test" in arrays:
        test = Split(_images(arrays["x_test"], path, "x_test"), arrays["y_test"].astype(np.int64).ravel())
    num_classes = int(max(train.labels.max(), -1 if test is None else test.labels.max())) + 1
    names = list(class_names) if class_names else [str(i) for i in range(num_classes)]
    return SourceData(train, test, names, origin=f"npz:{path}")


npz.check_arguments = lambda path, **_: None if os.path.isfile(path) else f"file not found: {path}"
