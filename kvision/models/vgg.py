"""VGG (Simonyan and Zisserman 2014, "Very deep convolutional networks for
large-scale image recognition"): configurations A, B, D and E as data."""

import keras

from kvision.models.classifier import classification_head, image_classifier
from kvision.models.layers import StochasticDepth
from kvision.registry import MODELS

POOL = "M"
# Table 1 of the paper: filters of each 3x3 convolution, "M" a 2x2 max pool.
CONFIGS = {
    "A": [64, POOL, 128, POOL, 256, 256, POOL, 512, 512, POOL, 512, 512, POOL],
    "B": [64, 64, POOL, 128, 128, POOL, 256, 256, POOL, 512, 512, POOL, 512, 512, POOL],
    "D": [64, 64, POOL, 128, 128, POOL, 256, 256, 256, POOL, 512, 512, 512, POOL, 512, 512, 512, POOL],
    "E": [64, 64, POOL, 128, 128, POOL, 256, 256, 256, 256, POOL, 512, 512, 512, 512, POOL,
          512, 512, 512, 512, POOL],
}
HEADS = ("flatten", "gap")


def vgg(config, input_shape, num_classes, batch_norm=False, width=1.0, head="flatten",
        dense_units=4096, dropout=0.5, stochastic_depth=0.0, min_feature_size=1, head_dropout=0.0,
        name="vgg", bn_momentum=0.99):
    """Builds a VGG from a configuration list.

    Args:
        config: "A", "B", "D", "E", or a list of filters and "M" (pool).
        input_shape: (height, width, channels).
        num_classes: number of classes.
        batch_norm: BatchNormalization after each convolution (not in the
            paper; Ioffe and Szegedy 2015).
        width: multiplier of the convolution filters.
        head: "flatten" (the paper: flatten, two dense layers with dropout)
            or "gap" (global average pooling, no hidden dense layers).
        dense_units: units of the hidden dense layers of the flatten head.
        dropout: dropout after each hidden dense layer (the paper's 0.5).
        stochastic_depth: the largest drop rate of stochastic depth, reached
            by the last eligible convolution and linear in depth (Huang et
            al. 2016); a convolution is eligible when its input and output
            shapes match (every one after the first of its stage).
        min_feature_size: a pool is skipped when it would make the feature
            map smaller than this, so that small inputs (28 px) keep the
            pools they can afford.
        head_dropout: dropout before the output layer (a noise knob).
        name: the model's name.
        bn_momentum: momentum of the BatchNorm moving statistics (Keras'
            0.99 by default; 0.9, PyTorch's and timm's, for runs of a few
            hundred steps, whose statistics would otherwise still lag).

    Returns:
        A `keras.Model` with a "backbone" and a "head".
    """
    if head not in HEADS:
        raise ValueError(f"head must be one of {', '.join(HEADS)}. Received: head={head!r}")
    layers = CONFIGS[config] if isinstance(config, str) else list(config)
    eligible = [i for i, v in enumerate(layers) if v != POOL and i > 0 and layers[i - 1] != POOL]
    inputs = keras.Input(shape=input_shape)
    x = inputs
    size = min(input_shape[:2])
    stage, conv_in_stage = 1, 0
    for i, value in enumerate(layers):
        if value == POOL:
            if size // 2 >= min_feature_size:
                x = keras.layers.MaxPooling2D(2, name=f"block{stage}_pool")(x)
                size //= 2
            stage, conv_in_stage = stage + 1, 0
            continue
        conv_in_stage += 1
        prefix = f"block{stage}_conv{conv_in_stage}"
        shortcut = x
        filters = max(1, int(round(value * width)))
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name=prefix)(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(momentum=bn_momentum, name=f"{prefix}_bn")(x)
        x = keras.layers.ReLU(name=f"{prefix}_relu")(x)
        if stochastic_depth and i in eligible:
            rate = stochastic_depth * (eligible.index(i) + 1) / len(eligible)
            x = StochasticDepth(rate, name=f"{prefix}_drop")([shortcut, x])
    if head == "flatten":
        x = keras.layers.Flatten(name="flatten")(x)
        for i in (1, 2):
            x = keras.layers.Dense(dense_units, activation="relu", name=f"fc{i}")(x)
            if dropout:
                x = keras.layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
    else:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    backbone = keras.Model(inputs, x)
    return image_classifier(backbone, num_classes, name=name,
                            head=classification_head(num_classes, head_dropout))


def _variant(config, name):
    def builder(input_shape, num_classes, batch_norm=False, width=1.0, head="flatten", dense_units=4096,
                dropout=0.5, stochastic_depth=0.0, min_feature_size=1, head_dropout=0.0,
                bn_momentum=0.99):
        return vgg(config, input_shape, num_classes, batch_norm, width, head, dense_units, dropout,
                   stochastic_depth, min_feature_size, head_dropout, name, bn_momentum)

    depth = sum(v != POOL for v in CONFIGS[config]) + 3
    builder.__name__ = name
    builder.__doc__ = (f"VGG-{depth}, configuration {config} (Simonyan and Zisserman 2014, \"Very deep "
                       "convolutional networks for large-scale image recognition\").\n\n"
                       "    Keywords as in `kvision.models.vgg.vgg`.\n    ")
    return MODELS.register(name)(builder)


vgg11 = _variant("A", "vgg11")
vgg13 = _variant("B", "vgg13")
vgg16 = _variant("D", "vgg16")
vgg19 = _variant("E", "vgg19")
