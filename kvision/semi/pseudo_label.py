"""The `pseudo_label` learner: a model labels unlabeled images itself and learns from them.

Variants:

- lee2013: every unlabeled image gets the model's argmax as its label (Lee
  2013); the unlabeled loss weight ramps up from 0 (`kvision.semi.ramp`).
- threshold: the same, keeping only the images whose top probability is at
  least `confidence_threshold`.

  For both, `label_view` says where the label comes from: "same" (the
  model's training-mode output on the very view it trains on, as in Lee
  2013; a label the model already agrees with, so the loss is near zero) or
  "clean" (its inference-mode output on the un-augmented image, so the
  augmented view is pulled towards the clean prediction).
- fixmatch: the label comes from a weakly augmented view, the loss from a
  strongly augmented view of the same image, kept above the threshold (Sohn
  et al. 2020, "FixMatch: simplifying semi-supervised learning with
  consistency and confidence").

Pseudo-labels are computed without gradient. The labeled, unlabeled and
(FixMatch) strong views go through the model in one batch, as in FixMatch,
so BatchNorm sees them together.
"""

import keras
from keras import ops

from kvision.backend import resolve_jit_compile
from kvision.learners.wrapper import ModelLearner
from kvision.registry import LEARNERS
from kvision.semi.ramp import rampup_weight

VARIANTS = ("lee2013", "threshold", "fixmatch")
LABEL_VIEWS = ("same", "clean")


@keras.saving.register_keras_serializable("kvision")
class PseudoLabelLearner(ModelLearner):
    """Trains `model` on labeled batches plus its own pseudo-labels for unlabeled batches.

    Training inputs are a dict: "labeled" images (their one-hot labels are
    the targets), "unlabeled" images (the weak view), "strong" (FixMatch: the
    strong view of the same unlabeled images) and optionally
    "unlabeled_truth" (hidden labels, used only for the pseudo-label
    accuracy metric, never for the loss). Evaluation takes plain images.

    Args:
        model: the classifier being trained (the artefact).
        variant: "lee2013", "threshold" or "fixmatch".
        confidence_threshold: minimum top probability of a kept pseudo-label
            (threshold, fixmatch).
        unlabeled_weight: weight of the unlabeled loss after the ramp.
        rampup_start: step at which the weight starts rising from 0.
        rampup_steps: steps over which it rises (0: at once).
        label_smoothing: label smoothing of the labeled cross-entropy.
        label_view: lee2013 and threshold: "same" or "clean" (inputs then carry
            "clean", the un-augmented unlabeled images).
    """

    CONFIG_KEYS = ("variant", "confidence_threshold", "unlabeled_weight", "rampup_start", "rampup_steps",
                   "label_smoothing", "label_view")

    def __init__(self, model, variant="fixmatch", confidence_threshold=0.95, unlabeled_weight=1.0,
                 rampup_start=0, rampup_steps=0, label_smoothing=0.0, label_view="same", **kwargs):
        super().__init__(**kwargs)
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}. Received: {variant!r}")
        if label_view not in LABEL_VIEWS:
            raise ValueError(f"label_view must be one of {', '.join(LABEL_VIEWS)}. Received: {label_view!r}")
        self.model = model
        self.variant = variant
        self.confidence_threshold = float(confidence_threshold)
        self.unlabeled_weight = float(unlabeled_weight)
        self.rampup_start = int(rampup_start)
        self.rampup_steps = int(rampup_steps)
        self.label_smoothing = float(label_smoothing)
        self.label_view = label_view
        self.labeled_loss_tracker = keras.metrics.Mean(name="labeled_loss")
        self.unlabeled_loss_tracker = keras.metrics.Mean(name="unlabeled_loss")
        self.kept_tracker = keras.metrics.Mean(name="kept_fraction")
        self.pseudo_accuracy_tracker = keras.metrics.Mean(name="pseudo_label_accuracy")
        # The ramp's clock. Not optimizer.iterations: Keras' JAX trainer does not map optimizer
        # variables into compute_loss, where they read as None inside fit.
        self.steps_trained = self.add_weight(shape=(), dtype="int32", initializer="zeros",
                                             trainable=False, name="steps_trained")

    def views(self, inputs):
        names = ["labeled", "unlabeled"] + (["strong"] if self.variant == "fixmatch" else [])
        return [inputs[name] for name in names]

    def call(self, inputs, training=None):
        if not isinstance(inputs, dict):
            return self.model(inputs, training=training)
        return self.model(ops.concatenate(self.views(inputs), axis=0), training=training)

    def pseudo_labels(self, logits):
        """(one-hot argmax labels, confidence, kept mask) from logits, without gradient."""
        probabilities = ops.softmax(ops.stop_gradient(ops.cast(logits, "float32")), axis=-1)
        confidence = ops.max(probabilities, axis=-1)
        labels = ops.one_hot(ops.argmax(probabilities, axis=-1), ops.shape(logits)[-1])
        if self.variant == "lee2013":
            kept = ops.ones_like(confidence)
        else:
            kept = ops.cast(confidence >= self.confidence_threshold, "float32")
        return labels, confidence, kept

    def label_logits(self, inputs, weak):
        """The logits pseudo-labels come from: `weak` (the trained view's), or with label_view
        "clean" (lee2013, threshold) the model's inference-mode logits on the clean images."""
        if self.variant == "fixmatch" or self.label_view == "same":
            return weak
        return self.model(inputs["clean"], training=False)

    def split_logits(self, inputs, y_pred):
        sizes = [ops.shape(v)[0] for v in self.views(inputs)]
        labeled = y_pred[: sizes[0]]
        weak = y_pred[sizes[0]: sizes[0] + sizes[1]]
        strong = y_pred[sizes[0] + sizes[1]:] if self.variant == "fixmatch" else weak
        return labeled, weak, strong

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y_pred is None:
            y_pred = self(x, training=training)
        if not isinstance(x, dict):  # evaluation on plain images
            loss = ops.mean(keras.losses.categorical_crossentropy(y, ops.cast(y_pred, "float32"),
                                                                  from_logits=True))
            self.labeled_loss_tracker.update_state(loss)
            return loss
        labeled, weak, strong = self.split_logits(x, y_pred)
        labeled_loss = ops.mean(keras.losses.categorical_crossentropy(
            y, ops.cast(labeled, "float32"), from_logits=True, label_smoothing=self.label_smoothing))
        targets, _, kept = self.pseudo_labels(self.label_logits(x, weak))
        per_image = keras.losses.categorical_crossentropy(targets, ops.cast(strong, "float32"),
                                                         from_logits=True)
        unlabeled_loss = ops.mean(per_image * kept)  # FixMatch: averaged over all unlabeled images
        weight = rampup_weight(self.steps_trained, self.unlabeled_weight, self.rampup_start,
                               self.rampup_steps)
        if training:
            self.steps_trained.assign_add(1)
        self.labeled_loss_tracker.update_state(labeled_loss)
        self.unlabeled_loss_tracker.update_state(unlabeled_loss)
        self.kept_tracker.update_state(ops.mean(kept))
        if "unlabeled_truth" in x:
            guessed = ops.cast(ops.argmax(targets, axis=-1), "int32")
            right = ops.cast(guessed == ops.cast(x["unlabeled_truth"], "int32"), "float32")
            self.pseudo_accuracy_tracker.update_state(ops.sum(right * kept) /
                                                      ops.maximum(ops.sum(kept), 1.0))
        return labeled_loss + weight * unlabeled_loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if isinstance(x, dict):
            y_pred = y_pred[: ops.shape(x["labeled"])[0]]
        return super().compute_metrics(x, y, y_pred, sample_weight)


