"""Transfer learning: head surgery, freezing, discriminative learning rates, pretrained sources."""

import numpy as np
import pytest

import keras

from kvision.errors import KvisionError
from kvision.models import build_model
from kvision.transfer import (TransferLearner, backbone_blocks, freeze_backbone, replace_head,
                              scale_updates, split_model)
from kvision.transfer.pretrained import check_arguments, pretrained

SHAPE = (16, 16, 1)


def small_vgg(num_classes=4, seed=0):
    keras.utils.set_random_seed(seed)
    return build_model("vgg11", SHAPE, num_classes, batch_norm=True, width=0.125, head="gap")


def batch(num_classes=3, n=32, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, *SHAPE)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, num_classes, n), num_classes)
    return x, y


def values(variables):
    return [keras.ops.convert_to_numpy(v).copy() for v in variables]


def backbone_of(model):
    return split_model(model)[1]


def compiled(model, optimizer=None, **kwargs):
    learner = TransferLearner(model, **kwargs)
    learner.compile(optimizer=optimizer or keras.optimizers.SGD(0.1),
                    loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    return learner


def test_replace_head_keeps_backbone_weights_bit_identical_and_any_class_count():
    model = small_vgg(num_classes=10)
    before = values(backbone_of(model).weights)
    new = replace_head(model, 100)
    assert new.output_shape == (None, 100)
    after = values(backbone_of(new).weights)
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert backbone_of(new) is backbone_of(model)  # the very same variables


def test_linear_probe_changes_only_the_head():
    model = replace_head(small_vgg(), 3)
    backbone, head = backbone_of(model), split_model(model)[2]
    bb, hd = values(backbone.weights), values(head.weights)
    x, y = batch()
    compiled(model, mode="linear_probe").fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(bb, values(backbone.weights)))
    assert not np.allclose(hd[0], values(head.weights)[0])


def one_step_deltas(multiplier, optimizer):
    model = replace_head(small_vgg(seed=3), 3)
    backbone, head = backbone_of(model), split_model(model)[2]
    bb, hd = values(backbone.weights), values(head.weights)
    x, y = batch()
    compiled(model, optimizer, mode="finetune", backbone_lr_multiplier=multiplier).fit(
        x, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
    return ([b - a for a, b in zip(bb, values(backbone.weights))],
            [b - a for a, b in zip(hd, values(head.weights))])


@pytest.mark.parametrize("make_optimizer", [
    lambda: keras.optimizers.SGD(0.05, momentum=0.9),
    lambda: keras.optimizers.Adam(0.01),
    lambda: keras.optimizers.AdamW(0.01, weight_decay=0.5),
], ids=["sgd", "adam", "adamw"])
def test_finetune_moves_the_backbone_by_the_multiplier_times_the_usual_step(make_optimizer):
    full_backbone, full_head = one_step_deltas(1.0, make_optimizer())
    slow_backbone, slow_head = one_step_deltas(0.25, make_optimizer())
    assert max(np.abs(d).max() for d in slow_backbone) > 0  # the backbone trains
    for full, slow in zip(full_backbone, slow_backbone):
        np.testing.assert_allclose(slow, 0.25 * full, rtol=1e-3, atol=1e-7)
    for full, slow in zip(full_head, slow_head):  # the head at the full learning rate
        np.testing.assert_allclose(slow, full, rtol=1e-4, atol=1e-7)


def test_scale_updates_zero_keeps_variables_fixed():
    variable = keras.Variable(np.ones(3, "float32"))
    other = keras.Variable(np.ones(3, "float32"))
    optimizer = scale_updates(keras.optimizers.SGD(1.0), [variable], 0.0)
    optimizer.apply([keras.ops.ones(3), keras.ops.ones(3)], [variable, other])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), np.ones(3))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(other), np.zeros(3))


def batch_norm_statistics(model):
    return values([w for layer in backbone_of(model).layers
                   if isinstance(layer, keras.layers.BatchNormalization)
                   for w in (layer.moving_mean, layer.moving_variance)])


@pytest.mark.parametrize("freeze", [True, False])
def test_frozen_batch_norm_statistics_do_not_move_in_finetuning(freeze):
    model = replace_head(small_vgg(), 3)
    stats = batch_norm_statistics(model)
    convs = values(backbone_of(model).get_layer("block1_conv1").weights)
    x, y = batch()
    compiled(model, mode="finetune", freeze_batch_norm=freeze).fit(x, y, epochs=1, batch_size=8,
                                                                   verbose=0)
    moved = [not np.array_equal(a, b) for a, b in zip(stats, batch_norm_statistics(model))]
    assert not any(moved) if freeze else all(moved)
    assert not np.array_equal(convs[0], values(backbone_of(model).get_layer("block1_conv1").weights)[0])


