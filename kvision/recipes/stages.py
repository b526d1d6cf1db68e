"""Multi-stage recipes: `stages:` runs partial recipes in order, each building on earlier ones.

```yaml
name: transfer_finetune
data: {source: fashion_mnist, batch_size: 128}   # shared by every stage
stages:
  - name: pretrain
    data: {classes: [0, 1, 2, 3, 4]}
    model: {name: vgg11, width: 0.25}
  - name: transfer
    data: {classes: [5, 6, 7, 8, 9], labeled_per_class: 50}
    model: {name: pretrained, source: "stage:pretrain"}
    train: {learner: transfer}
```

A stage's sections are merged key by key over the top level's (a mapping
naming a different `name:` than the top level's replaces it instead, so a
stage's model does not inherit another model's keywords). Any text
`stage:NAME` in a stage refers to an earlier stage's run folder.

Each stage runs in RUN_DIR/NAME. Its resolved recipe records the
fingerprints of every stage before it (`upstream`), so re-running skips a
finished stage whose settings and predecessors are unchanged, resumes an
interrupted one, and re-runs a changed stage and every stage after it.
"""

import copy
import hashlib
import re

import yaml

from kvision.errors import RecipeError
from kvision.recipes.typed import build, to_plain

STAGE_PREFIX = "stage:"
STAGE_SECTIONS = ("name", "seed", "data", "augment", "model", "train", "eval", "runtime", "export")
NOT_INHERITED = ("name", "stages", "upstream")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def merge(base, override):
    """`override` merged key by key into a copy of `base` (lists and scalars replace)."""
    if not (isinstance(base, dict) and isinstance(override, dict)):
        return copy.deepcopy(override)
    if "name" in base and "name" in override and base["name"] != override["name"]:
        return copy.deepcopy(override)
    merged = copy.deepcopy(base)
    for key, value in override.items():
        merged[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
    return merged


def references(value, path=""):
    """Every `stage:NAME` text in a plain recipe value, as (key path, NAME)."""
    if isinstance(value, dict):
        return [r for k, v in value.items() for r in references(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [r for i, v in enumerate(value) for r in references(v, f"{path}.{i}")]
    if isinstance(value, str) and value.startswith(STAGE_PREFIX):
        return [(path, value[len(STAGE_PREFIX):])]
    return []


def build_stages(raw, top):
    """Validates a recipe's `stages:` into one `Recipe` per stage.

    Args:
        raw: the recipe mapping as read from YAML (after overrides).
        top: the validated top-level `Recipe`.

    Returns:
        A list of stage `Recipe`s, named after their stages.

    Raises:
        RecipeError: a stage that is not a mapping, lacks a name, repeats
            one, has an unknown section or setting, or refers to a stage that
            does not exist or does not come before it.
    """
    from kvision.recipes import checks

    base = {k: v for k, v in raw.items() if k not in NOT_INHERITED}
    names, recipes = [], []
    for i, stage in enumerate(top.stages):
        path = f"stages.{i}"
        if not isinstance(stage, dict):
            raise RecipeError("expected a mapping with a 'name' and the sections it changes", path,
                              stage, ", ".join(STAGE_SECTIONS))
        name = stage.get("name")
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise RecipeError("each stage needs a name of letters, digits, '_', '-' or '.' (it names "
                              "the stage's folder)", f"{path}.name", name)
        if name in names:
            raise RecipeError("two stages have this name", f"{path}.name", name)
        for key in stage:
            if key not in STAGE_SECTIONS:
                from kvision.registry import did_you_mean

                raise RecipeError(f"a stage cannot set {key!r}.{did_you_mean(key, STAGE_SECTIONS)}"
                                  .rstrip("."), f"{path}.{key}", allowed=", ".join(STAGE_SECTIONS))
        for key_path, target in references(stage, path):
            if target == name or (target not in names and target in
                                  [s.get("name") for s in top.stages if isinstance(s, dict)]):
                raise RecipeError(f"stage {name!r} refers to stage {target!r}, which does not come "
                                  "before it (a stage can build only on earlier stages)", key_path,
                                  f"{STAGE_PREFIX}{target}", ", ".join(names) or "no earlier stage")
            if target not in names:
                from kvision.registry import did_you_mean

                raise RecipeError(f"no stage named {target!r}.{did_you_mean(target, names)}".rstrip("."),
                                  key_path, f"{STAGE_PREFIX}{target}", ", ".join(names)
                                  or "no earlier stage")
        recipe = build(type(top), merge(base, stage), path)
        checks.check_recipe(recipe)
        names.append(name)
        recipes.append(recipe)
    return recipes


def resolve(stage, folders, fingerprints):
    """A stage's recipe as it runs: `stage:NAME` texts replaced by those stages' folders, and the
    fingerprints of every earlier stage recorded in `upstream`.

    Args:
        stage: the stage's `Recipe`.
        folders: {earlier stage name: its run folder}.
        fingerprints: {earlier stage name: its fingerprint}, in order.

    Returns:
        A new `Recipe`.
    """
    plain = _replace_references(to_plain(stage), folders)
    plain["upstream"] = dict(fingerprints)
    return build(type(stage), plain)


# Settings that change only what is shown, never what is trained.
DISPLAY_ONLY = (("train", "verbose"),)


def settings_that_matter(plain):
    """A plain recipe without its display-only settings (for comparing runs)."""
    plain = copy.deepcopy(plain)
    for section, key in DISPLAY_ONLY:
        if isinstance(plain.get(section), dict):
            plain[section].pop(key, None)
    return plain


def fingerprint(recipe):
    """A short hash of a resolved recipe (its settings and, through upstream, its predecessors')."""
    text = yaml.safe_dump(settings_that_matter(to_plain(recipe)), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _replace_references(value, folders):
    if isinstance(value, dict):
        return {k: _replace_references(v, folders) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_references(v, folders) for v in value]
    if isinstance(value, str) and value.startswith(STAGE_PREFIX):
        return folders[value[len(STAGE_PREFIX):]]
    return value
