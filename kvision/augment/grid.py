"""The augmentation grid: what a recipe's augmentation does to real images."""

import numpy as np
import tensorflow as tf

from kvision.augment.pipeline import build_augmenter
from kvision.data.pipeline import image_dataset
from kvision.data.prepare import prepare_data
from kvision.report.plots import plot_augment_grid


def write_augment_grid(recipe, path, num_images=6, draws=5):
    """Draws `draws` augmentations of `num_images` training images into a PNG.

    Args:
        recipe: a validated `Recipe`.
        path: the PNG to write.
        num_images: rows (one image each, one per class where possible).
        draws: augmented columns per row.
    """
    data = prepare_data(recipe.data, recipe.seed)
    labels = data.train.labels
    picks = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)][:num_images]
    picks += [i for i in range(len(labels)) if i not in picks][: num_images - len(picks)]
    split = data.train.take(picks)
    images = next(iter(image_dataset(split, data.image_shape).batch(len(picks))))[0]
    one_hot = tf.one_hot(split.labels, data.num_classes)
    augment = build_augmenter(recipe.augment, data.image_shape, recipe.seed)
    out = [augment(images, one_hot)[0].numpy() if augment else images.numpy() for _ in range(draws)]
    plot_augment_grid(images.numpy(), np.stack(out), path, data.class_names, split.labels)
