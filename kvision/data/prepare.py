"""From a recipe's `data:` section to the splits of a run."""

import inspect
import logging

import numpy as np

from kvision.data.examples import DataBundle, Split
from kvision.data.splits import labeled_subset, select_classes, stratified_holdout
from kvision.errors import DataError
from kvision.recipes.checks import split_source
from kvision.registry import DATA_SOURCES

log = logging.getLogger("kvision")


def load_source(spec, options, seed=0):
    """Calls the registered source for `spec` ('name' or 'name:ARGUMENT')."""
    name, argument = split_source(spec)
    builder = DATA_SOURCES.get(name)
    kwargs = dict(options)
    params = inspect.signature(builder).parameters
    if argument is not None:
        kwargs[next(iter(params))] = argument
    if "seed" in params:
        kwargs["seed"] = seed
    return builder(**kwargs)


def infer_image_shape(split, image_size=None, channels=None):
    """The (height, width, channels) the pipeline will produce for `split`."""
    if split.kind == "files":
        from PIL import Image

        with Image.open(split.images[0]) as first:
            size = (first.height, first.width)
            source_channels = 1 if first.mode in ("L", "I", "I;16", "1") else 3
        if image_size is None:
            for path in split.images[1:50]:
                with Image.open(path) as other:
                    if (other.height, other.width) != size:
                        log.warning("images differ in size (%s is %dx%d, %s is %dx%d); all are resized "
                                    "to %dx%d. Set data.image_size: [height, width] to choose",
                                    split.images[0], *size, path, other.height, other.width, *size)
                        break
    else:
        first = split.images[0]
        size, source_channels = first.shape[:2], first.shape[-1]
        if split.kind == "ragged" and image_size is None:
            raise DataError("images of different sizes: set data.image_size: [height, width]")
    height, width = image_size or size
    return (int(height), int(width), int(channels or source_channels))


def prepare_data(config, seed=0):
    """Loads the source and makes the run's splits.

    Args:
        config: a `DataConfig`.
        seed: the recipe seed (splits are deterministic under it).

    Returns:
        A `DataBundle`.
    """
    source = load_source(config.source, config.source_options, seed)
    train, test, class_names = source.train, source.test, list(source.class_names)
    if config.classes:
        bad = [c for c in config.classes if not 0 <= c < len(class_names)]
        if bad:
            raise DataError(f"data.classes {bad} out of range: the source has {len(class_names)} classes")
        train = select_classes(train, config.classes)
        test = select_classes(test, config.classes) if test is not None else None
        class_names = [class_names[c] for c in config.classes]
    if len(train) == 0:
        raise DataError(f"data source {config.source!r} has no training images")
    if test is None:
        log.info("source has no test split: holding out 20%% of the training images as test")
        keep, held = stratified_holdout(train.labels, 0.2, seed)
        train, test = train.take(keep), train.take(held)
    keep, held = stratified_holdout(train.labels, config.validation_split, seed)
    validation = train.take(held)
    train = train.take(keep)
    unlabeled = Split(train.images[:0], train.labels[:0])
    if config.labeled_per_class:
        labeled, pool = labeled_subset(train.labels, config.labeled_per_class, seed, len(class_names))
        train, unlabeled = train.take(labeled), train.take(pool)
    shape = infer_image_shape(train, config.image_size, config.channels)
    log.info("data from %s: %d train, %d validation, %d test, %d unlabeled, images %s",
             source.origin, len(train), len(validation), len(test), len(unlabeled), shape)
    return DataBundle(train, validation, test, unlabeled, class_names, shape, source.origin)


def class_counts(split, num_classes):
    """Examples per class."""
    return np.bincount(split.labels, minlength=num_classes)
