"""Recipes: YAML experiment files turned into validated dataclasses."""

from kvision.recipes.loader import dump_recipe, load_recipe, recipe_from_mapping
from kvision.recipes.schema import (AugmentSpec, DataConfig, EvalConfig, ModelConfig,
                                    OptimizerConfig, Recipe, ScheduleConfig, TrainConfig)

__all__ = ["AugmentSpec", "DataConfig", "EvalConfig", "ModelConfig", "OptimizerConfig", "Recipe",
           "ScheduleConfig", "TrainConfig", "dump_recipe", "load_recipe", "recipe_from_mapping"]
