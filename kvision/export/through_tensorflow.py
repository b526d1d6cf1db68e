"""Exports that are TensorFlow graphs (SavedModel, ONNX through tf2onnx), from any backend.

A `.keras` file is backend-independent, so a JAX or PyTorch process saves the
model, and a child process on the TensorFlow backend loads it and writes the
export. Same signatures, same numbers, no extra converter per backend.
"""

import json
import os
import subprocess
import sys
import tempfile

from kvision.errors import KvisionError


def export_through_tensorflow(model, path, class_names, fmt):
    """Writes `model` to `path` in `fmt` from a TensorFlow-backend child process.

    Args:
        model: a kvision classifier on any backend.
        path: where the export goes.
        class_names: one name per class, stored in the export.
        fmt: `saved_model` or `onnx`.

    Returns:
        `path`.

    Raises:
        KvisionError: the TensorFlow process failed; the message ends with its last error line.
    """
    with tempfile.TemporaryDirectory() as folder:
        saved = os.path.join(folder, "model.keras")
        model.save(saved)
        env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
        done = subprocess.run([sys.executable, "-m", "kvision.export.through_tensorflow", saved, path,
                               json.dumps([str(n) for n in class_names]), fmt],
                              env=env, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise KvisionError(f"{fmt} export through the TensorFlow backend failed: {last}")
    return path


if __name__ == "__main__":  # python -m kvision.export.through_tensorflow MODEL.keras OUT NAMES_JSON FORMAT
    import keras

    import kvision.components  # noqa: F401  (registers kvision's layers for loading)
    from kvision.export import export_model

    model_file, out, names, fmt = sys.argv[1:5]
    try:  # on the TensorFlow backend, export_model writes the format itself
        export_model(keras.saving.load_model(model_file), out, json.loads(names), fmt)
    except KvisionError as error:
        sys.exit(str(error))
