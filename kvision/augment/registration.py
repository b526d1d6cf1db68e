"""How augmentations are registered: a builder plus its policy-string keys."""

from kvision.registry import AUGMENTATIONS


def augmentation(name, short_keys=None, mixes_labels=False):
    """Registers an augmentation builder.

    A builder is called as `builder(image_shape=..., seed=..., **options)` and
    returns a callable on image batches (or, if `mixes_labels`, on
    `{"images", "labels"}` dicts).

    Args:
        name: the recipe name.
        short_keys: letters for policy strings, e.g. {"n": "num_ops",
            "m": "magnitude"} so that `randaugment-n2-m9` parses.
        mixes_labels: the op mixes images and labels (MixUp, CutMix).

    Returns:
        The decorator.
    """

    def decorator(builder):
        builder.short_keys = dict(short_keys or {})
        builder.mixes_labels = mixes_labels
        return AUGMENTATIONS.register(name)(builder)

    return decorator
