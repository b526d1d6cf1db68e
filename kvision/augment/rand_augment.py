"""RandAugment (Cubuk et al. 2020, "RandAugment: Practical automated data
augmentation with a reduced search space"), drawn per image.

Why kvision has its own: `keras.layers.RandAugment` (keras 3.15) draws its
operations once per call, so every image of a batch gets the same ones, and
computes all 11 operations for every slot, keeping one with `where`. Here
each image draws its own operations, and each operation runs only on the
images that drew it (`tf.dynamic_partition` / `tf.dynamic_stitch`).

The operations are written over the TensorFlow image kernels that Keras'
own preprocessing layers call inside tf.data (ImageProjectiveTransformV3,
depthwise convolution, bincount), not over the layers themselves: a Keras
layer call costs 100-300 us of fixed overhead in a tf.data graph even on
ten images, which would eat the gain of running each op on few images.
This runs inside tf.data (TensorFlow ops, whatever the Keras backend).
"""

import math

import tensorflow as tf

MAX_MAGNITUDE = 10.0


def _per_image(values):
    return values[:, None, None, None]


def _blend(degenerate, images, factor):
    """PIL's ImageEnhance: degenerate + factor * (images - degenerate)."""
    return degenerate + _per_image(factor) * (images - degenerate)


def _project(images, transforms):
    size = tf.shape(images)[1:3]
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=size, fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT")


GEOMETRIC = ("rotate", "shear_x", "shear_y", "translate_x", "translate_y")


def _geometric_table(height, width):
    """Per kind, the transform rows as coefficients of [1, s, cos(a), sin(a)]: (5, 4, 6).

    s is the signed strength and a = 30 degrees x s. Row layout is that of
    ImageProjectiveTransformV3: [a0, a1, a2, b0, b1, b2].
    """
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    identity = [1, 0, 0, 0, 1, 0]
    zero = [0] * 6
    table = [
        [[0, 0, cx, 0, 0, cy], zero, [1, 0, -cx, 0, 1, -cy], [0, -1, cy, 1, 0, -cx]],  # rotate
        [identity, [0, 0.3, -0.3 * cy, 0, 0, 0], zero, zero],  # shear_x
        [identity, [0, 0, 0, 0.3, 0, -0.3 * cx], zero, zero],  # shear_y
        [identity, [0, 0, -0.45 * width, 0, 0, 0], zero, zero],  # translate_x
        [identity, [0, 0, 0, 0, 0, -0.45 * height], zero, zero],  # translate_y
    ]
    return tf.constant(table, tf.float32)


def _geometric(images, kinds, s):
    """Rotations, shears and translations in one warp: image i gets GEOMETRIC[kinds[i]].

    Each output pixel reads from its mapped input point (bilinear, zero fill).
    """
    height, width = images.shape[1], images.shape[2]
    angle = s * (30.0 * math.pi / 180.0)
    terms = tf.stack([tf.ones_like(s), s, tf.cos(angle), tf.sin(angle)], axis=1)  # (n, 4)
    coefficients = tf.gather(_geometric_table(height, width), kinds)  # (n, 4, 6)
    rows = tf.einsum("nc,ncd->nd", terms, coefficients)
    transforms = tf.concat([rows, tf.zeros_like(rows[:, :2])], axis=1)
    return _project(images, transforms)


def _auto_contrast(images, s):
    low = tf.reduce_min(images, axis=(1, 2), keepdims=True)
    high = tf.reduce_max(images, axis=(1, 2), keepdims=True)
    spread = high - low
    scaled = (images - low) * (255.0 / tf.maximum(spread, 1e-3))
    return tf.where(spread > 0, scaled, images)


def _equalize(images, s):
    """Histogram equalisation per image and channel."""
    shape = tf.shape(images)
    n, channels = shape[0], shape[3]
    flat = tf.reshape(tf.transpose(images, [0, 3, 1, 2]), [n * channels, -1])
    values = tf.cast(tf.clip_by_value(flat, 0.0, 255.0), tf.int32)
    rows = n * channels
    offsets = values + 256 * tf.range(rows)[:, None]
    hist = tf.reshape(tf.math.bincount(tf.reshape(offsets, [-1]), minlength=rows * 256,
                                       maxlength=rows * 256), [rows, 256])
    cdf = tf.cast(tf.cumsum(hist, axis=1), tf.float32)
    pixels = tf.cast(tf.shape(flat)[1], tf.float32)
    cdf_min = tf.reduce_min(tf.where(hist > 0, cdf, pixels), axis=1, keepdims=True)
    lut = (cdf - cdf_min) / tf.maximum(pixels - cdf_min, 1.0) * 255.0
    out = tf.gather(lut, values, batch_dims=1)
    out = tf.where(pixels - cdf_min > 0, out, flat)
    return tf.transpose(tf.reshape(out, [n, channels, shape[1], shape[2]]), [0, 2, 3, 1])


def _solarize(images, s):
    threshold = 255.0 - 255.0 * tf.abs(s)
    return tf.where(images >= _per_image(threshold), 255.0 - images, images)


def _posterize(images, s):
    bits = 8.0 - tf.round(4.0 * tf.abs(s))
    step = _per_image(tf.pow(2.0, 8.0 - bits))
    return tf.floor(images / step) * step


