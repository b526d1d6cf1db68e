"""The named augmentations a recipe can list, built on Keras core layers.

Every builder takes `image_shape` and `seed` (given by kvision) and its own
options, and returns a callable on float32 batches in [0, 255].
"""

import keras

from kvision.augment.rand_augment import RandAugment
from kvision.augment.registration import augmentation
from kvision.augment.resized_crop import RandomResizedCrop

VALUE_RANGE = (0, 255)


@augmentation("flip", short_keys={})
def flip(*, image_shape, seed, mode="horizontal"):
    """Random flip; mode: horizontal, vertical or horizontal_and_vertical."""
    return keras.layers.RandomFlip(mode, seed=seed)


@augmentation("pad_crop", short_keys={"p": "padding"})
def pad_crop(*, image_shape, seed, padding=4):
    """Pad-and-crop (zero padding, random crop back to size), per image.

    Implemented as an integer random translation with zero fill, which is
    the same transform.
    """
    height, width = image_shape[:2]
    return keras.layers.RandomTranslation(padding / height, padding / width, fill_mode="constant",
                                          interpolation="nearest", seed=seed)


@augmentation("resized_crop", short_keys={"s": "scale_min"})
def resized_crop(*, image_shape, seed, scale_min=0.35, scale_max=1.0, ratio_min=0.75, ratio_max=1.3333):
    """Random resized crop: a random area and aspect ratio, resized back."""
    return RandomResizedCrop((scale_min, scale_max), (ratio_min, ratio_max), seed=seed)


@augmentation("rotate", short_keys={"d": "degrees"})
def rotate(*, image_shape, seed, degrees=15.0, fill_mode="constant"):
    """Random rotation by up to +-degrees."""
    return keras.layers.RandomRotation(degrees / 360.0, fill_mode=fill_mode, seed=seed)


@augmentation("shear", short_keys={"f": "factor"})
def shear(*, image_shape, seed, factor=0.2, fill_mode="constant"):
    """Random shear along x and y by up to +-factor."""
    return keras.layers.RandomShear(x_factor=factor, y_factor=factor, fill_mode=fill_mode, seed=seed)


@augmentation("translate", short_keys={"f": "factor"})
def translate(*, image_shape, seed, factor=0.1, fill_mode="constant"):
    """Random translation by up to +-factor of height and width."""
    return keras.layers.RandomTranslation(factor, factor, fill_mode=fill_mode, seed=seed)


@augmentation("zoom", short_keys={"f": "factor"})
def zoom(*, image_shape, seed, factor=0.1, fill_mode="constant"):
    """Random zoom in or out by up to +-factor."""
    return keras.layers.RandomZoom(factor, fill_mode=fill_mode, seed=seed)


@augmentation("brightness", short_keys={"f": "factor"})
def brightness(*, image_shape, seed, factor=0.2):
    """Random brightness shift by up to +-factor of the value range."""
    return keras.layers.RandomBrightness(factor, value_range=VALUE_RANGE, seed=seed)


@augmentation("contrast", short_keys={"f": "factor"})
def contrast(*, image_shape, seed, factor=0.2):
    """Random contrast change by up to +-factor."""
    return keras.layers.RandomContrast(factor, value_range=VALUE_RANGE, seed=seed)


@augmentation("perspective", short_keys={"s": "scale", "p": "probability"})
def perspective(*, image_shape, seed, scale=0.3, probability=1.0):
    """Random perspective warp of strength `scale`, applied with `probability`."""
    return keras.layers.RandomPerspective(factor=probability, scale=scale, fill_value=0.0, seed=seed)


@augmentation("erasing", short_keys={"p": "probability"})
def erasing(*, image_shape, seed, probability=0.5, scale_min=0.02, scale_max=0.33):
    """Random erasing (Zhong et al. 2020): a random box filled with noise."""
    return keras.layers.RandomErasing(factor=probability, scale=(scale_min, scale_max),
                                      value_range=VALUE_RANGE, seed=seed)


@augmentation("randaugment", short_keys={"n": "num_ops", "m": "magnitude"})
def randaugment(*, image_shape, seed, num_ops=2, magnitude=9.0):
    """RandAugment (Cubuk et al. 2020) with operations drawn per image."""
    return RandAugment(num_ops=num_ops, magnitude=magnitude, channels=image_shape[-1], seed=seed)


@augmentation("keras_randaugment", short_keys={"n": "num_ops", "f": "factor"})
def keras_randaugment(*, image_shape, seed, num_ops=2, factor=0.5):
    """`keras.layers.RandAugment` as shipped (same ops for a whole batch), for comparison."""
    return keras.layers.RandAugment(value_range=VALUE_RANGE, num_ops=num_ops, factor=factor, seed=seed)


@augmentation("augmix", short_keys={"s": "severity", "w": "num_chains"})
def augmix(*, image_shape, seed, severity=0.3, num_chains=3, chain_depth=3, alpha=1.0):
    """AugMix (Hendrycks et al. 2020): a mixture of augmentation chains."""
    return keras.layers.AugMix(value_range=VALUE_RANGE, num_chains=num_chains,
                               chain_depth=chain_depth, factor=severity, alpha=alpha, seed=seed)


@augmentation("mixup", short_keys={"a": "alpha"}, mixes_labels=True)
def mixup(*, image_shape, seed, alpha=0.2):
    """MixUp (Zhang et al. 2018): convex mixes of image pairs and their labels."""
    return keras.layers.MixUp(alpha=alpha, seed=seed)


@augmentation("cutmix", short_keys={"a": "alpha"}, mixes_labels=True)
def cutmix(*, image_shape, seed, alpha=1.0):
    """CutMix (Yun et al. 2019): a box of another image pasted in, labels by area."""
    return keras.layers.CutMix(factor=alpha, seed=seed)
