"""Driven by the registry: every model builds, runs, trains a step and round-trips."""

import keras
import numpy as np
import pytest

from kvision.models import build_model, get_backbone, get_head
from kvision.registry import MODELS

SHAPES = [(28, 28, 1), (32, 32, 3)]


@pytest.fixture(autouse=True)
def fresh_session():
    keras.backend.clear_session()
    yield


@pytest.mark.parametrize("name", MODELS.names())
@pytest.mark.parametrize("shape", SHAPES)
def test_model_builds_runs_and_has_backbone_and_head(name, shape):
    model = build_model(name, shape, 7)
    images = np.random.default_rng(0).integers(0, 256, (2, *shape)).astype("float32")
    logits = model(images, training=False)
    assert logits.shape == (2, 7)
    features = get_backbone(model)(images / 255.0)
    np.testing.assert_allclose(get_head(model)(features, training=False), logits, atol=1e-5)


@pytest.mark.parametrize("name", MODELS.names())
def test_model_takes_a_training_step(name):
    model = build_model(name, (28, 28, 1), 3)
    model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).integers(0, 256, (8, 28, 28, 1)).astype("float32")
    y = keras.utils.to_categorical(np.arange(8) % 3, 3)
    before = [w.numpy().copy() for w in model.trainable_weights]
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    after = model.trainable_weights
    assert all(not np.array_equal(b, a.numpy()) for b, a in zip(before, after))


@pytest.mark.parametrize("name", MODELS.names())
def test_model_round_trips_through_keras_file(name, tmp_path):
    model = build_model(name, (28, 28, 1), 5)
    x = np.random.default_rng(1).integers(0, 256, (3, 28, 28, 1)).astype("float32")
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert get_backbone(loaded).name == "backbone"


def test_lenet5_parameters_at_its_paper_input():
    # 32x32x1, full C3: 156 + 2,416 + 48,120 + 10,164 + 850 (LeCun et al. 1998: ~60k).
    assert build_model("lenet5", (32, 32, 1), 10).count_params() == 61706


def test_lenet5_options():
    model = build_model("lenet5", (28, 28, 1), 10, activation="tanh", pooling="avg")
    assert get_backbone(model).get_layer("c1").activation.__name__ == "tanh"
    with pytest.raises(ValueError, match="pooling must be 'avg' or 'max'"):
        build_model("lenet5", (28, 28, 1), 10, pooling="median")


def test_mlp_hidden_sizes():
    model = build_model("mlp", (28, 28, 1), 10, hidden_sizes=[32], dropout=0.0)
    assert model.count_params() == 784 * 32 + 32 + 32 * 10 + 10
