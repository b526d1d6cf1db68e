"""Model builders: `builder(input_shape, num_classes, **options) -> keras.Model`."""

from kvision.models import alexnet, knn, lenet, mlp, vgg  # noqa: F401  (registers the builders)
from kvision.models.classifier import get_backbone, get_head, image_classifier
from kvision.registry import MODELS


def build_model(name, input_shape, num_classes, **options):
    """Builds the registered model `name`."""
    return MODELS.get(name)(tuple(input_shape), num_classes, **options)


__all__ = ["build_model", "get_backbone", "get_head", "image_classifier"]
