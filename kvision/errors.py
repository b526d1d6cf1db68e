"""Exceptions that carry a message meant for the user, not a traceback."""


class KvisionError(Exception):
    """A failure the user can act on; the CLI prints it without a traceback."""


class RecipeError(KvisionError):
    """A recipe that cannot be run as written.

    Args:
        problem: what is wrong, as a sentence fragment ("expected a number").
        key_path: where in the recipe, dotted ("train.optimizer.learning_rate").
        received: the value found there (omitted from the message if
            `_MISSING`).
        allowed: what would be accepted, as text.
        file: the recipe file; set by the loader when known.
    """

    _MISSING = object()

    def __init__(self, problem, key_path="", received=_MISSING, allowed=None, file=None):
        self.problem = problem
        self.key_path = key_path
        self.received = received
        self.allowed = allowed
        self.file = file
        super().__init__(problem)

    def __str__(self):
        where = ": ".join(str(p) for p in (self.file, self.key_path) if p)
        parts = [f"{where}: {self.problem}" if where else self.problem]
        if self.received is not RecipeError._MISSING:
            parts.append(f"Received: {_show(self.received)}")
        if self.allowed:
            parts.append(f"Allowed: {self.allowed}")
        return " ".join(p if p.endswith((".", "?")) else p + "." for p in parts)


class DataError(KvisionError):
    """Data that cannot be found or read."""


def _show(value):
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, dict, tuple)):
        text = repr(value)
        return text if len(text) < 120 else text[:117] + "..."
    return f"{value!r} ({type(value).__name__})"
