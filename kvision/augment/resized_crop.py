"""Random resized crop (Szegedy et al. 2015, "Going deeper with convolutions"),
per image. Keras core has no such layer (RandomCrop uses one window per
batch and changes the size), so kvision has its own, for tf.data.
"""

import math

import tensorflow as tf


class RandomResizedCrop:
    """Crops a random area and aspect ratio of each image, resized back.

    Args:
        scale: (min, max) share of the image area kept.
        ratio: (min, max) aspect ratio (width / height) of the crop.
        seed: random seed.
    """

    def __init__(self, scale=(0.35, 1.0), ratio=(3 / 4, 4 / 3), seed=None):
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.seed = seed

    def __call__(self, images, training=True):
        if not training:
            return images
        images = tf.convert_to_tensor(images, tf.float32)
        batch = tf.shape(images)[0]
        seed = self.seed
        area = tf.random.uniform([batch], *self.scale, seed=seed)
        log_ratio = tf.random.uniform([batch], math.log(self.ratio[0]), math.log(self.ratio[1]),
                                      seed=None if seed is None else seed + 1)
        ratio = tf.exp(log_ratio)
        width = tf.minimum(tf.sqrt(area * ratio), 1.0)
        height = tf.minimum(tf.sqrt(area / ratio), 1.0)
        top = tf.random.uniform([batch], seed=None if seed is None else seed + 2) * (1.0 - height)
        left = tf.random.uniform([batch], seed=None if seed is None else seed + 3) * (1.0 - width)
        boxes = tf.stack([top, left, top + height, left + width], axis=1)
        size = tf.shape(images)[1:3]
        out = tf.image.crop_and_resize(images, boxes, tf.range(batch), size)
        return tf.ensure_shape(out, images.shape)
