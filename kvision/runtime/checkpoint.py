"""Crash-safe training state: weights, optimizer state and step, written atomically.

A run folder's `checkpoints/state/` holds `state-STEP.npz` (every model and
optimizer variable, by position) and `state.json` (the step it holds, and
whether training finished). `state.json` is replaced last, by a rename, so a
process killed at any moment leaves the previous, complete checkpoint in
force; older `.npz` files are removed only after that.
"""

import glob
import json
import os

import keras
import numpy as np

from kvision.io import atomic_write_bytes, atomic_write_text


class TrainingState:
    """Saves and restores a model's training state in `folder`.

    Args:
        folder: where the state files are written (and read).
        read_from: read from this folder instead (a multi-worker run's
            workers resume from the chief's state but write elsewhere).
    """

    def __init__(self, folder, read_from=None):
        self.folder = folder
        self.meta_path = os.path.join(folder, "state.json")
        self.read_folder = read_from or folder

    def meta(self):
        """The saved metadata ({"step", "finished", "weights"}), or None."""
        path = os.path.join(self.read_folder, "state.json")
        if not os.path.isfile(path):
            return None
        with open(path) as f:
            return json.load(f)

    @staticmethod
    def _variables(model):
        variables = list(model.weights)
        if model.optimizer is not None:
            variables += list(model.optimizer.variables)
        return variables

    def save(self, model, step, finished=False):
        """Writes the state of `model` and its optimizer at global `step`."""
        os.makedirs(self.folder, exist_ok=True)
        name = f"state-{step}.npz"
        import io

        buffer = io.BytesIO()
        np.savez(buffer, *[keras.ops.convert_to_numpy(v) for v in self._variables(model)])
        atomic_write_bytes(os.path.join(self.folder, name), buffer.getvalue())
        atomic_write_text(self.meta_path, json.dumps({"step": int(step), "finished": finished,
                                                      "weights": name}))
        for old in glob.glob(os.path.join(self.folder, "state-*.npz")):
            if os.path.basename(old) != name:
                os.remove(old)

    def restore(self, model):
        """Loads the saved state into `model` (compiled, optimizer built); returns the metadata."""
        meta = self.meta()
        if meta is None:
            return None
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        with np.load(os.path.join(self.read_folder, meta["weights"])) as arrays:
            values = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
        variables = self._variables(model)
        if len(values) != len(variables):
            raise ValueError(f"checkpoint in {self.folder} holds {len(values)} variables, the model "
                             f"{len(variables)}")
        for variable, value in zip(variables, values):
            variable.assign(value)
        return meta

    def clear(self):
        """Removes the saved state."""
        for path in glob.glob(os.path.join(self.folder, "*")):
            os.remove(path)


class StepCheckpoint(keras.callbacks.Callback):
    """Saves the training state every `every_steps` optimizer steps and at each epoch end.

    Args:
        state: a `TrainingState`.
        every_steps: steps between saves (None: epoch ends only).
        guard: a `StopOnNaN`; nothing is saved once it reports broken weights.
    """

    def __init__(self, state, every_steps=None, guard=None):
        super().__init__()
        self.state = state
        self.every_steps = every_steps
        self.guard = guard

    def _healthy(self):
        return self.guard is None or not self.guard.broken

    def _step(self):
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_train_batch_end(self, batch, logs=None):
        if self.every_steps and self._step() % self.every_steps == 0 and self._healthy():
            self.state.save(self.model, self._step())

    def on_epoch_end(self, epoch, logs=None):
        if self._healthy():
            self.state.save(self.model, self._step())
