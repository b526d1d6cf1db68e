"""Exports for serving: SavedModel (with serving signatures), ONNX, .keras."""

import os
import shutil

from kvision.errors import KvisionError

FORMATS = ("saved_model", "onnx", "keras")


def export_model(model, path, class_names, fmt="saved_model"):
    """Exports `model` to `path` in format `fmt`; the folder or file appears whole or not at all.

    Raises:
        KvisionError: unknown format, or the ONNX converter is not installed.
    """
    if fmt not in FORMATS:
        raise KvisionError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    try:
        if fmt == "saved_model":
            import keras

            from kvision.export import saved_model

            if keras.backend.backend() == "tensorflow":
                saved_model.export_saved_model(model, tmp, class_names)
            else:  # the serving signatures are TensorFlow graphs
                saved_model.export_saved_model_through_tensorflow(model, tmp, class_names)
        elif fmt == "keras":
            model.save(tmp if tmp.endswith(".keras") else tmp + ".keras")
            if not tmp.endswith(".keras"):
                os.replace(tmp + ".keras", tmp)
        else:
            _export_onnx(model, tmp)
        if os.path.isdir(path):
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp)
        elif os.path.exists(tmp):
            os.remove(tmp)
    return path


def _export_onnx(model, path):
    try:
        import tf2onnx  # noqa: F401
    except ImportError:
        raise KvisionError("ONNX export needs the onnx extra: pip install 'kvision[onnx]'") from None
    model.export(path, format="onnx")
