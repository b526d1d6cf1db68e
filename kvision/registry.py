"""The one registry helper behind every name a recipe can use.

Each kind of component (models, augmentations, learners, data sources,
optimizers, schedules) has its own `Registry`. A registry maps a name to a
builder (a function or a class). Registering a name twice is an error, and
asking for an unknown name raises an error that lists the closest names.

This module imports nothing else of kvision, so every other module may use it.

Example:

```python
from kvision.registry import MODELS

@MODELS.register("tiny_cnn")
def tiny_cnn(input_shape, num_classes):
    ...
```
"""

import difflib


class RegistryError(KeyError):
    """An unknown or duplicate name in a registry."""

    def __str__(self):  # KeyError would wrap the message in quotes.
        return str(self.args[0])


def closest_names(name, candidates, limit=3):
    """Returns up to `limit` names of `candidates` that look like `name`."""
    candidates = list(candidates)
    matches = difflib.get_close_matches(str(name), candidates, n=limit, cutoff=0.5)
    if not matches:
        matches = [c for c in candidates if str(name).lower() in c.lower()][:limit]
    return matches


def did_you_mean(name, candidates):
    """Returns ' Did you mean ...?' for the names close to `name`, or ''."""
    matches = closest_names(name, candidates)
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(m) for m in matches) + "?"


class Registry:
    """A named mapping from names to builders.

    Args:
        kind: what the registry holds, in the singular ("model"); used in
            error messages.
    """

    def __init__(self, kind):
        self.kind = kind
        self._entries = {}

    def register(self, name=None, *, override=False):
        """Decorator registering a builder under `name` (default: its __name__).

        Args:
            name: the name a recipe uses.
            override: replace an existing entry instead of raising.

        Returns:
            The decorator; it returns the builder unchanged.

        Raises:
            RegistryError: the name is taken and `override` is False.
        """

        def decorator(builder):
            key = name or builder.__name__
            if key in self._entries and not override:
                raise RegistryError(
                    f"A {self.kind} named {key!r} is already registered "
                    f"(by {_qualname(self._entries[key])}). Pick another name "
                    "or pass override=True."
                )
            self._entries[key] = builder
            return builder

        return decorator

    def get(self, name):
        """Returns the builder registered as `name`.

        Raises:
            RegistryError: no such name; the message lists the closest names.
        """
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise RegistryError(self.unknown_message(name)) from None

    def unknown_message(self, name):
        """The error message for an unknown `name`."""
        return (
            f"Unknown {self.kind} {name!r}.{did_you_mean(name, self._entries)} "
            f"Registered {self.kind}s: {', '.join(sorted(self._entries))}."
        )

    def names(self):
        """Returns the registered names, sorted."""
        return sorted(self._entries)

    def items(self):
        """Returns (name, builder) pairs, sorted by name."""
        return sorted(self._entries.items())

    def __contains__(self, name):
        return name in self._entries

    def __len__(self):
        return len(self._entries)


def _qualname(builder):
    module = getattr(builder, "__module__", "?")
    return f"{module}.{getattr(builder, '__qualname__', builder)}"


MODELS = Registry("model")
AUGMENTATIONS = Registry("augmentation")
LEARNERS = Registry("learner")
DATA_SOURCES = Registry("data source")
OPTIMIZERS = Registry("optimizer")
SCHEDULES = Registry("schedule")
