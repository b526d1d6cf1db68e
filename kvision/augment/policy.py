"""Compact policy strings such as `randaugment-n2-m9` or `pad_crop-p4`.

`NAME(-KEYVALUE)*`: the registered name, then options, each a short key (or
the full keyword) immediately followed by a number.
"""

import inspect
import re

from kvision.errors import RecipeError
from kvision.registry import AUGMENTATIONS, did_you_mean

_PART = re.compile(r"^([a-z_]+?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")


def parse_policy(text, path="augment"):
    """Parses a policy string into (name, options).

    Raises:
        RecipeError: unknown name, malformed part, or unknown key.
    """
    name, *parts = text.strip().split("-")
    if name not in AUGMENTATIONS:
        raise RecipeError(f"unknown augmentation {name!r}.{did_you_mean(name, AUGMENTATIONS.names())}"
                          .rstrip("."), path, text, ", ".join(AUGMENTATIONS.names()))
    builder = AUGMENTATIONS.get(name)
    short = builder.short_keys
    defaults = {n: p.default for n, p in inspect.signature(builder).parameters.items()
                if n not in ("image_shape", "seed")}
    keys_text = ", ".join(f"{k} ({v})" for k, v in short.items()) or "none"
    options = {}
    for part in parts:
        match = _PART.match(part)
        if not match:
            raise RecipeError(f"cannot read {part!r} in policy string (expected a key then a number, "
                              "like m9)", path, text, f"keys for {name}: {keys_text}")
        key, number = match.groups()
        keyword = short.get(key, key if key in defaults else None)
        if keyword is None:
            raise RecipeError(f"unknown key {key!r} for {name}.{did_you_mean(key, short)}".rstrip("."),
                              path, text, f"keys for {name}: {keys_text}")
        value = float(number)
        if isinstance(defaults.get(keyword), int) and value.is_integer():
            value = int(value)
        options[keyword] = value
    return name, options
