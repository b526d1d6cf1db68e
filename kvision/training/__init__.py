"""Optimizers and learning-rate schedules by name."""

from kvision.training.optimizers import build_optimizer
from kvision.training.schedules import LinearWarmup, build_schedule

__all__ = ["LinearWarmup", "build_optimizer", "build_schedule"]
