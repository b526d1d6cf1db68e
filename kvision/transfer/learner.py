"""The `transfer` learner: linear probe, fine-tuning, or linear probe then fine-tuning.

- linear_probe: the backbone is frozen and only the new head trains.
- finetune: the backbone trains too (all of it, or its last blocks), at
  `backbone_lr_multiplier` x the head's learning rate (discriminative
  learning rates, Howard and Ruder 2018, "Universal language model
  fine-tuning for text classification").
- lp_ft: `probe_epochs` of linear probing, then fine-tuning (Kumar et al.
  2022, "Fine-tuning can distort pretrained features and underperform
  out-of-distribution"): the head is trained before the backbone sees its
  gradients, so a random head does not wreck the pretrained features.

BatchNormalization layers of the backbone stay frozen by default, which in
Keras also keeps them in inference mode: their moving statistics do not move.
"""

import keras

from kvision.backend import resolve_jit_compile
from kvision.learners.classify import classification_loss
from kvision.learners.wrapper import ModelLearner
from kvision.registry import LEARNERS
from kvision.transfer.partial_updates import allow_partial_updates
from kvision.transfer.surgery import freeze_backbone, split_model
from kvision.transfer.update_scale import scale_updates

MODES = ("linear_probe", "finetune", "lp_ft")
UNFREEZE = ("all", "last_n_blocks")


@keras.saving.register_keras_serializable("kvision")
class TransferLearner(ModelLearner):
    """Trains a classifier whose backbone was pretrained; `learner.model` is the artefact.

    Usable without recipes:

    ```python
    model = kvision.transfer.replace_head(pretrained, num_classes=5)
    learner = TransferLearner(model, mode="lp_ft", probe_epochs=2, backbone_lr_multiplier=0.1)
    learner.compile(optimizer=keras.optimizers.Adam(1e-3),
                    loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                    metrics=["accuracy"])
    learner.fit(dataset, epochs=6)   # 2 epochs linear probe, 4 fine-tuning
    learner.model.save("model.keras")
    ```

    Args:
        model: a kvision classifier (backbone + head) with the target's
            class count (see `replace_head`).
        mode: "linear_probe", "finetune" or "lp_ft".
        backbone_lr_multiplier: the backbone's learning rate as a fraction
            of the head's, when it trains.
        unfreeze: "all" or "last_n_blocks" (then `blocks` of them), when the
            backbone trains.
        blocks: blocks unfrozen by "last_n_blocks".
        probe_epochs: epochs of linear probing before fine-tuning (lp_ft).
        freeze_batch_norm: keep the backbone's BatchNormalization layers
            frozen and in inference mode.
    """

    CONFIG_KEYS = ("mode", "backbone_lr_multiplier", "unfreeze", "blocks", "probe_epochs",
                   "freeze_batch_norm")

    def __init__(self, model, mode="finetune", backbone_lr_multiplier=0.1, unfreeze="all", blocks=1,
                 probe_epochs=1, freeze_batch_norm=True, **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}. Received: {mode!r}")
        if unfreeze not in UNFREEZE:
            raise ValueError(f"unfreeze must be one of {', '.join(UNFREEZE)}. Received: {unfreeze!r}")
        split_model(model)  # fails early on a model without a backbone
        self.model = model
        self.mode = mode
        self.backbone_lr_multiplier = float(backbone_lr_multiplier)
        self.unfreeze = unfreeze
        self.blocks = int(blocks)
        self.probe_epochs = int(probe_epochs)
        self.freeze_batch_norm = bool(freeze_batch_norm)
        self.phase = None
        self._set_phase(self.phase_at(0))

    @property
    def phase_starts(self):
        """Epochs at which a new phase begins (training must call `fit` per phase)."""
        return [0, self.probe_epochs] if self.mode == "lp_ft" else [0]

    def phase_at(self, epoch):
        """"probe" (backbone frozen) or "tune" (backbone training) at `epoch`."""
        if self.mode == "linear_probe" or (self.mode == "lp_ft" and epoch < self.probe_epochs):
            return "probe"
        return "tune"

    def _set_phase(self, phase):
        if phase == self.phase:
            return False
        freeze_backbone(self.model, unfreeze="none" if phase == "probe" else self.unfreeze,
                        blocks=self.blocks, freeze_batch_norm=self.freeze_batch_norm)
        self.phase = phase
        return True

    def enter_phase(self, epoch):
        """Sets the trainable layers for `epoch`; the train step is re-made when they change."""
        if self._set_phase(self.phase_at(epoch)):
            self.train_function = None  # fit traces a new one over the new trainable variables

    def variables_trained(self):
        """Every variable that some phase trains (the optimizer is built over all of them)."""
        phase = self.phase
        self._set_phase("tune" if self.mode != "linear_probe" else "probe")
        variables = list(self.model.trainable_weights)
        self._set_phase(phase)
        return variables

    def compile(self, optimizer="rmsprop", **kwargs):
        """As `keras.Model.compile`; also builds the optimizer over every variable any phase trains
        and slows the backbone's updates by `backbone_lr_multiplier`."""
        super().compile(optimizer=optimizer, **kwargs)
        _, backbone, _ = split_model(self.model)
        if not self.optimizer.built:
            self.optimizer.build(self.variables_trained())
        if not hasattr(self.optimizer, "_kvision_update_multiplier"):
            scale_updates(self.optimizer, backbone.weights, self.backbone_lr_multiplier)
            allow_partial_updates(self.optimizer, lambda: self.trainable_variables)

    def fit(self, *args, epochs=1, initial_epoch=0, **kwargs):
        """As `keras.Model.fit`; an lp_ft run crossing `probe_epochs` is fit in two parts (the
        second restarts iterating the data)."""
        boundary = self.probe_epochs if self.mode == "lp_ft" else 0
        if initial_epoch < boundary < epochs:
            self.enter_phase(initial_epoch)
            first = super().fit(*args, epochs=boundary, initial_epoch=initial_epoch, **kwargs)
            self.enter_phase(boundary)
            second = super().fit(*args, epochs=epochs, initial_epoch=boundary, **kwargs)
            for key, values in first.history.items():
                second.history[key] = values + second.history.get(key, [])
            second.epoch = first.epoch + second.epoch
            return second
        self.enter_phase(initial_epoch)
        return super().fit(*args, epochs=epochs, initial_epoch=initial_epoch, **kwargs)


@LEARNERS.register("transfer")
def transfer(model, optimizer, config):
    """Compiles a `TransferLearner` around `model` with the recipe's `train.transfer` settings.

    Args:
        model: a classifier with a pretrained backbone (model `pretrained`).
        optimizer: a Keras optimizer; its learning rate is the head's.
        config: the recipe's `TrainConfig`.

    Returns:
        The compiled learner; `learner.model` (== `model`) is the artefact.
    """
    settings = config.transfer
    learner = TransferLearner(model, mode=settings.mode,
                              backbone_lr_multiplier=settings.backbone_lr_multiplier,
                              unfreeze=settings.unfreeze, blocks=settings.blocks,
                              probe_epochs=settings.probe_epochs,
                              freeze_batch_norm=settings.freeze_batch_norm)
    learner.compile(optimizer=optimizer, loss=classification_loss(config.label_smoothing),
                    metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
                    jit_compile=resolve_jit_compile(config.jit_compile))
    return learner
