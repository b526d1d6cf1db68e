"""Every named augmentation on real Fashion-MNIST batches, eagerly and inside tf.data."""

import numpy as np
import pytest
import tensorflow as tf

from kvision.augment import RandAugment, build_augmenter, parse_policy
from kvision.errors import RecipeError
from kvision.registry import AUGMENTATIONS

IMAGE_OPS = [n for n in AUGMENTATIONS.names() if not AUGMENTATIONS.get(n).mixes_labels]
MIX_OPS = [n for n in AUGMENTATIONS.names() if AUGMENTATIONS.get(n).mixes_labels]
# Strong enough settings that every op visibly changes most images.
STRONG = {"perspective": {"scale": 0.6}, "erasing": {"probability": 1.0},
          "brightness": {"factor": 0.5}, "contrast": {"factor": 0.8}, "zoom": {"factor": 0.3},
          "randaugment": {"magnitude": 10.0}}


def run_in_tf_data(name, images, labels, options=None, channels=1):
    augment = build_augmenter([(name, options or STRONG.get(name, {}))], (28, 28, channels), seed=1)
    ds = tf.data.Dataset.from_tensor_slices((images, tf.one_hot(labels, 10))).batch(len(images))
    return next(iter(ds.map(augment)))


@pytest.mark.parametrize("name", IMAGE_OPS)
def test_image_op_in_tf_data(name, fashion_batch):
    images, labels = fashion_batch
    out, out_labels = run_in_tf_data(name, images, labels)
    out = out.numpy()
    assert out.shape == images.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 255.0
    changed = np.abs(out - images).reshape(len(images), -1).max(axis=1) > 1.0
    assert changed.mean() >= 0.5, f"{name} changed only {changed.sum()} of {len(images)} images"
    np.testing.assert_array_equal(out_labels.numpy(), tf.one_hot(labels, 10).numpy())


@pytest.mark.parametrize("name", IMAGE_OPS)
def test_image_op_on_rgb(name, fashion_batch):
    images, labels = fashion_batch
    rgb = np.repeat(images, 3, axis=-1)
    out, _ = run_in_tf_data(name, rgb, labels, channels=3)
    assert out.shape == rgb.shape


@pytest.mark.parametrize("name", MIX_OPS)
def test_mixing_ops_mix_labels(name, fashion_batch):
    images, labels = fashion_batch
    out, mixed = run_in_tf_data(name, images, labels)
    mixed = mixed.numpy()
    assert out.shape == images.shape
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0, atol=1e-5)
    assert (mixed.max(axis=1) < 0.999).any(), "no label was mixed"


def test_randaugment_draws_operations_per_image():
    augment = RandAugment(num_ops=2, magnitude=9, channels=1, seed=0)
    choices = augment.draw(128, tf.constant([0, 1])).numpy()
    assert len(np.unique(choices)) >= len(augment.ops) - 2


def test_randaugment_runs_each_op_only_on_its_images(fashion_batch):
    images, _ = fashion_batch
    augment = RandAugment(num_ops=1, magnitude=9, channels=1, seed=0)
    seen = {}

    class Recorder:
        def __init__(self, name):
            self.name = name

        def __call__(self, batch, strength):
            seen[self.name] = int(batch.shape[0])
            return batch + 1.0

    augment.ops = [(name, Recorder(name)) for name, _ in augment.ops]
    choices = np.array([0, 0, 3, 3, 3, 5] + [7] * 10, dtype=np.int32)
    out = augment.apply_choices(tf.constant(images), tf.constant(choices), tf.zeros([16])).numpy()
    assert {k: v for k, v in seen.items() if v} == {"identity": 2, "rotate": 3, "posterize": 1,
                                                    "brightness": 10}
    np.testing.assert_allclose(out, images + 1.0)  # each image back in its own place


