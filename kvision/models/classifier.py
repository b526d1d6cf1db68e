"""The builder convention: a backbone (features) and a head, in one model.

Every model builder returns a functional `keras.Model` laid out as

    images (raw pixels, 0-255) -> Rescaling(1/255) -> backbone -> head -> logits

where `backbone` is a nested `keras.Model` named "backbone" and `head` a
nested `keras.Sequential` named "head". Transfer learning swaps the head and
keeps the backbone; preprocessing travels inside the model, so a saved or
exported model takes raw pixels. Outputs are logits (no softmax): losses use
`from_logits=True`, and distillation needs logits anyway.
"""

import keras

BACKBONE = "backbone"
HEAD = "head"


def classification_head(num_classes, dropout=0.0, name=HEAD):
    """Dropout (optional) then a Dense layer giving `num_classes` logits."""
    layers = [keras.layers.Dropout(dropout, name="head_dropout")] if dropout else []
    # float32 even under a mixed-precision policy: softmax and losses need the range.
    layers.append(keras.layers.Dense(num_classes, dtype="float32", name="logits"))
    return keras.Sequential(layers, name=name)


def image_classifier(backbone, num_classes, head_dropout=0.0, name=None, head=None):
    """Assembles rescaling, `backbone` and a head into the classifier.

    Args:
        backbone: a `keras.Model` from images in [0, 1] to features; it is
            renamed "backbone".
        num_classes: outputs of the head.
        head_dropout: dropout before the last Dense layer.
        name: the model's name.
        head: a ready head (overrides num_classes / head_dropout).

    Returns:
        A functional `keras.Model` from raw pixels to logits.
    """
    backbone.name = BACKBONE
    inputs = keras.Input(shape=backbone.input_shape[1:], name="images")
    x = keras.layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    features = backbone(x)
    head = head or classification_head(num_classes, head_dropout)
    outputs = head(features)
    return keras.Model(inputs, outputs, name=name)


def get_backbone(model):
    """The model's backbone (the nested model named "backbone")."""
    return model.get_layer(BACKBONE)


def get_head(model):
    """The model's head (the nested model named "head")."""
    return model.get_layer(HEAD)
