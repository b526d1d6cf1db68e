"""Driven by the registry: every model builds, runs, trains a step and round-trips."""

import keras
import numpy as np
import pytest

from kvision.models import build_model, get_backbone, get_head
from kvision.models.flops import count_flops
from kvision.models.knn import KNNClassifier
from kvision.models.layers import LocalResponseNormalization, StochasticDepth
from kvision.models.summary import needs_more_than_a_shape
from kvision.registry import MODELS

SHAPES = [(28, 28, 1), (32, 32, 3)]
# Builders that make a model from nothing but a shape; `pretrained` needs a source
# (tests/test_transfer.py covers it).
BUILDABLE = [n for n in MODELS.names() if not needs_more_than_a_shape(MODELS.get(n))]
GRADIENT_MODELS = [n for n in BUILDABLE if getattr(MODELS.get(n), "learner", None) is None]


@pytest.fixture(autouse=True)
def fresh_session():
    keras.backend.clear_session()
    yield


def sample(shape, n=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, *shape)).astype("float32"), np.arange(n) % classes


def ready(name, shape, classes=3):
    """The model built, and for kNN given a memory (its "training")."""
    model = build_model(name, shape, classes)
    if isinstance(model, KNNClassifier):
        model.remember([sample(shape, 12, classes, seed=5)], verbose=0)
    return model


@pytest.mark.parametrize("name", BUILDABLE)
@pytest.mark.parametrize("shape", SHAPES)
def test_model_builds_and_runs(name, shape):
    model = ready(name, shape, 7)
    images, _ = sample(shape)
    out = model(images, training=False)
    assert out.shape == (4, 7)
    assert np.isfinite(keras.ops.convert_to_numpy(out)).all()


@pytest.mark.parametrize("name", GRADIENT_MODELS)
def test_backbone_and_head_compose_to_the_model(name):
    model = build_model(name, (32, 32, 3), 5)
    images, _ = sample((32, 32, 3))
    features = get_backbone(model)(images / 255.0, training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(get_head(model)(features, training=False)),
                               keras.ops.convert_to_numpy(model(images, training=False)), atol=1e-4)


@pytest.mark.parametrize("name", GRADIENT_MODELS)
def test_model_takes_a_training_step(name):
    model = build_model(name, (28, 28, 1), 3)
    model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    x, y = sample((28, 28, 1), 8)
    before = [w.numpy().copy() for w in model.trainable_weights]
    model.fit(x, keras.utils.to_categorical(y, 3), epochs=1, batch_size=8, verbose=0)
    changed = [not np.array_equal(b, a.numpy()) for b, a in zip(before, model.trainable_weights)]
    assert all(changed)


@pytest.mark.parametrize("name", BUILDABLE)
def test_model_round_trips_through_keras_file(name, tmp_path):
    model = ready(name, (28, 28, 1), 5)
    x, _ = sample((28, 28, 1), 3, seed=1)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.parametrize("name,shape,classes,expected", [
    # LeNet-5 at its 32x32x1 input, full C3: 156 + 2,416 + 48,120 + 10,164 + 850 (paper: ~60k).
    ("lenet5", (32, 32, 1), 10, 61_706),
    # The papers' ImageNet models; AlexNet with its two-GPU groups and LRN.
    ("vgg11", (224, 224, 3), 1000, 132_863_336),
    ("vgg13", (224, 224, 3), 1000, 133_047_848),
    ("vgg16", (224, 224, 3), 1000, 138_357_544),
    ("vgg19", (224, 224, 3), 1000, 143_667_240),
])
def test_parameter_counts_match_the_papers(name, shape, classes, expected):
    assert build_model(name, shape, classes).count_params() == expected


def test_alexnet_parameters_and_feature_sizes():
    model = build_model("alexnet", (224, 224, 3), 1000, norm="lrn")
    assert model.count_params() == 60_965_224  # the paper's "60 million", with its grouped convs
    backbone = get_backbone(model)
    assert [backbone.get_layer(n).output.shape[1] for n in ("conv1", "pool1", "pool2", "pool5")] == \
        [55, 27, 13, 6]
    assert build_model("alexnet", (224, 224, 3), 1000, norm="lrn", groups=1).count_params() == 62_378_344


def test_alexnet_norm_options():
    for norm, layer in (("lrn", "conv1_lrn"), ("batchnorm", "conv1_bn")):
        backbone = get_backbone(build_model("alexnet", (28, 28, 1), 10, norm=norm, width=0.25,
                                            dense_units=32))
        backbone.get_layer(layer)
    with pytest.raises(ValueError, match="norm must be one of lrn, batchnorm, none"):
        build_model("alexnet", (28, 28, 1), 10, norm="layernorm")


