"""The `pretrained` model: a backbone from somewhere else with a new head.

Sources, by name in a recipe's `model.source`:

    stage:NAME                  the model an earlier stage of the recipe trained
    PATH                        a kvision run folder or a `.keras` file (safe mode)
    keras.applications:NAME     e.g. keras.applications:MobileNetV2, with
                                `weights: imagenet | null | PATH`
    hub:PRESET                  a KerasHub backbone preset (the `hub` extra)
"""

import os
import urllib.error

import keras
import numpy as np

from kvision.errors import KvisionError
from kvision.models.classifier import image_classifier
from kvision.registry import MODELS, did_you_mean
from kvision.transfer.surgery import replace_head

APPLICATIONS = "keras.applications:"
HUB = "hub:"
STAGE = "stage:"

# How each keras.applications family expects its pixels, given images in [0, 1].
# "raw": 0-255 (the model preprocesses itself); "tf": [-1, 1]; "torch": ImageNet
# mean/std; "caffe": 0-255 BGR minus the ImageNet mean.
PREPROCESSING = {
    "vgg16": "caffe", "vgg19": "caffe", "resnet": "caffe",
    "resnet_v2": "tf", "mobilenet": "tf", "mobilenet_v2": "tf", "inception_v3": "tf",
    "inception_resnet_v2": "tf", "xception": "tf", "nasnet": "tf",
    "densenet": "torch",
    "mobilenet_v3": "raw", "efficientnet": "raw", "efficientnet_v2": "raw", "convnext": "raw",
    "regnet": "raw",
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def application_names():
    """The model constructors in `keras.applications`."""
    return sorted(n for n in dir(keras.applications) if n[:1].isupper())


@MODELS.register("pretrained")
def pretrained(input_shape, num_classes, source, weights="imagenet", head_dropout=0.0, drop_blocks=0):
    """A pretrained backbone with a new head of `num_classes` outputs.

    Args:
        input_shape: (height, width, channels) of the data.
        num_classes: classes of the new head.
        source: where the backbone comes from (see the module docstring).
        weights: for keras.applications and hub sources: "imagenet" (the
            published weights; needs network once, or the file in
            ~/.keras/models), null (random initialisation) or a path to a
            weights file.
        head_dropout: dropout before the new output layer.
        drop_blocks: cut this many blocks off the end of the backbone
            (kvision and .keras sources): later features are the most
            specific to the pretraining task.

    Returns:
        A kvision classifier (backbone + head) taking raw pixels.
    """
    if source.startswith(STAGE):
        raise KvisionError(f"model.source {source!r} names a stage, which works only inside a "
                           "recipe's stages: list")
    if source.startswith(APPLICATIONS):
        return _from_application(source[len(APPLICATIONS):], weights, input_shape, num_classes,
                                 head_dropout)
    if source.startswith(HUB):
        return _from_hub(source[len(HUB):], weights, input_shape, num_classes, head_dropout)
    return _from_kvision(source, input_shape, num_classes, head_dropout, drop_blocks)


def check_arguments(source, weights="imagenet", head_dropout=0.0, drop_blocks=0):
    """The recipe check: a message for a source or weights that cannot work, else None."""
    if source.startswith(APPLICATIONS):
        name = source[len(APPLICATIONS):]
        if name not in application_names():
            return (f"keras.applications has no model {name!r}.{did_you_mean(name, application_names())}"
                    .rstrip(".") + f" Available: {', '.join(application_names())}")
    elif source.startswith(HUB):
        if not source[len(HUB):]:
            return "expected hub:PRESET, e.g. hub:resnet_50_imagenet"
    elif not source.startswith(STAGE) and not os.path.exists(source):
        return (f"no model at {source}; expected stage:NAME, a run folder, a .keras file, "
                "keras.applications:NAME or hub:PRESET")
    if drop_blocks < 0:
        return "drop_blocks must be 0 or more"
    if weights not in (None, "imagenet") and not os.path.isfile(str(weights)):
        return f"model.weights must be imagenet, null or an existing weights file; {weights} not found"
    return None


pretrained.check_arguments = check_arguments


def _from_kvision(path, input_shape, num_classes, head_dropout, drop_blocks=0):
    from kvision.artifacts import load_trained

    model, _ = load_trained(path)
    expected = tuple(model.input_shape[1:])
    if None not in expected and expected != tuple(input_shape):
        raise KvisionError(f"the pretrained model {path} takes images of shape {expected}, the data "
                           f"gives {tuple(input_shape)}; set data.image_size and data.channels to "
                           "match it")
    try:
        return replace_head(model, num_classes, head_dropout, drop_blocks)
    except ValueError as e:
        raise KvisionError(f"model.drop_blocks: {e}") from None


def _from_application(name, weights, input_shape, num_classes, head_dropout):
    constructor = getattr(keras.applications, name)
    if weights == "imagenet" and input_shape[-1] != 3:
        raise KvisionError(f"ImageNet weights of {name} need 3-channel images; set data.channels: 3")
    try:
        network = constructor(include_top=False, weights=weights, input_shape=tuple(input_shape),
                              pooling="avg")
    except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
        raise _offline_error(name, e) from None
    except Exception as e:  # keras.utils.get_file raises a plain Exception on fetch failures
        if "fetch failure" in str(e) or "URL" in str(e):
            raise _offline_error(name, e) from None
        raise KvisionError(f"keras.applications.{name} cannot be built for images of shape "
                           f"{tuple(input_shape)} with weights={weights!r}: {e}") from None
    inputs = keras.Input(shape=tuple(input_shape))
    x = _preprocessing(constructor.__module__.rsplit(".", 1)[-1])(inputs)
    backbone = keras.Model(inputs, network(x))
    return image_classifier(backbone, num_classes, head_dropout, name=name.lower())


def _offline_error(name, error):
    return KvisionError(
        f"cannot download the ImageNet weights of keras.applications.{name}: this machine seems to "
        f"have no network ({error.__class__.__name__}). Download the 'no top' weights file on a "
        f"machine that has network (keras.applications.{name}(include_top=False) saves it in "
        "~/.keras/models/) and copy it here, into ~/.keras/models/ or anywhere with model.weights: "
        "/path/to/file.h5; or set model.weights: null to start from random weights.")


def _preprocessing(family):
    """Keras layers mapping [0, 1] pixels to what the application family expects."""
    mode = PREPROCESSING.get(family, "tf")
    if mode == "raw":
        return keras.layers.Rescaling(255.0, name="to_255")
    if mode == "tf":
        return keras.layers.Rescaling(2.0, offset=-1.0, name="to_minus1_1")
    if mode == "torch":
        return keras.layers.Normalization(mean=IMAGENET_MEAN, variance=[s * s for s in IMAGENET_STD],
                                          name="imagenet_normalization")
    # caffe: 0-255, RGB -> BGR, minus the BGR mean: one fixed linear map over channels.
    layer = keras.layers.Dense(3, trainable=False, name="caffe_bgr")
    layer.build((None, 3))
    layer.set_weights([np.array([[0, 0, 255.0], [0, 255.0, 0], [255.0, 0, 0]], "float32"),
                       -np.array(CAFFE_MEAN_BGR, "float32")])
    return layer


def _from_hub(preset, weights, input_shape, num_classes, head_dropout):
    try:
        import keras_hub
    except ImportError:
        raise KvisionError(f"model.source hub:{preset} needs KerasHub: pip install 'kvision[hub]'") \
            from None
    try:
        network = keras_hub.models.Backbone.from_preset(preset, load_weights=weights is not None)
        converter = keras_hub.layers.ImageConverter.from_preset(preset)
    except Exception as e:
        raise KvisionError(f"cannot load the KerasHub preset {preset!r} ({e.__class__.__name__}: {e}). "
                           "Presets download from Kaggle or Hugging Face the first time; offline, "
                           "point hub: at a local preset folder instead") from None
    inputs = keras.Input(shape=tuple(input_shape))
    x = keras.layers.Rescaling(255.0, name="to_255")(inputs)
    features = network(converter(x))
    if len(features.shape) == 4:
        features = keras.layers.GlobalAveragePooling2D(name="avg_pool")(features)
    backbone = keras.Model(inputs, features)
    return image_classifier(backbone, num_classes, head_dropout, name=preset.replace("/", "_"))
