"""LeNet-5 (LeCun, Bottou, Bengio and Haffner 1998, "Gradient-based learning
applied to document recognition")."""

import keras

from kvision.models.classifier import image_classifier
from kvision.registry import MODELS


@MODELS.register("lenet5")
def lenet5(input_shape, num_classes, activation="tanh", pooling="avg", head_dropout=0.0):
    """LeNet-5 (LeCun et al. 1998, "Gradient-based learning applied to document recognition").

    Layout: C1 6@5x5, S2 pool, C3 16@5x5, S4 pool, C5 120, F6 84, output.

    The paper's 32x32 input is MNIST padded by 2; smaller inputs (28x28)
    get "same" padding in C1 instead, which gives the same feature sizes.
    C3 is fully connected to S2 (the paper's partial connection table is a
    1998 compute saving).

    Args:
        input_shape: (height, width, channels).
        num_classes: number of classes.
        activation: "tanh" as in the paper, or "relu".
        pooling: "avg" (the paper's subsampling) or "max".
        head_dropout: dropout before the output layer.

    Returns:
        A `keras.Model` with a "backbone" (C1..F6) and a "head" (output).
    """
    if pooling not in ("avg", "max"):
        raise ValueError(f"pooling must be 'avg' or 'max'. Received: pooling={pooling!r}")
    pool = keras.layers.AveragePooling2D if pooling == "avg" else keras.layers.MaxPooling2D
    padding = "same" if min(input_shape[:2]) < 32 else "valid"
    inputs = keras.Input(shape=input_shape)
    # C1, S2
    x = keras.layers.Conv2D(6, 5, padding=padding, activation=activation, name="c1")(inputs)
    x = pool(2, name="s2")(x)
    # C3, S4
    x = keras.layers.Conv2D(16, 5, activation=activation, name="c3")(x)
    x = pool(2, name="s4")(x)
    # C5, F6
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(120, activation=activation, name="c5")(x)
    x = keras.layers.Dense(84, activation=activation, name="f6")(x)
    backbone = keras.Model(inputs, x)
    return image_classifier(backbone, num_classes, head_dropout, name="lenet5")