def test_vgg16_flops_match_the_paper():
    assert count_flops(build_model("vgg16", (224, 224, 3), 1000)) == pytest.approx(2 * 15.47e9, rel=0.01)


def test_vgg_small_input_keeps_the_pools_it_can_afford():
    backbone = get_backbone(build_model("vgg11", (28, 28, 1), 10, head="gap"))
    pools = [layer.name for layer in backbone.layers if "pool" in layer.name and "avg" not in layer.name]
    assert pools == ["block1_pool", "block2_pool", "block3_pool", "block4_pool"]  # 28->14->7->3->1
    backbone = get_backbone(build_model("vgg11", (28, 28, 1), 10, head="gap", min_feature_size=3))
    assert backbone.output_shape == (None, 512)
    assert [l.output.shape[1] for l in backbone.layers if l.name.startswith("block") and
            l.name.endswith("_pool")][-1] == 3


def test_vgg_options():
    model = build_model("vgg13", (32, 32, 3), 10, batch_norm=True, width=0.25, head="gap",
                        stochastic_depth=0.2, head_dropout=0.3)
    backbone = get_backbone(model)
    drops = [l for l in backbone.layers if isinstance(l, StochasticDepth)]
    assert len(drops) == 5  # the second convolution of each of the 5 stages
    assert drops[-1].rate == pytest.approx(0.2) and drops[0].rate == pytest.approx(0.04)
    assert backbone.get_layer("block1_conv1").filters == 16
    assert get_head(model).get_layer("head_dropout").rate == 0.3


def test_lrn_matches_a_hand_computation():
    x = np.random.default_rng(0).normal(size=(1, 2, 2, 7)).astype("float32") * 10
    out = np.asarray(LocalResponseNormalization(depth=5, bias=2.0, alpha=1e-2, beta=0.75)(x))
    for c in range(7):
        window = (x[..., max(0, c - 2): c + 3] ** 2).sum(-1)
        np.testing.assert_allclose(out[..., c], x[..., c] / (2.0 + 1e-2 * window) ** 0.75, rtol=1e-5)


def test_stochastic_depth():
    shortcut, output = np.zeros((1000, 1, 1, 1), "float32"), np.ones((1000, 1, 1, 1), "float32")
    layer = StochasticDepth(0.25, seed=0)
    np.testing.assert_array_equal(layer([shortcut, output], training=False), output)
    trained = np.asarray(layer([shortcut, output], training=True)).ravel()
    np.testing.assert_allclose(np.unique(trained), [0.0, 1 / 0.75], rtol=1e-5)  # dropped, or rescaled
    assert abs((trained == 0).mean() - 0.25) < 0.05


@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_knn_matches_brute_force(metric, fashion):
    train, test = fashion.train.take(np.arange(600)), fashion.test.take(np.arange(100))
    model = build_model("knn", (28, 28, 1), 10, k=5, metric=metric)
    model.remember([(train.images.astype("float32"), train.labels)], verbose=0)
    predicted = model.predict(test.images.astype("float32"), batch_size=32, verbose=0).argmax(1)

    a = train.images.reshape(600, -1) / 255.0
    b = test.images.reshape(100, -1) / 255.0
    if metric == "cosine":
        a = a / np.linalg.norm(a, axis=1, keepdims=True)
        b = b / np.linalg.norm(b, axis=1, keepdims=True)
        nearest = np.argsort(-(b @ a.T), axis=1)[:, :5]
    else:
        nearest = np.argsort(((b[:, None, :] - a[None]) ** 2).sum(-1), axis=1)[:, :5]
    votes = np.stack([np.bincount(train.labels[row], minlength=10) for row in nearest])
    np.testing.assert_array_equal(predicted, votes.argmax(1))


def test_knn_on_backbone_embeddings(tmp_path, fashion):
    trained = build_model("lenet5", (28, 28, 1), 10)
    trained.save(tmp_path / "lenet.keras")
    model = build_model("knn", (28, 28, 1), 10, k=1, features=str(tmp_path / "lenet.keras"))
    images = fashion.train.images[:20].astype("float32")
    model.remember([(images, fashion.train.labels[:20])], verbose=0)
    assert model.feature_dim == 84  # LeNet-5's F6
    np.testing.assert_array_equal(model.predict(images, verbose=0).argmax(1), fashion.train.labels[:20])


def test_knn_needs_memory():
    with pytest.raises(ValueError, match="no memory yet"):
        build_model("knn", (8, 8, 1), 3)(np.zeros((1, 8, 8, 1), "float32"))