def test_last_n_blocks_trains_only_the_last_blocks():
    model = replace_head(small_vgg(), 3)
    blocks = backbone_blocks(backbone_of(model))
    assert [name for name, _ in blocks] == ["block1", "block2", "block3", "block4", "block5"]
    trainable = freeze_backbone(model, unfreeze="last_n_blocks", blocks=2)
    assert {layer.name for layer in trainable} == {"block4_conv1", "block4_conv2", "block5_conv1",
                                                  "block5_conv2"}
    first = values(blocks[0][1][0].weights)
    last = values(blocks[-1][1][0].weights)
    x, y = batch()
    compiled(model, mode="finetune", unfreeze="last_n_blocks", blocks=2).fit(x, y, epochs=1,
                                                                            batch_size=8, verbose=0)
    assert np.array_equal(first[0], values(blocks[0][1][0].weights)[0])
    assert not np.array_equal(last[0], values(blocks[-1][1][0].weights)[0])


def test_lp_ft_probes_first_then_finetunes():
    model = replace_head(small_vgg(), 3)
    backbone = backbone_of(model)
    start = values(backbone.weights)
    learner = compiled(model, keras.optimizers.Adam(0.01), mode="lp_ft", probe_epochs=2)
    assert learner.phase_starts == [0, 2]
    x, y = batch()
    learner.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(start, values(backbone.weights)))
    history = learner.fit(x, y, epochs=3, initial_epoch=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 1
    assert not np.array_equal(start[0], values(backbone.weights)[0])
    # one fit across the boundary runs both phases
    model2 = replace_head(small_vgg(), 3)
    history = compiled(model2, mode="lp_ft", probe_epochs=1).fit(x, y, epochs=3, batch_size=8,
                                                                 verbose=0)
    assert len(history.history["loss"]) == 3


def test_transfer_learner_round_trips_through_get_config():
    learner = TransferLearner(replace_head(small_vgg(), 3), mode="lp_ft", backbone_lr_multiplier=0.3,
                              unfreeze="last_n_blocks", blocks=2, probe_epochs=4)
    config = learner.get_config()
    clone = TransferLearner.from_config(config)
    for key in ("mode", "backbone_lr_multiplier", "unfreeze", "blocks", "probe_epochs"):
        assert getattr(clone, key) == getattr(learner, key)
    assert clone.model.output_shape == (None, 3)


# --- pretrained sources ---------------------------------------------------------------------------

def test_pretrained_from_a_keras_file_keeps_the_backbone(tmp_path):
    model = small_vgg(num_classes=10)
    path = str(tmp_path / "model.keras")
    model.save(path)
    assert check_arguments(path) is None
    new = pretrained(SHAPE, 5, path)
    assert new.output_shape == (None, 5)
    for a, b in zip(values(backbone_of(model).weights), values(backbone_of(new).weights)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(KvisionError, match=r"takes images of shape \(16, 16, 1\).*data.image_size"):
        pretrained((32, 32, 3), 5, path)


def test_pretrained_source_checks_name_the_problem(tmp_path):
    assert "no model at" in check_arguments(str(tmp_path / "missing.keras"))
    assert "Did you mean 'MobileNetV2'" in check_arguments("keras.applications:MobileNetv2")
    assert check_arguments("stage:pretrain") is None
    assert "weights" in check_arguments("keras.applications:MobileNetV2", weights="nope.h5")


def test_keras_applications_backbone_with_random_weights():
    model = pretrained((32, 32, 3), 7, "keras.applications:MobileNetV2", weights=None)
    assert model.output_shape == (None, 7)
    assert backbone_of(model) is not None


def test_imagenet_weights_offline_say_so_and_how_to_use_a_local_file(monkeypatch):
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- "
                        "[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(KvisionError, match=r"no network.*model.weights: /path/to/file.h5"):
        pretrained((32, 32, 3), 7, "keras.applications:MobileNetV2", weights="imagenet")


def test_caffe_preprocessing_matches_keras_preprocess_input():
    from kvision.transfer.pretrained import _preprocessing

    pixels = np.random.default_rng(0).uniform(0, 1, (2, 4, 4, 3)).astype("float32")
    ours = keras.ops.convert_to_numpy(_preprocessing("vgg16")(pixels))
    theirs = keras.applications.vgg16.preprocess_input(pixels * 255.0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-3)
    tf_mode = keras.ops.convert_to_numpy(_preprocessing("mobilenet_v2")(pixels))
    np.testing.assert_allclose(tf_mode, keras.applications.mobilenet_v2.preprocess_input(pixels * 255.0),
                               atol=1e-5)


def test_hub_source_without_keras_hub_says_which_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "keras_hub", None)
    with pytest.raises(KvisionError, match=r"kvision\[hub\]"):
        pretrained((32, 32, 3), 3, "hub:resnet_18_imagenet")
