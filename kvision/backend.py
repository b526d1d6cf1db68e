"""Choosing the Keras backend (tensorflow, jax, torch) before Keras is imported.

Keras reads `KERAS_BACKEND` once, when it is first imported; a process cannot
switch afterwards. The CLI calls `select_backend` with `--backend` or the
recipe's `backend:` before anything imports Keras.
"""

import os
import sys

from kvision.errors import KvisionError

BACKENDS = ("tensorflow", "jax", "torch")


def active_backend():
    """The backend Keras runs on, or None if Keras is not imported yet."""
    if "keras" not in sys.modules:
        return None
    import keras

    return keras.backend.backend()


def select_backend(name, where="backend"):
    """Makes Keras use backend `name` (None: leave it as configured).

    Args:
        name: "tensorflow", "jax", "torch" or None.
        where: what asked for it, for messages ("--backend", "recipe.yaml: backend").

    Raises:
        KvisionError: an unknown name, or Keras already imported with another backend.
    """
    if name is None:
        return
    if name not in BACKENDS:
        raise KvisionError(f"{where}: unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    current = active_backend()
    if current is None:
        os.environ["KERAS_BACKEND"] = name
    elif current != name:
        raise KvisionError(f"{where} asks for the {name} backend, but Keras was already imported with "
                           f"{current} in this process and cannot switch; start a new process with "
                           f"KERAS_BACKEND={name} (or `kvision run --backend {name} ...`)")


def resolve_jit_compile(setting):
    """The `jit_compile` to pass to `compile` for a recipe's `train.jit_compile`.

    Args:
        setting: True, False, or None (auto).

    Returns:
        `setting` when given; otherwise True on JAX (without jax.jit Keras runs
        the step op by op) and False on TensorFlow and torch, where
        tools/bench_backends.py measured compilation slower for small CNNs on CPU.
    """
    if setting is not None:
        return bool(setting)
    import keras

    return keras.backend.backend() == "jax"
