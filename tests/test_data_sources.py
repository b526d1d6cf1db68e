"""Data sources (real Fashion-MNIST images), splits and the tf.data pipeline."""

import os

import numpy as np
import pytest
import tensorflow as tf

from kvision.data import make_dataset, prepare_data
from kvision.data.examples import Split
from kvision.data.sources import fashion_mnist as fm
from kvision.data.sources.image_folder import image_folder
from kvision.data.sources.npz import npz
from kvision.data.splits import labeled_subset, select_classes, stratified_holdout
from kvision.errors import DataError
from kvision.recipes.schema import DataConfig


def test_fashion_mnist_offline(fashion):
    assert fashion.train.images.shape == (60000, 28, 28, 1)
    assert fashion.test.images.shape == (10000, 28, 28, 1)
    assert fashion.train.images.dtype == np.uint8
    assert np.bincount(fashion.train.labels).tolist() == [6000] * 10
    assert fashion.class_names[9] == "Ankle boot"
    assert fashion.origin


def test_fashion_mnist_keras_cache_comes_before_debian(tmp_path, monkeypatch):
    folder = tmp_path / "keras" / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    source = fm.find_idx_files(fm.DEBIAN_DIR) or pytest.skip("Debian package not installed")
    for path in source:
        os.symlink(path, folder / os.path.basename(path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "no_tfds"))
    assert fm.fashion_mnist(download=False).origin.startswith("Keras cache")


def test_fashion_mnist_not_found_names_every_place(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(fm, "DEBIAN_DIR", str(tmp_path / "debian"))
    with pytest.raises(DataError) as info:
        fm.fashion_mnist(data_dir=str(tmp_path / "tfds"), download=False)
    message = str(info.value)
    for place in ("TFDS data dir", "Keras cache", "Debian package", "download (disabled"):
        assert place in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_image_folder_holds_out_a_test_split(image_folder):
    data = image_folder_source(image_folder)
    assert data.class_names == ["pullover", "trouser", "tshirt"]
    assert len(data.train) + len(data.test) == 36
    assert np.bincount(data.test.labels).tolist() == [2, 2, 2]  # 20% of 12, per class
    assert data.train.kind == "files"


def image_folder_source(path, **options):
    return image_folder(str(path), **options)


def test_image_folder_train_test_layout(tmp_path, image_folder):
    root = tmp_path / "split"
    root.mkdir()
    for part in ("train", "test"):
        os.symlink(image_folder, root / part, target_is_directory=True)
    data = image_folder_source(root)
    assert len(data.train) == 36 and len(data.test) == 36


def test_image_folder_pipeline_gives_real_pixels(image_folder, fashion):
    config = DataConfig(source=f"image_folder:{image_folder}", validation_split=0.0)
    bundle = prepare_data(config)
    assert bundle.image_shape == (28, 28, 1)
    ds = make_dataset(bundle.train, bundle.image_shape, bundle.num_classes, batch_size=8)
    images, labels = next(iter(ds))
    assert images.shape == (8, 28, 28, 1) and images.dtype == tf.float32
    assert labels.shape == (8, 3)
    from PIL import Image

    expected = np.asarray(Image.open(bundle.train.images[0]))[..., None]
    np.testing.assert_array_equal(images[0].numpy(), expected.astype("float32"))
    assert labels[0].numpy().argmax() == bundle.train.labels[0]


def test_image_folder_rgb_resized(image_folder):
    config = DataConfig(source=f"image_folder:{image_folder}", image_size=[32, 40], channels=3,
                        validation_split=0.0)
    bundle = prepare_data(config)
    images, _ = next(iter(make_dataset(bundle.train, bundle.image_shape, 3, batch_size=4)))
    assert images.shape == (4, 32, 40, 3)
    assert np.allclose(images[..., 0], images[..., 1])  # grayscale copied into RGB


def test_image_folder_skips_broken_files(image_folder, caplog):
    (image_folder / "tshirt" / "broken.png").write_bytes(b"")
    (image_folder / "tshirt" / "text.jpg").write_text("not an image")
    data = image_folder_source(image_folder)
    assert len(data.train) + len(data.test) == 36
    assert "skipped 2 unreadable image(s)" in caplog.text


def test_image_folder_fail_policy_names_file(image_folder):
    (image_folder / "tshirt" / "broken.png").write_bytes(b"")
    with pytest.raises(DataError, match="broken.png"):
        image_folder_source(image_folder, bad_files="fail")


def test_image_folder_needs_two_classes(tmp_path, image_folder):
    single = tmp_path / "single"
    single.mkdir()
    os.symlink(image_folder / "tshirt", single / "tshirt", target_is_directory=True)
    with pytest.raises(DataError, match="at least two class folders"):
        image_folder_source(single)


def test_npz_source(tmp_path, fashion):
    path = tmp_path / "d.npz"
    np.savez(path, x_train=fashion.train.images[:50, ..., 0], y_train=fashion.train.labels[:50],
             x_test=fashion.test.images[:20].astype("float32") / 255.0, y_test=fashion.test.labels[:20])
    data = npz(str(path))
    assert data.train.images.shape == (50, 28, 28, 1)
    np.testing.assert_array_equal(data.test.images, fashion.test.images[:20])
    assert len(data.class_names) == 10


def test_npz_missing_keys(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, images=np.zeros((2, 4, 4)))
    with pytest.raises(DataError, match="missing keys"):
        npz(str(path))


def test_tfds_source_reads_a_prepared_dataset(tmp_path, fashion):
    tfds = pytest.importorskip("tensorflow_datasets")
    from kvision.data.sources.tfds_source import tfds as tfds_source

    # A tiny dataset prepared offline with TFDS' own builder for in-memory data.
    builder = tfds.dataset_builders.store_as_tfds_dataset(
        name="kv_tiny", version="1.0.0", data_dir=str(tmp_path),
        split_datasets={
            "train": tf.data.Dataset.from_tensor_slices(
                {"image": fashion.train.images[:30], "label": fashion.train.labels[:30]}),
            "test": tf.data.Dataset.from_tensor_slices(
                {"image": fashion.test.images[:10], "label": fashion.test.labels[:10]}),
        },
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(28, 28, 1)),
            "label": tfds.features.ClassLabel(names=fashion.class_names)}),
        config=None, description="test", release_notes={"1.0.0": "test"})
    assert builder is not None
    data = tfds_source("kv_tiny", data_dir=str(tmp_path))
    def pairs(images, labels):  # TFDS shuffles when it writes
        return sorted((im.tobytes(), int(y)) for im, y in zip(images, labels))

    assert pairs(data.train.images, data.train.labels) == \
        pairs(fashion.train.images[:30], fashion.train.labels[:30])
    assert len(data.test) == 10
    assert data.class_names[0] == "T-shirt/top"


