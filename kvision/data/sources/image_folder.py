"""A folder per class of JPEG/PNG images: the user's own data (`image_folder:PATH`).

Layouts:

    PATH/<class>/*.png                      (a test split is held out)
    PATH/train/<class>/*.png + PATH/test/<class>/*.png

Files are listed here and decoded later, inside the tf.data pipeline. Each
file is opened once with Pillow first, so a truncated or mislabelled file
is found before training, not in the middle of it.
"""

import logging
import os

import numpy as np

from kvision.data.examples import SourceData, Split
from kvision.data.splits import stratified_holdout
from kvision.errors import DataError
from kvision.registry import DATA_SOURCES

log = logging.getLogger("kvision")
EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


def _class_folders(root):
    return sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))
                  and not d.startswith("."))


def is_readable_image(path):
    """True if Pillow can fully decode the file."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
        return True
    except Exception:  # Pillow raises many kinds for broken files
        return False


def list_images(root, class_names, bad_files="skip"):
    """Lists (paths, labels) under root/<class>/, checking each file decodes.

    Args:
        root: the folder holding one folder per class.
        class_names: the class folders, in label order.
        bad_files: "skip" (warn and count) or "fail" (raise naming the file).

    Returns:
        (paths, labels) numpy arrays.
    """
    paths, labels, bad = [], [], []
    for label, name in enumerate(class_names):
        folder = os.path.join(root, name)
        files = sorted(f for f in os.listdir(folder) if f.lower().endswith(EXTENSIONS)) \
            if os.path.isdir(folder) else []
        if not files:
            raise DataError(f"class folder {folder} holds no images ({', '.join(EXTENSIONS)})")
        for f in files:
            path = os.path.join(folder, f)
            if is_readable_image(path):
                paths.append(path)
                labels.append(label)
            elif bad_files == "fail":
                raise DataError(f"cannot decode image {path} (truncated, empty or not an image); "
                                "fix or remove it, or set data.source_options.bad_files: skip")
            else:
                bad.append(path)
    if bad:
        log.warning("skipped %d unreadable image(s) under %s, e.g. %s", len(bad), root, bad[0])
    return np.array(paths), np.array(labels, dtype=np.int64)


@DATA_SOURCES.register("image_folder")
def image_folder(path, test_fraction=0.2, bad_files="skip", seed=0):
    """Images in a folder per class.

    Args:
        path: the root folder.
        test_fraction: share of each class held out as the test split when
            there are no train/ and test/ folders.
        bad_files: "skip" unreadable files with a warning and a count, or
            "fail" naming the first one.
        seed: seed of the test hold-out (set from the recipe's seed).

    Returns:
        A `SourceData` of file paths, decoded by the pipeline.
    """
    if bad_files not in ("skip", "fail"):
        raise DataError(f"bad_files must be 'skip' or 'fail', got {bad_files!r}")
    if not os.path.isdir(path):
        raise DataError(f"image folder not found: {path}")
    split_layout = all(os.path.isdir(os.path.join(path, s)) for s in ("train", "test"))
    train_root = os.path.join(path, "train") if split_layout else path
    class_names = _class_folders(train_root)
    if len(class_names) < 2:
        raise DataError(f"image folder {train_root} needs at least two class folders; found "
                        f"{len(class_names)} ({', '.join(class_names) or 'none'})")
    images, labels = list_images(train_root, class_names, bad_files)
    train = Split(images, labels)
    if split_layout:
        test = Split(*list_images(os.path.join(path, "test"), class_names, bad_files))
    else:
        keep, held = stratified_holdout(labels, test_fraction, seed)
        train, test = train.take(keep), train.take(held)
    return SourceData(train, test, class_names, origin=f"image_folder:{path}")


image_folder.check_arguments = (
    lambda path, **_: None if os.path.isdir(path) else f"image folder not found: {path}")
