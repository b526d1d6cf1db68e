"""RandAugment (Cubuk et al. 2020, "RandAugment: Practical automated data
augmentation with a reduced search space"), drawn per image.

Why kvision has its own: `keras.layers.RandAugment` (keras 3.15) draws its
operations once per call, so every image of a batch gets the same ones, and
computes all 11 operations for every slot, keeping one with `where`. Here
each image draws its own operations, and each operation runs only on the
images that drew it (`tf.dynamic_partition` / `tf.dynamic_stitch`).

The operations are Keras core layers. This runs inside tf.data (TensorFlow
ops, whatever the Keras backend), where the pipeline augments batches.
"""

import keras
import tensorflow as tf

VALUE_RANGE = (0, 255)
MAX_MAGNITUDE = 10.0


def rand_augment_ops(magnitude, channels, seed=None):
    """The operations, as (name, layer or None for identity), at `magnitude`.

    Geometric and colour strengths scale linearly with magnitude / 10; each
    layer draws a strength uniformly up to that bound with a random sign.
    """
    level = min(max(float(magnitude), 0.0), MAX_MAGNITUDE) / MAX_MAGNITUDE
    tiny = 1e-3  # Keras layers reject a zero factor range
    v = max(level, tiny)
    common = dict(seed=seed)
    ops = [
        ("identity", None),
        ("auto_contrast", keras.layers.AutoContrast(value_range=VALUE_RANGE)),
        ("equalize", keras.layers.Equalization(value_range=VALUE_RANGE)),
        ("rotate", keras.layers.RandomRotation(30.0 * v / 360.0, fill_mode="constant", **common)),
        ("solarize", keras.layers.Solarization(threshold_factor=(1.0 - v, 1.0),
                                               value_range=VALUE_RANGE, **common)),
        ("posterize", keras.layers.RandomPosterization(
            factor=(max(1, round(8 - 4 * level)), 8), value_range=VALUE_RANGE, **common)),
        ("contrast", keras.layers.RandomContrast(min(0.9 * v, 0.99), value_range=VALUE_RANGE, **common)),
        ("brightness", keras.layers.RandomBrightness(0.5 * v, value_range=VALUE_RANGE, **common)),
        ("sharpness", keras.layers.RandomSharpness(min(0.9 * v, 1.0), value_range=VALUE_RANGE, **common)),
        ("shear_x", keras.layers.RandomShear(x_factor=0.3 * v, y_factor=0.0, fill_mode="constant",
                                             **common)),
        ("shear_y", keras.layers.RandomShear(x_factor=0.0, y_factor=0.3 * v, fill_mode="constant",
                                             **common)),
        ("translate_x", keras.layers.RandomTranslation(0.0, 0.45 * v, fill_mode="constant", **common)),
        ("translate_y", keras.layers.RandomTranslation(0.45 * v, 0.0, fill_mode="constant", **common)),
    ]
    if channels == 3:
        ops.append(("color", keras.layers.RandomColorDegeneration(min(0.9 * v, 1.0),
                                                                  value_range=VALUE_RANGE, **common)))
    return ops


class RandAugment:
    """Applies `num_ops` random operations to each image of a batch.

    Args:
        num_ops: operations applied in sequence to each image (N).
        magnitude: strength on the paper's 0-10 scale (M).
        channels: image channels (1 or 3); colour ops need 3.
        seed: seed of the per-image draws.

    Call with a float batch (B, H, W, C) in [0, 255]; returns the same shape.

    Example:

    ```python
    augment = RandAugment(num_ops=2, magnitude=9, channels=1)
    ds = ds.batch(128).map(lambda x, y: (augment(x), y))
    ```
    """

    def __init__(self, num_ops=2, magnitude=9.0, channels=3, seed=None):
        self.num_ops = int(num_ops)
        self.magnitude = float(magnitude)
        self.seed = seed
        self.ops = rand_augment_ops(magnitude, channels, seed)
        self.op_names = [name for name, _ in self.ops]

    def draw(self, batch_size, slot):
        """The operation index each image uses in `slot`: int32 (B,)."""
        seed = None if self.seed is None else self.seed * 1009 + slot
        return tf.random.uniform([batch_size], 0, len(self.ops), dtype=tf.int32, seed=seed)

    def apply_choices(self, images, choices):
        """Applies operation `choices[i]` to image i, each op only on its images."""
        batch_size = tf.shape(images)[0]
        parts = tf.dynamic_partition(images, choices, len(self.ops))
        positions = tf.dynamic_partition(tf.range(batch_size), choices, len(self.ops))
        results = [part if layer is None else _apply_nonempty(layer, part)
                   for (_, layer), part in zip(self.ops, parts)]
        out = tf.dynamic_stitch(positions, results)
        return tf.ensure_shape(out, images.shape)

    def __call__(self, images, training=True):
        if not training or self.num_ops == 0:
            return images
        images = tf.convert_to_tensor(images, tf.float32)
        batch_size = tf.shape(images)[0]
        for slot in range(self.num_ops):
            images = self.apply_choices(images, self.draw(batch_size, slot))
        return images


def _apply_nonempty(layer, images):
    """Calls `layer` on a sub-batch, skipping it when no image drew the op."""
    return tf.cond(tf.shape(images)[0] > 0,
                   lambda: tf.cast(layer(images, training=True), images.dtype),
                   lambda: images)
