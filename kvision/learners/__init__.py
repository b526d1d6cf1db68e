"""Learners: how a model is trained (classify, knn; more to come)."""

from kvision.learners import classify, knn  # noqa: F401  (registers the learners)
