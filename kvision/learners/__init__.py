"""Learners: how a model is trained (classify; more to come)."""

from kvision.learners import classify  # noqa: F401  (registers the learner)
