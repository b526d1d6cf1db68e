"""kvision: image classifier training on Keras 3 (TensorFlow, JAX, PyTorch backends).

Import what you need from the subpackages:

    kvision.models     model builders (mlp, lenet5, ...)
    kvision.augment    augmentations and RandAugment
    kvision.data       data sources and the tf.data pipeline
    kvision.recipes    YAML recipes
    kvision.registry   registries for your own components
    kvision.transfer   transfer learning: replace_head, freeze_backbone, TransferLearner
    kvision.distill    knowledge distillation: Distiller

`kvision.Distiller` is importable from the top level too.
"""

__version__ = "0.1.0"


def __getattr__(name):  # lazy, so that `import kvision` does not import Keras
    if name == "Distiller":
        from kvision.distill import Distiller

        return Distiller
    raise AttributeError(f"module 'kvision' has no attribute {name!r}")
