"""Semi-supervised learning: pseudo-labeling (Lee 2013, FixMatch) and Noisy Student."""

from kvision.semi import pseudo_label  # noqa: F401  (registers the `pseudo_label` learner)
from kvision.semi.pseudo_label import PseudoLabelLearner
from kvision.semi.ramp import rampup_weight

__all__ = ["PseudoLabelLearner", "rampup_weight"]
