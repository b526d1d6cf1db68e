"""The fully connected baseline: every pixel into every hidden unit."""

import keras

from kvision.models.classifier import image_classifier
from kvision.registry import MODELS


@MODELS.register("mlp")
def mlp(input_shape, num_classes, hidden_sizes=(256, 128), dropout=0.2, activation="relu",
        head_dropout=0.0):
    """A multilayer perceptron on flattened pixels (Rumelhart et al. 1986,
    "Learning representations by back-propagating errors").

    Args:
        input_shape: (height, width, channels).
        num_classes: number of classes.
        hidden_sizes: units of each hidden Dense layer.
        dropout: dropout after each hidden layer.
        activation: hidden activation.
        head_dropout: dropout before the output layer.

    Returns:
        A `keras.Model` with a "backbone" and a "head".
    """
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Flatten(name="flatten")(inputs)
    for i, units in enumerate(hidden_sizes):
        x = keras.layers.Dense(units, activation=activation, name=f"dense{i + 1}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{i + 1}")(x)
    backbone = keras.Model(inputs, x)
    return image_classifier(backbone, num_classes, head_dropout, name="mlp")