class RecipePseudoLabelLearner(PseudoLabelLearner):
    """A `PseudoLabelLearner` that builds its own training stream (used by kvision.run)."""

    def __init__(self, *args, unlabeled_ratio=7, strong_augment=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.unlabeled_ratio = unlabeled_ratio
        self.strong_augment = strong_augment

    def training_stream(self, recipe, data, run_dir):
        """A function of batches to skip giving the labeled + unlabeled stream."""
        from kvision.semi.streams import labeled_and_unlabeled, require_unlabeled

        require_unlabeled(data, "pseudo_label")
        strong = self.strong_augment if self.variant == "fixmatch" else None
        clean = self.variant != "fixmatch" and self.label_view == "clean"
        return lambda skip_batches=0: labeled_and_unlabeled(recipe, data, self.unlabeled_ratio, strong,
                                                            skip_batches, clean_view=clean)


@LEARNERS.register("pseudo_label")
def pseudo_label(model, optimizer, config):
    """Compiles a pseudo-labeling learner around `model` with `train.pseudo_label`'s settings.

    Args:
        model: the classifier (the artefact).
        optimizer: a Keras optimizer.
        config: the recipe's `TrainConfig`.

    Returns:
        The compiled learner.
    """
    settings = config.pseudo_label
    learner = RecipePseudoLabelLearner(
        model, variant=settings.variant, confidence_threshold=settings.confidence_threshold,
        unlabeled_weight=settings.unlabeled_weight, rampup_start=settings.rampup_start,
        rampup_steps=settings.rampup_steps, label_smoothing=config.label_smoothing,
        unlabeled_ratio=settings.unlabeled_ratio, strong_augment=settings.strong_augment,
        label_view=settings.label_view)
    learner.compile(optimizer=optimizer, metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
                    jit_compile=resolve_jit_compile(config.jit_compile))
    return learner
