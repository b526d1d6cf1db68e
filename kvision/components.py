"""Imports every module that registers components, filling the registries."""

from kvision import augment, data, distill, learners, models, semi, training, transfer  # noqa: F401
