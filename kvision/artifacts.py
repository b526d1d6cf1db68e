"""Finding and loading what a run left behind: the model and its class names."""

import json
import os

from kvision.errors import KvisionError


def model_path(path):
    """The `.keras` file for a run folder or a model path."""
    if os.path.isdir(path):
        candidate = os.path.join(path, "model.keras")
        if not os.path.isfile(candidate):
            raise KvisionError(f"{path} is a folder without model.keras (not a kvision run folder)")
        return candidate
    if not os.path.isfile(path):
        raise KvisionError(f"model not found: {path}")
    return path


def class_names_for(path, num_classes):
    """Class names from the summary.json beside the model, else "0".."n-1"."""
    summary = os.path.join(os.path.dirname(os.path.abspath(path)), "summary.json")
    if os.path.isfile(summary):
        try:
            with open(summary) as f:
                names = json.load(f).get("class_names")
            if names and len(names) == num_classes:
                return list(names)
        except (OSError, ValueError):
            pass
    return [str(i) for i in range(num_classes)]


def load_trained(path):
    """Loads a trained model (safe mode) and its class names.

    Args:
        path: a run folder or a `.keras` file.

    Returns:
        (model, class_names).

    Raises:
        KvisionError: no model there, not a model, or a model that needs
            unsafe deserialisation.
    """
    import keras

    import kvision.components  # noqa: F401  (registers kvision's serializable classes)

    path = model_path(path)
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except ValueError as e:
        if "Lambda" in str(e) or "safe_mode" in str(e):
            raise KvisionError(f"{path} holds a Lambda layer, which safe mode refuses to load (it would "
                               "run code stored in the file). If you trust the file, load it yourself "
                               "with keras.saving.load_model(path, safe_mode=False).") from None
        raise KvisionError(f"cannot load {path} as a Keras model: {e}") from None
    except Exception as e:  # zip, h5 or config errors for files that are not models
        raise KvisionError(f"cannot load {path} as a Keras model ({e.__class__.__name__}: {e})") from None
    return model, class_names_for(path, int(model.output_shape[-1]))
