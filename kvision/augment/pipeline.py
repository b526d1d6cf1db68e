"""Turns a list of augmentation specs into one batch function for tf.data."""

import tensorflow as tf

from kvision.registry import AUGMENTATIONS


def build_augmenter(specs, image_shape, seed=0):
    """Builds `augment(images, labels) -> (images, labels)` for batched tf.data.

    Args:
        specs: `AugmentSpec`s (or (name, options) pairs), applied in order.
        image_shape: (height, width, channels) of the images.
        seed: base seed; op i uses seed + i.

    Returns:
        The function, or None when `specs` is empty.
    """
    steps = []
    for i, spec in enumerate(specs):
        name, options = (spec.name, spec.options) if hasattr(spec, "name") else spec
        builder = AUGMENTATIONS.get(name)
        op = builder(image_shape=tuple(image_shape), seed=seed + i, **options)
        steps.append((op, builder.mixes_labels))
    if not steps:
        return None

    def augment(images, labels):
        for op, mixes_labels in steps:
            if mixes_labels:
                mixed = op({"images": images, "labels": labels}, training=True)
                images, labels = mixed["images"], tf.cast(mixed["labels"], labels.dtype)
            else:
                images = tf.cast(op(images, training=True), tf.float32)
        return tf.clip_by_value(images, 0.0, 255.0), labels

    return augment
