"""kvision: image classifier training on Keras 3 (TensorFlow, JAX, PyTorch backends).

Import what you need from the subpackages:

    kvision.models     model builders (mlp, lenet5, ...)
    kvision.augment    augmentations and RandAugment
    kvision.data       data sources and the tf.data pipeline
    kvision.recipes    YAML recipes
    kvision.registry   registries for your own components
"""

__version__ = "0.1.0"
