"""Model surgery for transfer learning: cut the head, freeze the backbone.

kvision models are laid out as `images -> rescale -> backbone -> head`
(`kvision.models.classifier`). Transfer learning keeps the backbone's layer
objects (so its weights stay bit-identical) and puts a new head on top.
"""

import keras

from kvision.models.classifier import BACKBONE, HEAD, classification_head


def split_model(model):
    """Returns (preprocessing layers, backbone, head) of a classifier.

    A kvision classifier has a nested "backbone" and "head"; any other
    functional model is split before its last layer (that layer is the head).

    Args:
        model: a `keras.Model`.

    Returns:
        (list of layers applied to the images before the backbone,
        backbone `keras.Model`, head layer).
    """
    names = [layer.name for layer in model.layers]
    if BACKBONE in names and HEAD in names:
        backbone = model.get_layer(BACKBONE)
        before = [layer for layer in model.layers[1:names.index(BACKBONE)]]
        return before, backbone, model.get_layer(HEAD)
    if len(model.layers) < 2 or not hasattr(model, "inputs"):
        raise ValueError(f"cannot find a backbone in model {model.name!r}: expected a kvision "
                         "classifier (a 'backbone' and a 'head') or a functional model whose last "
                         "layer is the classifier")
    backbone = keras.Model(model.inputs, model.layers[-2].output, name=BACKBONE)
    return [], backbone, model.layers[-1]


def truncate_backbone(backbone, drop_blocks):
    """The backbone without its last `drop_blocks` blocks, globally average-pooled.

    The later a layer, the more specific its features are to the pretraining
    task (Yosinski et al. 2014, "How transferable are features in deep neural
    networks?"); a target task unlike the pretraining one may do better on
    earlier features.

    Args:
        backbone: a functional `keras.Model`.
        drop_blocks: how many of `backbone_blocks` to drop from the end (0:
            the backbone itself).

    Returns:
        A `keras.Model` sharing the backbone's layers, ending at the last
        layer of the last kept block (then global average pooling if that
        is a feature map).
    """
    if drop_blocks == 0:
        return backbone
    blocks = backbone_blocks(backbone)
    if not 0 < drop_blocks < len(blocks):
        raise ValueError(f"the backbone has {len(blocks)} blocks ({', '.join(b for b, _ in blocks)}); "
                         f"cannot drop {drop_blocks}")
    key = blocks[len(blocks) - drop_blocks - 1][0]
    last = [layer for layer in backbone.layers if layer.name.split("_")[0] == key][-1]
    features = last.output
    if len(features.shape) == 4:
        features = keras.layers.GlobalAveragePooling2D(name=f"{key}_avg_pool")(features)
    return keras.Model(backbone.inputs, features, name=BACKBONE)


def replace_head(model, num_classes, dropout=0.0, drop_blocks=0):
    """A classifier sharing `model`'s backbone (same layer objects) with a new head.

    Args:
        model: a kvision classifier (or a functional model whose last layer
            is the classifier).
        num_classes: classes of the new head (any number: 10 -> 100 works).
        dropout: dropout before the new output layer.
        drop_blocks: cut this many blocks off the end of the backbone first
            (`truncate_backbone`).

    Returns:
        A new `keras.Model` from the same inputs to `num_classes` logits; the
        backbone's weights are the very variables of `model`.
    """
    before, backbone, _ = split_model(model)
    backbone = truncate_backbone(backbone, drop_blocks)
    inputs = keras.Input(shape=model.input_shape[1:], name="images")
    x = inputs
    for layer in before:
        x = layer(x)
    outputs = classification_head(num_classes, dropout)(backbone(x))
    return keras.Model(inputs, outputs, name=model.name)


def backbone_blocks(backbone):
    """The backbone's layers that hold weights, grouped into blocks, input side first.

    A block is a run of layers whose names share the part before the first
    "_" (`block3_conv1`, `block3_conv1_bn` -> block3; `conv4_block2_out` ->
    conv4), which is how kvision's and keras.applications' models name them.

    Returns:
        A list of (block name, [layers]).
    """
    blocks = []
    for layer in _leaf_layers(backbone):
        if not layer.weights:
            continue
        key = layer.name.split("_")[0]
        if blocks and blocks[-1][0] == key:
            blocks[-1][1].append(layer)
        else:
            blocks.append((key, [layer]))
    return blocks


def _leaf_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _leaf_layers(layer)
        else:
            yield layer


def freeze_backbone(model, unfreeze="none", blocks=1, freeze_batch_norm=True):
    """Sets which backbone layers train; the head always trains.

    Args:
        model: a kvision classifier.
        unfreeze: "none" (linear probe: the whole backbone frozen), "all",
            or "last_n_blocks" (the last `blocks` blocks of
            `backbone_blocks`).
        blocks: how many blocks "last_n_blocks" unfreezes.
        freeze_batch_norm: keep every BatchNormalization layer of the
            backbone frozen, which in Keras also runs it in inference mode
            (moving statistics fixed), as fine-tuning on small data needs.

    Returns:
        The backbone layers left trainable (leaf layers with weights).
    """
    if unfreeze not in ("none", "all", "last_n_blocks"):
        raise ValueError(f"unfreeze must be none, all or last_n_blocks. Received: {unfreeze!r}")
    _, backbone, head = split_model(model)
    head.trainable = True
    backbone.trainable = unfreeze != "none"
    grouped = backbone_blocks(backbone)
    if unfreeze == "last_n_blocks":
        keep = {id(layer) for _, layers in grouped[len(grouped) - blocks:] for layer in layers}
        for _, layers in grouped:
            for layer in layers:
                layer.trainable = id(layer) in keep
    elif unfreeze == "all":
        for _, layers in grouped:
            for layer in layers:
                layer.trainable = True
    if freeze_batch_norm:
        for layer in _leaf_layers(backbone):
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
    if unfreeze == "none":
        return []
    return [layer for layer in _leaf_layers(backbone) if layer.trainable and layer.trainable_weights]
