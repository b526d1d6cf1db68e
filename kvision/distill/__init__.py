"""Knowledge distillation (Hinton et al. 2015): `Distiller` and the `distill` learner."""

from kvision.distill import learner  # noqa: F401  (registers the `distill` learner)
from kvision.distill.distiller import TEACHER_MODES, Distiller
from kvision.distill.loss import distillation_kl, masked_cross_entropy, softened

__all__ = ["Distiller", "TEACHER_MODES", "distillation_kl", "masked_cross_entropy", "softened"]
