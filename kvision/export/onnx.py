"""ONNX export for ONNX Runtime and other ONNX servers.

The graph takes `images`: float32 raw pixels [batch, height, width, channels]
(0-255, the model's input size; the model rescales them itself) and returns
`probabilities` [batch, classes]. The class names are stored in the model's
metadata (`metadata_props["class_names"]`, a JSON list), so a server needs
only the `.onnx` file.

Conversion is Keras' own `Model.export(format="onnx")` through tf2onnx, on the
TensorFlow backend; JAX and PyTorch models take the same path through
`kvision.export.through_tensorflow` (no jax2onnx or onnxscript needed).
"""

import json

import keras

from kvision.errors import KvisionError


def _require(module):
    try:
        __import__(module)
    except ImportError:
        raise KvisionError(f"ONNX export needs the onnx extra ({module} is missing): "
                           "pip install 'kvision[onnx]'") from None


def probabilities_model(model):
    """`model` (raw pixels in, logits out) followed by a float32 softmax, with a named input.

    Args:
        model: a float32 kvision classifier.

    Returns:
        A functional `keras.Model` mapping `images` to `probabilities`.
    """
    images = keras.Input(model.input_shape[1:], dtype="float32", name="images")
    logits = model(images, training=False)
    probabilities = keras.layers.Softmax(dtype="float32", name="probabilities")(logits)
    return keras.Model(images, probabilities, name=f"{model.name}_probabilities")


def require_float32(model):
    """Refuses a mixed-precision model: Keras' ONNX export needs float32 throughout.

    Raises:
        KvisionError: some layer computes in another dtype policy.
    """
    mixed = sorted({layer.dtype_policy.name for layer in model._flatten_layers()} - {"float32"})
    if mixed:
        raise KvisionError(f"ONNX export needs a float32 model; this one computes in {', '.join(mixed)}. "
                           "Export --format saved_model instead (it keeps mixed precision)")


def export_onnx(model, path, class_names):
    """Writes `model` to `path` as an ONNX file with probabilities out and class names in its metadata.

    Args:
        model: a kvision classifier with float32 weights and compute;
            `export_model` refuses any other with `require_float32` before
            calling this.
        path: the `.onnx` file to write.
        class_names: one name per class.

    Returns:
        `path`.

    Raises:
        KvisionError: the converter or `onnx` is not installed.
    """
    _require("tf2onnx")
    _require("onnx")
    import onnx

    wrapper = probabilities_model(model)
    height, width, channels = model.input_shape[1:]
    signature = [keras.InputSpec(shape=(None, height, width, channels), dtype="float32", name="images")]
    wrapper.export(path, format="onnx", input_signature=signature, verbose=False)
    proto = onnx.load(path)
    _rename_output(proto.graph, "probabilities")
    for value in (proto.graph.input[0], proto.graph.output[0]):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    entry = proto.metadata_props.add()
    entry.key, entry.value = "class_names", json.dumps([str(n) for n in class_names])
    onnx.save(proto, path)
    return path


def _rename_output(graph, name):
    """Renames the graph's one output (tf2onnx calls it `Identity:0`) to `name`."""
    old = graph.output[0].name
    for node in graph.node:
        node.output[:] = [name if value == old else value for value in node.output]
        node.input[:] = [name if value == old else value for value in node.input]
    graph.output[0].name = name