def _contrast(images, s):
    mean = tf.reduce_mean(images, axis=(1, 2, 3), keepdims=True)
    return _blend(mean, images, 1.0 + 0.9 * s)


def _brightness(images, s):
    return _blend(tf.zeros_like(images), images, 1.0 + 0.9 * s)


def _sharpness(images, s):
    channels = images.shape[-1]
    kernel = tf.constant([[1, 1, 1], [1, 5, 1], [1, 1, 1]], tf.float32) / 13.0
    kernel = tf.tile(kernel[:, :, None, None], [1, 1, channels, 1])
    blurred = tf.nn.depthwise_conv2d(images, kernel, [1, 1, 1, 1], "SAME")
    return _blend(blurred, images, 1.0 + 0.9 * s)


def _color(images, s):
    gray = tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(images))
    return _blend(gray, images, 1.0 + 0.9 * s)


_OPS = {
    "identity": None,
    "auto_contrast": _auto_contrast,
    "equalize": _equalize,
    "rotate": "geometric",
    "solarize": _solarize,
    "posterize": _posterize,
    "contrast": _contrast,
    "brightness": _brightness,
    "sharpness": _sharpness,
    "shear_x": "geometric",
    "shear_y": "geometric",
    "translate_x": "geometric",
    "translate_y": "geometric",
    "color": _color,
}
COLOR_ONLY = ("color",)


def rand_augment_ops(channels):
    """The operations, as (name, fn or None for identity), for `channels`-channel images.

    Each fn maps (images, strength) to images: a float batch in [0, 255] and
    a signed per-image strength in [-1, 1] (magnitude / 10 at most; ops
    without a direction use its absolute value). The geometric ops are
    marked "geometric" instead: they share one warp (`_geometric`), each
    image with its own transform.
    """
    ops = []
    for name, fn in _OPS.items():
        if name in COLOR_ONLY and channels != 3:
            continue
        ops.append((name, fn if fn in (None, "geometric") else _clipped(fn)))
    return ops


def _clipped(fn):
    def op(images, strength):
        return tf.clip_by_value(fn(images, strength), 0.0, 255.0)

    return op


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
        self.ops = rand_augment_ops(channels)
        self._level = min(max(self.magnitude, 0.0), MAX_MAGNITUDE) / MAX_MAGNITUDE

    @property
    def op_names(self):
        return [name for name, _ in self.ops]

    def draw(self, batch_size, key):
        """The operation index of each image, from stateless seed `key`: int32 (B,)."""
        return tf.random.stateless_uniform([batch_size], key, 0, len(self.ops), dtype=tf.int32)

    def strengths(self, batch_size, key):
        """Per-image signed strengths, uniform in [-level, level]: float32 (B,)."""
        return tf.random.stateless_uniform([batch_size], key, -self._level, self._level)

    def apply_choices(self, images, choices, strengths):
        """Applies operation `choices[i]` to image i, each op only on its images.

        The images are partitioned by op; the geometric ops form one group
        whose images go through one warp, each with its own transform.
        """
        geometric = [i for i, (_, op) in enumerate(self.ops) if op == "geometric"]
        others = [i for i in range(len(self.ops)) if i not in geometric]
        group_of = [0] * len(self.ops)
        for g, i in enumerate(others):
            group_of[i] = g
        for i in geometric:
            group_of[i] = len(others)
        # The warp's kind is looked up by name, not by position among the ops.
        kind_of = [GEOMETRIC.index(name) if op == "geometric" else 0 for name, op in self.ops]
        groups = tf.gather(tf.constant(group_of, tf.int32), choices)
        num_groups = len(others) + (1 if geometric else 0)
        batch_size = tf.shape(images)[0]
        parts = tf.dynamic_partition(images, groups, num_groups)
        positions = tf.dynamic_partition(tf.range(batch_size), groups, num_groups)
        strength_parts = tf.dynamic_partition(strengths, groups, num_groups)
        results = []
        for g, i in enumerate(others):
            op = self.ops[i][1]
            results.append(parts[g] if op is None else op(parts[g], strength_parts[g]))
        if geometric:
            geometric_choices = tf.dynamic_partition(choices, groups, num_groups)[-1]
            kinds = tf.gather(tf.constant(kind_of, tf.int32), geometric_choices)
            warped = _geometric(parts[-1], kinds, strength_parts[-1])
            results.append(tf.clip_by_value(warped, 0.0, 255.0))
        out = tf.dynamic_stitch(positions, results)
        return tf.ensure_shape(out, images.shape)

    def __call__(self, images, training=True):
        if not training or self.num_ops == 0:
            return images
        images = tf.convert_to_tensor(images, tf.float32)
        batch_size = tf.shape(images)[0]
        batch_key = tf.random.uniform([2], 0, 2**31 - 1, dtype=tf.int32, seed=self.seed)
        for slot in range(self.num_ops):
            key = tf.random.experimental.stateless_fold_in(batch_key, slot)
            choices = self.draw(batch_size, tf.random.experimental.stateless_fold_in(key, 1))
            strengths = self.strengths(batch_size, tf.random.experimental.stateless_fold_in(key, 2))
            images = self.apply_choices(images, choices, strengths)
        return images
