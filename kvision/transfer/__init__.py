"""Transfer learning: reuse a pretrained backbone under a new head.

    replace_head(model, num_classes)   a new head, the same backbone variables
    freeze_backbone(model, ...)        linear probe or (partial) fine-tuning
    TransferLearner                    the `transfer` learner, usable without recipes
    scale_updates(optimizer, ...)      discriminative learning rates
"""

from kvision.transfer import pretrained  # noqa: F401  (registers the `pretrained` model)
from kvision.transfer.learner import TransferLearner
from kvision.transfer.surgery import backbone_blocks, freeze_backbone, replace_head, split_model
from kvision.transfer.update_scale import scale_updates

__all__ = ["TransferLearner", "backbone_blocks", "freeze_backbone", "replace_head", "scale_updates",
           "split_model"]
