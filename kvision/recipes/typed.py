"""Turns plain YAML data into typed recipe dataclasses, checking as it goes.

A recipe section is a dataclass whose fields carry their documentation and
limits in `field(metadata=...)`, made with `setting()`. `build()` walks a
mapping against such a class and raises `RecipeError` at the first key that
is unknown, of the wrong type, out of range or not a registered name.

A dataclass may set `EXTRA_KEYS = "options"`: keys it does not declare are
then collected into that field (a model's builder keywords), to be checked
against the builder's signature later.
"""

import dataclasses
import types
import typing

from kvision.errors import RecipeError
from kvision.registry import did_you_mean


def setting(default=dataclasses.MISSING, *, doc, min=None, max=None, min_exclusive=False,
            max_exclusive=False, choices=None, registry=None, default_factory=dataclasses.MISSING):
    """Declares a recipe field with its documentation and limits.

    Args:
        default: the value when the key is absent.
        doc: one line for the reference documentation and error messages.
        min, max: inclusive bounds for numbers (see `*_exclusive`).
        min_exclusive, max_exclusive: make the matching bound strict.
        choices: the allowed values.
        registry: a `kvision.registry.Registry` the value must be a name of.
        default_factory: for mutable defaults.

    Returns:
        A `dataclasses.field`.
    """
    metadata = dict(doc=doc, min=min, max=max, min_exclusive=min_exclusive,
                    max_exclusive=max_exclusive, choices=choices, registry=registry)
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def join(path, key):
    """Joins a dotted key path and a key or list index."""
    return f"{path}.{key}" if path else str(key)


def build(cls, raw, path=""):
    """Builds dataclass `cls` from mapping `raw`, validating every key.

    Args:
        cls: a recipe dataclass.
        raw: the mapping read from YAML (None means all defaults).
        path: the key path of `raw` inside the recipe, for messages.

    Returns:
        An instance of `cls`.

    Raises:
        RecipeError: the first problem found.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RecipeError("expected a mapping of keys to values", path or "(top level)", raw,
                          f"keys {', '.join(field_names(cls))}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    extra_field = getattr(cls, "EXTRA_KEYS", None)
    hints = typing.get_type_hints(cls)
    values, extras = {}, {}
    for key, value in raw.items():
        if not isinstance(key, str):
            raise RecipeError("keys must be text", join(path, key), key)
        if key in fields and key != extra_field:
            values[key] = convert(hints[key], value, join(path, key), fields[key].metadata)
        elif extra_field:
            extras[key] = value
        else:
            raise RecipeError(f"unknown key {key!r}.{did_you_mean(key, fields)}".rstrip("."),
                              join(path, key), allowed=f"keys {', '.join(field_names(cls))}")
    if extra_field:
        values[extra_field] = extras
    return cls(**values)


def field_names(cls):
    extra = getattr(cls, "EXTRA_KEYS", None)
    return [f.name for f in dataclasses.fields(cls) if f.init and f.name != extra]


def convert(hint, value, path, meta=None):
    """Converts one YAML value to the type `hint`, checking `meta`'s limits."""
    meta = meta or {}
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        return convert(non_none[0], value, path, meta)
    if hasattr(hint, "from_recipe"):
        result = hint.from_recipe(value, path)
    elif dataclasses.is_dataclass(hint):
        result = build(hint, value, path)
    elif origin is list:
        if not isinstance(value, list):
            raise RecipeError("expected a list", path, value)
        result = [convert(args[0], item, join(path, i)) for i, item in enumerate(value)]
    elif origin is dict or hint is dict:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise RecipeError("expected a mapping of keys to values", path, value)
        result = dict(value)
    elif origin is typing.Literal:
        if value not in args:
            raise RecipeError("not an allowed value", path, value, ", ".join(map(str, args)))
        result = value
    else:
        result = _convert_scalar(hint, value, path)
    _check_limits(result, path, meta)
    return result


def _convert_scalar(hint, value, path):
    if hint is bool:
        if not isinstance(value, bool):
            raise RecipeError("expected true or false", path, value)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecipeError("expected a whole number", path, value)
        return value
    if hint is float:
        if isinstance(value, bool):
            raise RecipeError("expected a number", path, value)
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads 1e-3 (no dot) as text.
            try:
                return float(value)
            except ValueError:
                pass
        raise RecipeError("expected a number", path, value)
    if hint is str:
        if not isinstance(value, str):
            raise RecipeError("expected text", path, value)
        return value
    if hint is typing.Any:
        return value
    raise TypeError(f"kvision bug: unsupported recipe type {hint!r} at {path}")


def _check_limits(value, path, meta):
    if value is None:
        return
    low, high = meta.get("min"), meta.get("max")
    if low is not None and (value < low or (meta.get("min_exclusive") and value == low)):
        bound = f"greater than {low}" if meta.get("min_exclusive") else f"at least {low}"
        raise RecipeError(f"must be {bound}", path, value, _range_text(meta))
    if high is not None and (value > high or (meta.get("max_exclusive") and value == high)):
        bound = f"less than {high}" if meta.get("max_exclusive") else f"at most {high}"
        raise RecipeError(f"must be {bound}", path, value, _range_text(meta))
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise RecipeError(f"not an allowed value.{did_you_mean(value, map(str, choices))}".rstrip("."),
                          path, value, ", ".join(map(str, choices)))
    registry = meta.get("registry")
    if registry is not None and value not in registry:
        raise RecipeError(f"unknown {registry.kind}.{did_you_mean(value, registry.names())}".rstrip("."),
                          path, value, ", ".join(registry.names()))


def _range_text(meta):
    low, high = meta.get("min"), meta.get("max")
    left = "(" if meta.get("min_exclusive") else "["
    right = ")" if meta.get("max_exclusive") else "]"
    return f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"


def to_plain(obj):
    """Turns a recipe dataclass back into plain YAML-ready data."""
    if dataclasses.is_dataclass(obj):
        if hasattr(obj, "to_recipe"):
            return obj.to_recipe()
        extra = getattr(type(obj), "EXTRA_KEYS", None)
        out = {}
        for f in dataclasses.fields(obj):
            if f.name == extra:
                out.update(to_plain(getattr(obj, f.name)))
            else:
                out[f.name] = to_plain(getattr(obj, f.name))
        return out
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    return obj
