"""The tf.data input pipeline that feeds every Keras backend.

decode/resize/convert per image -> cache -> shuffle -> batch -> augment the
batch (vectorised) -> one-hot labels -> prefetch. Images stay float32 in
[0, 255]: models rescale them themselves, so an exported model takes raw
pixels.
"""

import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE


def decode_file(path, channels):
    """Reads and decodes one JPEG/PNG/GIF/BMP file to a uint8 image with `channels` channels."""
    data = tf.io.read_file(path)
    image = tf.io.decode_image(data, channels=channels, expand_animations=False)
    return image


def fit_image(image, image_shape):
    """Resizes and converts one uint8/float image to image_shape, float32 in [0, 255]."""
    height, width, channels = image_shape
    have = image.shape[-1]
    if have is not None and have != channels:
        if have == 4:
            image = image[..., :3]
            have = 3
        if have == 1 and channels == 3:
            image = tf.image.grayscale_to_rgb(image)
        elif have == 3 and channels == 1:
            image = tf.image.rgb_to_grayscale(image)
    image = tf.cast(image, tf.float32)
    if image.shape[0] != height or image.shape[1] != width:
        image = tf.image.resize(image, (height, width), antialias=True)
        image = tf.clip_by_value(image, 0.0, 255.0)
    return tf.ensure_shape(image, image_shape)


def image_dataset(split, image_shape):
    """An unbatched dataset of (float32 image in [0, 255], int64 label)."""
    image_shape = tuple(image_shape)
    if split.kind == "files":
        ds = tf.data.Dataset.from_tensor_slices((split.images.astype(str), split.labels))
        ds = ds.map(lambda p, y: (fit_image(decode_file(p, image_shape[-1]), image_shape), y),
                    num_parallel_calls=AUTOTUNE)
    elif split.kind == "ragged":
        channels = split.images[0].shape[-1]
        ds = tf.data.Dataset.from_generator(
            lambda: zip(split.images, split.labels),
            output_signature=(tf.TensorSpec((None, None, channels), tf.uint8),
                              tf.TensorSpec((), tf.int64)))
        ds = ds.map(lambda x, y: (fit_image(x, image_shape), y), num_parallel_calls=AUTOTUNE)
    else:
        ds = tf.data.Dataset.from_tensor_slices((split.images, split.labels))
        if tuple(split.images.shape[1:]) != image_shape:
            ds = ds.map(lambda x, y: (fit_image(x, image_shape), y), num_parallel_calls=AUTOTUNE)
        else:
            ds = ds.map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=AUTOTUNE)
    return ds


def make_dataset(split, image_shape, num_classes, batch_size, *, training=False, augment=None,
                 seed=0, cache=True, shuffle_buffer=10000, one_hot=True, repeat=False, skip_batches=0,
                 extras=None, keep_clean=False, mask_unlabeled=False):
    """Builds the tf.data pipeline for one split.

    Args:
        split: a `Split`.
        image_shape: (height, width, channels) to produce.
        num_classes: for one-hot labels.
        batch_size: images per batch.
        training: shuffle (seeded) and augment.
        augment: a callable (images, one_hot_labels) -> (images, labels) on
            batches, run only when `training`.
        seed: shuffle seed.
        cache: keep decoded images in memory.
        shuffle_buffer: shuffle buffer size.
        one_hot: one-hot labels (needed by MixUp/CutMix and label smoothing).
            A label of -1 (unlabeled) becomes an all-zero row.
        repeat: repeat forever (for step-based training).
        skip_batches: batches to skip first (resuming); skipped before
            augmentation, so they cost little.
        extras: {name: array of len(split)} carried beside each image through
            cache, shuffle and batching (e.g. cached teacher logits).
        keep_clean: also give the un-augmented batch, as "clean".
        mask_unlabeled: add sample weights, 1 for labeled and 0 for unlabeled
            (label -1) examples.

    Returns:
        A `tf.data.Dataset` of (images, labels) batches; with extras or
        keep_clean the images become {"images", names of extras, "clean"};
        with mask_unlabeled a third element holds the weights.
    """
    ds = image_dataset(split, image_shape)
    structured = bool(extras) or keep_clean
    if extras:
        ds = tf.data.Dataset.zip((ds, tf.data.Dataset.from_tensor_slices(dict(extras))))
        ds = ds.map(lambda xy, extra: (xy[0], xy[1], extra))
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(min(shuffle_buffer, max(len(split), 1)), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=False)
    if skip_batches:
        ds = ds.skip(skip_batches)

    def finish(x, y, extra=None):
        weight = tf.cast(y >= 0, tf.float32)
        if one_hot:
            y = tf.one_hot(y, num_classes)
        clean = x
        if training and augment is not None:
            x, y = augment(x, y)
        if structured:
            x = {"images": x, **(extra or {})}
            if keep_clean:
                x["clean"] = clean
        return (x, y, weight) if mask_unlabeled else (x, y)

    ds = ds.map(finish, num_parallel_calls=AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    # Multi-worker runs shard by element (the data is in memory, not in files).
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    ds = ds.with_options(options)
    return ds.prefetch(AUTOTUNE)


def predict_split(predict, split, image_shape, num_classes, batch_size=512):
    """`predict(images)` over every image of `split`, un-augmented and in order, with a progress bar.

    Args:
        predict: batch of float32 images -> (batch, classes) outputs.
        split: a `Split`.
        image_shape, num_classes: as in `make_dataset`.
        batch_size: images per call.

    Returns:
        A float32 array (len(split), classes).
    """
    import keras
    import numpy as np

    progress = keras.utils.Progbar(len(split), unit_name="image")
    chunks = []
    for images, _ in make_dataset(split, image_shape, num_classes, batch_size, cache=False):
        chunks.append(keras.ops.convert_to_numpy(predict(images)).astype("float32"))
        progress.add(len(chunks[-1]))
    return np.concatenate(chunks) if chunks else np.zeros((0, num_classes), "float32")
