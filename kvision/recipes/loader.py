"""Reads a recipe: YAML (safe loader only), then `--set` overrides, then checks.

Resolution order, as in the TF Model Garden: the dataclass defaults, the YAML
file, the command-line overrides. `load_recipe` returns a fully validated
`Recipe`; nothing has been read from any data source or built yet.
"""

import importlib
import os
import sys

import yaml

from kvision.errors import RecipeError
from kvision.recipes import checks
from kvision.recipes.schema import Recipe
from kvision.recipes.typed import build, to_plain


def read_yaml(path):
    """Reads a YAML mapping with `yaml.safe_load`.

    Raises:
        RecipeError: missing file, invalid YAML, a non-mapping document, or a
            tag that would construct Python objects.
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise RecipeError("recipe file not found", file=path) from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as e:
        raise RecipeError(f"cannot read the recipe file ({e.__class__.__name__})", file=path) from None
    try:
        data = yaml.safe_load(text)
    except yaml.constructor.ConstructorError as e:
        tag = getattr(e, "problem", "") or str(e)
        raise RecipeError(f"YAML tag refused ({tag.strip()}; recipes are read with yaml.safe_load, "
                          "which builds only plain data; use 'imports:' to load your own code)",
                          file=path) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise RecipeError(f"not valid YAML{where}: {problem}", file=path) from None
    if data is None:
        raise RecipeError("the recipe is empty; it needs at least a 'model:' or 'data:' section",
                          file=path)
    if not isinstance(data, dict):
        raise RecipeError("expected a mapping of sections (data:, model:, train:, ...) at the top "
                          f"level, got a {type(data).__name__}", file=path)
    return data


def apply_override(data, assignment):
    """Applies one `key.path=value` override to the raw recipe mapping in place.

    The value is read as YAML, so `train.epochs=3` sets a number and
    `augment=[flip]` a list. A numeric key indexes into a list.

    Raises:
        RecipeError: the assignment is not of the form key.path=value.
    """
    key_path, sep, text = assignment.partition("=")
    key_path = key_path.strip()
    if not sep or not key_path:
        raise RecipeError("an override must look like key.path=value", "--set", assignment)
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        raise RecipeError("the value is not valid YAML", f"--set {key_path}", text) from None
    keys = key_path.split(".")
    node = data
    for depth, key in enumerate(keys[:-1]):
        node = _child(node, key, ".".join(keys[: depth + 1]))
    _assign(node, keys[-1], value, key_path)


def _child(node, key, path):
    if isinstance(node, list):
        index = _index(node, key, path)
        return node[index]
    if not isinstance(node, dict):
        raise RecipeError("cannot set a key inside a value that is not a mapping", f"--set {path}")
    if node.get(key) is None:
        node[key] = {}
    return node[key]


def _assign(node, key, value, path):
    if isinstance(node, list):
        node[_index(node, key, path)] = value
    elif isinstance(node, dict):
        node[key] = value
    else:
        raise RecipeError("cannot set a key inside a value that is not a mapping", f"--set {path}")


def _index(node, key, path):
    if not key.isdigit() or int(key) >= len(node):
        raise RecipeError(f"expected a list index below {len(node)}", f"--set {path}", key)
    return int(key)


def import_user_modules(modules, path="imports"):
    """Imports the modules a recipe lists under `imports:` (they register components).

    A module is looked up on `sys.path` and in the current directory.

    Raises:
        RecipeError: not a list of module names, or a module cannot be imported.
    """
    if modules is None:
        return
    if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
        raise RecipeError("expected a list of module names", path, modules)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for i, module in enumerate(modules):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as e:
            raise RecipeError(f"cannot import module {module!r} ({e})", f"{path}.{i}", module,
                              "importable module names on the Python path") from None
        except Exception as e:  # the user's module raised while importing
            raise RecipeError(f"importing module {module!r} failed: {e.__class__.__name__}: {e}",
                              f"{path}.{i}") from None


def load_recipe(path, overrides=()):
    """Reads, overrides and validates a recipe file.

    Args:
        path: the YAML file.
        overrides: `key.path=value` strings, applied in order after the file.

    Returns:
        A validated `Recipe`.

    Raises:
        RecipeError: anything wrong, with the file and key path in the message.
    """
    try:
        data = read_yaml(path)
        for assignment in overrides:
            apply_override(data, assignment)
        return recipe_from_mapping(data, default_name=os.path.splitext(os.path.basename(path))[0])
    except RecipeError as e:
        e.file = e.file or path
        raise


def recipe_from_mapping(data, default_name="run"):
    """Validates a raw recipe mapping (already read from YAML) into a `Recipe`."""
    import kvision.components  # noqa: F401  (fills the registries)

    import_user_modules(data.get("imports"))
    recipe = build(Recipe, data)
    if "name" not in data:
        recipe.name = default_name
    checks.check_recipe(recipe)
    if recipe.stages and recipe.train.learner == "noisy_student":
        raise RecipeError("a noisy_student recipe makes its own stages; use it without 'stages:' (or "
                          "as a plain recipe of its own)", "train.learner", "noisy_student")
    if recipe.stages:
        from kvision.recipes.stages import build_stages

        recipe.stage_recipes = build_stages(data, recipe)
    elif recipe.train.learner == "noisy_student":
        from kvision.semi.noisy_student import expand

        recipe.stage_recipes = expand(recipe)
    return recipe


def dump_recipe(recipe, path):
    """Writes the resolved recipe as YAML (atomically)."""
    from kvision.io import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(to_plain(recipe), sort_keys=False))
