"""Exports for serving: SavedModel (with serving signatures), ONNX, .keras."""

import os
import shutil

import keras

from kvision.errors import KvisionError

FORMATS = ("saved_model", "onnx", "keras")


def export_model(model, path, class_names, fmt="saved_model"):
    """Exports `model` to `path` in format `fmt`; the folder or file appears whole or not at all.

    Raises:
        KvisionError: unknown format, the ONNX converter is not installed, or the model
            cannot be exported in that format.
    """
    if fmt not in FORMATS:
        raise KvisionError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "onnx":  # before any work, and before a TensorFlow child process is started
        from kvision.export.onnx import require_float32

        require_float32(model)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    try:
        if fmt == "keras":
            model.save(tmp if tmp.endswith(".keras") else tmp + ".keras")
            if not tmp.endswith(".keras"):
                os.replace(tmp + ".keras", tmp)
        elif keras.backend.backend() != "tensorflow":  # both are TensorFlow graphs
            from kvision.export.through_tensorflow import export_through_tensorflow

            export_through_tensorflow(model, tmp, class_names, fmt)
        elif fmt == "saved_model":
            from kvision.export.saved_model import export_saved_model

            export_saved_model(model, tmp, class_names)
        else:
            from kvision.export.onnx import export_onnx

            export_onnx(model, tmp, class_names)
        if os.path.isdir(path):
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp)
        elif os.path.exists(tmp):
            os.remove(tmp)
    return path

