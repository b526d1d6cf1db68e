"""Checks that need the registries: builder keywords, data source specs.

Run by the loader after the typed conversion, still before any data is read.
"""

import inspect

from kvision.errors import RecipeError
from kvision.registry import AUGMENTATIONS, DATA_SOURCES, MODELS, SCHEDULES, did_you_mean

# Keywords kvision passes itself; a recipe may not set them.
MODEL_RESERVED = ("input_shape", "num_classes")
AUGMENT_RESERVED = ("image_shape", "seed")
SCHEDULE_RESERVED = ("learning_rate", "total_steps", "warmup_steps", "steps_per_epoch")
SOURCE_RESERVED = ("seed",)


def check_recipe(recipe):
    """Raises RecipeError for the first keyword or spec no builder accepts."""
    model = MODELS.get(recipe.model.name)
    check_keywords(model, recipe.model.options, "model", MODEL_RESERVED,
                   f"model {recipe.model.name!r}")
    _check_arguments(model, recipe.model.options, "model", recipe.model.name)
    needed = getattr(model, "learner", None)
    if needed and recipe.train.learner != needed:
        raise RecipeError(f"model {recipe.model.name!r} is trained by the {needed!r} learner",
                          "train.learner", recipe.train.learner, needed)
    if recipe.train.learner == "knn" and needed != "knn":
        raise RecipeError("the 'knn' learner trains only the 'knn' model", "model.name",
                          recipe.model.name, "knn")
    if recipe.train.learner == "distill":
        check_distill(recipe)
    schedule = SCHEDULES.get(recipe.train.schedule.name)
    check_keywords(schedule, recipe.train.schedule.options, "train.schedule", SCHEDULE_RESERVED,
                   f"schedule {recipe.train.schedule.name!r}")
    for i, spec in enumerate(recipe.augment):
        check_keywords(AUGMENTATIONS.get(spec.name), spec.options, f"augment.{i}", AUGMENT_RESERVED,
                       f"augmentation {spec.name!r}")
    for i, spec in enumerate(recipe.train.pseudo_label.strong_augment):
        check_keywords(AUGMENTATIONS.get(spec.name), spec.options,
                       f"train.pseudo_label.strong_augment.{i}", AUGMENT_RESERVED,
                       f"augmentation {spec.name!r}")
    if (recipe.train.learner == "pseudo_label" and recipe.train.pseudo_label.variant == "fixmatch"
            and not recipe.train.pseudo_label.strong_augment):
        raise RecipeError("fixmatch needs a strong view: list its augmentations",
                          "train.pseudo_label.strong_augment", [])
    check_source(recipe.data.source, recipe.data.source_options)


def check_distill(recipe):
    """The distill learner needs a teacher; cached or clean-view teachers cannot follow mixed images."""
    import os

    teacher = recipe.train.distill.teacher
    if not teacher:
        raise RecipeError("the distill learner needs a teacher", "train.distill.teacher", None,
                          "stage:NAME, a run folder or a .keras file")
    if not teacher.startswith("stage:") and not os.path.exists(teacher):
        raise RecipeError("no teacher model there", "train.distill.teacher", teacher,
                          "stage:NAME, a run folder or a .keras file")
    mode = recipe.train.distill.teacher_mode
    for i, spec in enumerate(recipe.augment):
        if mode != "online" and getattr(AUGMENTATIONS.get(spec.name), "mixes_labels", False):
            raise RecipeError(f"{spec.name} mixes images, so a {mode} teacher's targets (from the "
                              "unmixed image) would not match; use teacher_mode: online",
                              f"augment.{i}", spec.name)


def split_source(spec):
    """Splits 'name:argument' into (name, argument or None)."""
    name, sep, argument = spec.partition(":")
    return name, (argument if sep else None)


def check_source(spec, options, path="data.source"):
    """Checks a data source spec such as 'tfds:mnist' and its options."""
    name, argument = split_source(spec)
    if name not in DATA_SOURCES:
        raise RecipeError(f"unknown data source.{did_you_mean(name, DATA_SOURCES.names())}"
                          .rstrip("."), path, spec,
                          ", ".join(_source_forms()))
    builder = DATA_SOURCES.get(name)
    positional = _argument_name(builder)
    if argument is not None and positional is None:
        raise RecipeError(f"data source {name!r} takes no ':ARGUMENT'", path, spec, name)
    if argument is None and positional is not None and positional not in options:
        raise RecipeError(f"data source {name!r} needs an argument", path, spec,
                          f"{name}:{positional.upper()}")
    given = dict(options)
    if argument is not None:
        if not argument:
            raise RecipeError(f"empty argument after '{name}:'", path, spec,
                              f"{name}:{positional.upper()}")
        given[positional] = argument
    check_keywords(builder, given, "data.source_options", SOURCE_RESERVED,
                   f"data source {name!r}")
    _check_arguments(builder, given, path, spec)


def _check_arguments(builder, given, path, value):
    """Runs a builder's own `check_arguments(**options)` (a message, or None if fine)."""
    checker = getattr(builder, "check_arguments", None)
    problem = checker(**given) if checker is not None else None
    if problem:
        raise RecipeError(problem, path, value)


def _argument_name(builder):
    for p in inspect.signature(builder).parameters.values():
        if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty and p.name not in SOURCE_RESERVED:
            return p.name
    return None


def _source_forms():
    forms = []
    for name, builder in DATA_SOURCES.items():
        arg = _argument_name(builder)
        forms.append(f"{name}:{arg.upper()}" if arg else name)
    return forms


def check_keywords(builder, options, path, reserved, what):
    """Checks `options` against the keyword arguments `builder` accepts.

    Args:
        builder: a function or class.
        options: the keywords the recipe gives it.
        path: key path of the options in the recipe.
        reserved: keywords kvision supplies itself.
        what: how to name the builder in messages.

    Raises:
        RecipeError: an unknown, reserved, missing or mistyped keyword.
    """
    params = inspect.signature(builder).parameters
    accepted = {n: p for n, p in params.items()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n not in reserved}
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    allowed = ", ".join(accepted) or "no keywords"
    for key, value in options.items():
        if key in reserved:
            raise RecipeError(f"{key!r} is set by kvision itself, not by the recipe",
                              f"{path}.{key}", value, allowed)
        if key not in accepted:
            if takes_any:
                continue
            raise RecipeError(f"{what} does not accept keyword {key!r}."
                              f"{did_you_mean(key, accepted)}".rstrip("."),
                              f"{path}.{key}", allowed=allowed)
        _check_type(accepted[key].default, value, f"{path}.{key}")
    for name, p in accepted.items():
        if p.default is p.empty and name not in options:
            raise RecipeError(f"{what} needs keyword {name!r}", path, allowed=allowed)


def _check_type(default, value, path):
    if default is inspect.Parameter.empty or default is None or value is None:
        return
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise RecipeError("expected true or false", path, value)
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecipeError("expected a whole number", path, value)
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RecipeError("expected a number", path, value)
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise RecipeError("expected text", path, value)
    elif isinstance(default, (tuple, list)):
        if not isinstance(value, (list, tuple, int, float)):
            raise RecipeError("expected a list or a number", path, value)
