"""Augmentations by name, on Keras core layers, for batched tf.data pipelines."""

from kvision.augment import ops  # noqa: F401  (registers the named augmentations)
from kvision.augment.pipeline import build_augmenter
from kvision.augment.policy import parse_policy
from kvision.augment.rand_augment import RandAugment
from kvision.augment.resized_crop import RandomResizedCrop

__all__ = ["RandAugment", "RandomResizedCrop", "build_augmenter", "parse_policy"]
