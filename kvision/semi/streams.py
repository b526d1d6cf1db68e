"""tf.data streams for semi-supervised learners: labeled batches zipped with unlabeled ones."""

import tensorflow as tf

from kvision.augment import build_augmenter
from kvision.data import make_dataset
from kvision.errors import KvisionError


def require_unlabeled(data, learner):
    """Raises a clear error when the data has no unlabeled pool."""
    if not len(data.unlabeled):
        raise KvisionError(f"the {learner} learner needs unlabeled images, and the data has none: set "
                           "data.labeled_per_class to keep only some labels (the rest becomes the "
                           "unlabeled pool)")


def labeled_and_unlabeled(recipe, data, unlabeled_ratio, strong_augment=None, skip_batches=0,
                          clean_view=False):
    """Batches of {"labeled", "unlabeled", ["strong"], ["clean"], "unlabeled_truth"} with the labeled
    one-hot labels.

    Each step takes `batch_size` labeled images (augmented with the recipe's
    `augment`, the weak view) and `batch_size x unlabeled_ratio` unlabeled
    ones: their weak view, and with `strong_augment` a strong view of the
    same images (built from the un-augmented image). Both streams shuffle and
    repeat on their own.

    Args:
        recipe: the `Recipe` (data, augment, seed).
        data: the `DataBundle`; its unlabeled pool's labels are the hidden
            truth, passed as "unlabeled_truth" for metrics only.
        unlabeled_ratio: unlabeled images per labeled image in a step.
        strong_augment: a list of `AugmentSpec`, or None (no strong view).
        skip_batches: steps to skip (resuming).
        clean_view: also give the un-augmented unlabeled images, as "clean".

    Returns:
        A `tf.data.Dataset`.
    """
    cfg = recipe.data
    weak = build_augmenter(recipe.augment, data.image_shape, recipe.seed)
    strong = (build_augmenter(strong_augment, data.image_shape, recipe.seed + 1)
              if strong_augment is not None else None)
    needs_clean = strong is not None or clean_view  # the strong view is drawn from the clean image
    common = dict(image_shape=data.image_shape, num_classes=data.num_classes, cache=cfg.cache,
                  training=True, augment=weak, repeat=True, skip_batches=skip_batches,
                  shuffle_buffer=cfg.shuffle_buffer)
    labeled = make_dataset(data.train, batch_size=cfg.batch_size, seed=recipe.seed, **common)
    unlabeled = make_dataset(data.unlabeled, batch_size=cfg.batch_size * unlabeled_ratio,
                             seed=recipe.seed + 1, keep_clean=needs_clean, **common)

    def combine(labeled_batch, unlabeled_batch):
        images, labels = labeled_batch
        views, truth = unlabeled_batch
        features = {"labeled": images, "unlabeled_truth": tf.argmax(truth, axis=-1, output_type=tf.int32)}
        if needs_clean:
            features["unlabeled"] = views["images"]
        else:
            features["unlabeled"] = views
        if strong is not None:
            features["strong"], _ = strong(views["clean"], truth)
        if clean_view:
            features["clean"] = views["clean"]
        return features, labels

    return tf.data.Dataset.zip((labeled, unlabeled)).map(combine, num_parallel_calls=tf.data.AUTOTUNE) \
        .prefetch(tf.data.AUTOTUNE)