def test_randaugment_differs_within_a_batch_unlike_keras(fashion_batch):
    """Sixteen copies of one image: kvision's draws differ per image."""
    images, _ = fashion_batch
    same = np.repeat(images[:1], 64, axis=0)
    ours = RandAugment(num_ops=2, magnitude=9, channels=1, seed=3)
    choices = [ours.draw(64, tf.constant([3, s])).numpy() for s in range(2)]
    pairs = {(a, b) for a, b in zip(*choices)}
    assert len(pairs) > 10
    out = ours(tf.constant(same)).numpy()
    assert len({o.tobytes() for o in out}) > 10


def test_randaugment_is_identity_when_not_training(fashion_batch):
    images, _ = fashion_batch
    out = RandAugment(seed=0)(tf.constant(images), training=False)
    np.testing.assert_array_equal(out, images)


def test_pad_crop_is_an_integer_shift(fashion_batch):
    images, labels = fashion_batch
    out, _ = run_in_tf_data("pad_crop", images, labels, {"padding": 2})
    out = out.numpy()
    for original, shifted in zip(images, out):
        found = any(np.array_equal(np.roll(np.pad(original, ((2, 2), (2, 2), (0, 0))), (dy, dx), (0, 1))
                                   [2:30, 2:30], shifted)
                    for dy in range(-2, 3) for dx in range(-2, 3))
        assert found


@pytest.mark.parametrize("text,expected", [
    ("randaugment-n2-m9", ("randaugment", {"num_ops": 2, "magnitude": 9.0})),
    ("pad_crop-p4", ("pad_crop", {"padding": 4})),
    ("mixup-a0.4", ("mixup", {"alpha": 0.4})),
    ("flip", ("flip", {})),
    ("rotate-degrees20", ("rotate", {"degrees": 20.0})),
])
def test_parse_policy(text, expected):
    assert parse_policy(text) == expected


def test_parse_policy_errors():
    with pytest.raises(RecipeError, match="unknown key 'q' for randaugment"):
        parse_policy("randaugment-q3")
    with pytest.raises(RecipeError, match="Did you mean 'randaugment'"):
        parse_policy("randaugmnt-n2")


def test_pipeline_of_several_ops_keeps_range(fashion_batch):
    images, labels = fashion_batch
    augment = build_augmenter([("flip", {}), ("randaugment", {}), ("erasing", {}), ("cutmix", {})],
                              (28, 28, 1), seed=0)
    out, mixed = augment(tf.constant(images), tf.one_hot(labels, 10))
    assert out.shape == images.shape and 0 <= out.numpy().min() and out.numpy().max() <= 255


def test_randaugment_geometric_warp(fashion_batch):
    from kvision.augment.rand_augment import GEOMETRIC, _geometric

    images = tf.constant(fashion_batch[0][:5])
    kinds = tf.range(5)
    out = _geometric(images, kinds, tf.zeros([5])).numpy()  # zero strength: identity for every kind
    np.testing.assert_allclose(out, images.numpy(), atol=1e-3)
    # translate_x by strength s moves the image 0.45 * s * width pixels.
    s = 2.0 / (0.45 * 28)
    shifted = _geometric(images[:1], tf.constant([GEOMETRIC.index("translate_x")]), tf.constant([s]))
    np.testing.assert_allclose(shifted[0, :, 2:].numpy(), images[0, :, :-2].numpy(), atol=1e-2)
    # rotate by 90 degrees (s = 3) turns the image a quarter.
    turned = _geometric(images[:1], tf.constant([GEOMETRIC.index("rotate")]), tf.constant([3.0]))
    rotated = np.rot90(images[0].numpy(), k=1, axes=(0, 1))
    assert min(np.abs(turned[0].numpy() - rotated).mean(),
               np.abs(turned[0].numpy() - np.rot90(rotated, 2)).mean()) < 1.0


def test_randaugment_routes_each_geometric_op_to_its_own_warp(fashion_batch):
    images = tf.constant(fashion_batch[0][:4])
    augment = RandAugment(num_ops=1, magnitude=10, channels=1, seed=0)
    index = augment.op_names.index("translate_x")
    s = 2.0 / (0.45 * 28)
    out = augment.apply_choices(images, tf.fill([4], index), tf.fill([4], s)).numpy()
    np.testing.assert_allclose(out[:, :, 2:], images.numpy()[:, :, :-2], atol=1e-2)