def test_stratified_holdout_is_seeded_and_stratified():
    labels = np.repeat(np.arange(4), 50)
    keep, held = stratified_holdout(labels, 0.1, seed=3)
    assert np.bincount(labels[held]).tolist() == [5] * 4
    assert len(np.intersect1d(keep, held)) == 0 and len(keep) + len(held) == 200
    np.testing.assert_array_equal(held, stratified_holdout(labels, 0.1, seed=3)[1])
    assert not np.array_equal(held, stratified_holdout(labels, 0.1, seed=4)[1])


def test_labeled_per_class_and_pool():
    labels = np.repeat(np.arange(3), 20)
    labeled, pool = labeled_subset(labels, 4, seed=0)
    assert np.bincount(labels[labeled]).tolist() == [4, 4, 4]
    assert len(pool) == 48 and len(np.intersect1d(labeled, pool)) == 0
    with pytest.raises(DataError, match="labeled_per_class is 25 but class 0 has only 20"):
        labeled_subset(labels, 25, seed=0)


def test_prepare_data_labeled_pool(fashion):
    bundle = prepare_data(DataConfig(labeled_per_class=100, source_options={"download": False}))
    assert len(bundle.train) == 1000
    assert np.bincount(bundle.train.labels).tolist() == [100] * 10
    assert len(bundle.unlabeled) == 54000 - 1000 and len(bundle.validation) == 6000


def test_select_classes_relabels():
    split = Split(np.arange(10)[:, None], np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
    out = select_classes(split, [7, 2])
    assert out.labels.tolist() == [1, 0] and out.images[:, 0].tolist() == [2, 7]


def test_pipeline_is_deterministic_under_a_seed(fashion):
    split = fashion.train.take(np.arange(256))

    def first_batch(seed):
        ds = make_dataset(split, (28, 28, 1), 10, batch_size=32, training=True, seed=seed)
        return next(iter(ds))[1].numpy()

    np.testing.assert_array_equal(first_batch(1), first_batch(1))
    assert not np.array_equal(first_batch(1), first_batch(2))


def test_image_folder_empty_class_folder(image_folder):
    (image_folder / "coat").mkdir()
    with pytest.raises(DataError, match=r"class folder .*coat holds no images"):
        image_folder_source(image_folder)


def test_image_folder_mixed_modes_and_sizes(tmp_path, fashion):
    from PIL import Image

    root = tmp_path / "mixed"
    for c, mode in enumerate(["L", "RGB"]):
        (root / f"c{c}").mkdir(parents=True)
        for i in range(5):
            image = Image.fromarray(fashion.train.images[i + 10 * c][..., 0]).convert(mode)
            image.resize((28 + 4 * i, 28 + 2 * i)).save(root / f"c{c}" / f"{i}.png")
        Image.new("RGBA", (40, 30), (200, 10, 10, 128)).save(root / f"c{c}" / "alpha.png")
    bundle = prepare_data(DataConfig(source=f"image_folder:{root}", image_size=[28, 28], channels=3,
                                     validation_split=0.0))
    images, _ = next(iter(make_dataset(bundle.train, bundle.image_shape, 2, batch_size=16)))
    assert images.shape[1:] == (28, 28, 3)
    assert 0.0 <= float(images.numpy().min()) and float(images.numpy().max()) <= 255.0
