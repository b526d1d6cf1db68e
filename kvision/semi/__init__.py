"""Semi-supervised learning: pseudo-labeling (Lee 2013, FixMatch) and Noisy Student."""

from kvision.semi import noisy_student, pseudo_label, student  # noqa: F401  (register learners)
from kvision.semi.pseudo_label import PseudoLabelLearner
from kvision.semi.ramp import rampup_weight
from kvision.semi.selection import select_pseudo_labels
from kvision.semi.student import StudentLearner

__all__ = ["PseudoLabelLearner", "StudentLearner", "rampup_weight", "select_pseudo_labels"]
