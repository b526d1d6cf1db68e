"""AlexNet (Krizhevsky, Sutskever and Hinton 2012, "ImageNet classification
with deep convolutional neural networks")."""

import keras

from kvision.models.classifier import classification_head, image_classifier
from kvision.models.layers import LocalResponseNormalization
from kvision.registry import MODELS

NORMS = ("lrn", "batchnorm", "none")


def _scaled(filters, width, groups):
    """filters x width, rounded to a multiple of `groups` (and at least `groups`)."""
    return max(groups, int(round(filters * width / groups)) * groups)


@MODELS.register("alexnet")
def alexnet(input_shape, num_classes, norm="batchnorm", width=1.0, dense_units=4096, dropout=0.5,
            groups=2, small_input=None, head_dropout=0.0):
    """AlexNet (Krizhevsky et al. 2012, "ImageNet classification with deep convolutional neural networks").

    Layout: conv 96@11x11/4, norm, pool 3/2; conv 256@5x5, norm, pool 3/2;
    conv 384@3x3, 384@3x3, 256@3x3, pool 3/2; dense 4096, dropout 0.5,
    dense 4096, dropout 0.5; output. ReLU throughout. `groups=2` keeps the
    paper's two-GPU split of conv2, conv4 and conv5 (which gives its 61M
    parameters); `groups=1` is the single-tower variant of later papers.
    At 224x224 the first convolution pads by 2, so that feature maps are
    the paper's 55, 27, 13 and 6.

    Args:
        input_shape: (height, width, channels).
        num_classes: number of classes.
        norm: "lrn" (the paper's local response normalization), "batchnorm"
            (its modern replacement) or "none", after conv1 and conv2.
        width: multiplier of the convolution filters.
        dense_units: units of the two hidden dense layers.
        dropout: dropout after each hidden dense layer (the paper's 0.5).
        groups: convolution groups in conv2, conv4 and conv5.
        small_input: a 3x3 stride-1 first convolution instead of 11x11
            stride 4, for inputs under 64 px (28 px -> feature maps 13, 6,
            2); default: on when the input is under 64 px.
        head_dropout: dropout before the output layer (a noise knob).

    Returns:
        A `keras.Model` with a "backbone" (convolutions and hidden dense
        layers) and a "head".
    """
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(NORMS)}. Received: norm={norm!r}")
    if small_input is None:
        small_input = min(input_shape[:2]) < 64
    c1, c2, c3, c4, c5 = (_scaled(f, width, groups) for f in (96, 256, 384, 384, 256))

    def normalize(x, name):
        if norm == "lrn":
            return LocalResponseNormalization(name=f"{name}_lrn")(x)
        if norm == "batchnorm":
            return keras.layers.BatchNormalization(name=f"{name}_bn")(x)
        return x

    def conv(x, filters, size, name, strides=1, conv_groups=1, padding="same"):
        normalized = name in ("conv1", "conv2")
        x = keras.layers.Conv2D(filters, size, strides=strides, padding=padding, groups=conv_groups,
                                use_bias=not (normalized and norm == "batchnorm"), name=name)(x)
        if normalized:
            x = normalize(x, name)
        return keras.layers.ReLU(name=f"{name}_relu")(x)

    inputs = keras.Input(shape=input_shape)
    # Block 1
    if small_input:
        x = conv(inputs, c1, 3, "conv1")
    else:
        x = keras.layers.ZeroPadding2D(2, name="conv1_pad")(inputs)
        x = conv(x, c1, 11, "conv1", strides=4, padding="valid")
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    # Block 2
    x = conv(x, c2, 5, "conv2", conv_groups=groups)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool2")(x)
    # Block 3
    x = conv(x, c3, 3, "conv3")
    x = conv(x, c4, 3, "conv4", conv_groups=groups)
    x = conv(x, c5, 3, "conv5", conv_groups=groups)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool5")(x)
    # Dense layers
    x = keras.layers.Flatten(name="flatten")(x)
    for i in (6, 7):
        x = keras.layers.Dense(dense_units, activation="relu", name=f"fc{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
    backbone = keras.Model(inputs, x)
    return image_classifier(backbone, num_classes, name="alexnet",
                            head=classification_head(num_classes, head_dropout))
