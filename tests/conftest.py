"""Shared fixtures: a small real Fashion-MNIST sample, recipe files, image folders."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

import kvision.components  # noqa: E402,F401


def pytest_collection_modifyitems(config, items):
    """Skips tests marked tensorflow_only (tf.distribute, SavedModel) on the JAX and torch backends."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        return
    skip = pytest.mark.skip(reason=f"TensorFlow-only by nature; this run uses the {backend} backend")
    for item in items:
        if "tensorflow_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def fashion():
    """The real Fashion-MNIST (offline), loaded once per test session."""
    from kvision.data.sources.fashion_mnist import fashion_mnist

    return fashion_mnist(download=False)


@pytest.fixture(scope="session")
def fashion_batch(fashion):
    """16 real training images (float32 in [0, 255]) and labels, 2 per class 0..7."""
    labels = fashion.train.labels
    idx = np.concatenate([np.flatnonzero(labels == c)[:2] for c in range(8)])
    return fashion.train.images[idx].astype("float32"), labels[idx]


@pytest.fixture
def cli():
    """Invokes the `kvision` CLI in-process (Click's CliRunner); returns the Result."""
    from click.testing import CliRunner

    from kvision.cli import main

    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def write_recipe(tmp_path):
    """Writes a recipe (a dict, or YAML text) to a file and returns its path."""

    def write(content, name="recipe.yaml"):
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
        return str(path)

    return write


@pytest.fixture
def image_folder(tmp_path, fashion):
    """A folder per class of real Fashion-MNIST PNGs (3 classes x 12 images)."""
    from PIL import Image

    root = tmp_path / "images"
    for c, name in enumerate(["tshirt", "trouser", "pullover"]):
        folder = root / name
        folder.mkdir(parents=True)
        for i, k in enumerate(np.flatnonzero(fashion.train.labels == c)[:12]):
            Image.fromarray(fashion.train.images[k][..., 0]).save(folder / f"{i}.png")
    return root


def tiny_recipe(**sections):
    """A recipe dict that trains LeNet-5 for a few steps on Fashion-MNIST."""
    recipe = {
        "name": "tiny",
        "data": {"source": "fashion_mnist", "source_options": {"download": False},
                 "batch_size": 32, "validation_split": 0.01},
        "augment": ["flip"],
        "model": {"name": "lenet5", "activation": "relu"},
        "train": {"epochs": 2, "steps_per_epoch": 3, "verbose": 0},
    }
    for key, value in sections.items():
        recipe[key] = value
    return recipe


def kill_mid_epoch(recipe_file, run_dir, state_dir, steps_per_epoch):
    """Runs `kvision run` and SIGKILLs it once a checkpoint inside the second epoch exists.

    Args:
        recipe_file: the recipe.
        run_dir: the --output folder.
        state_dir: the folder whose checkpoints/state/state.json to watch (the
            run folder, or a stage's folder inside it).
        steps_per_epoch: steps of one epoch of the watched run.

    Returns:
        The step of the last checkpoint before the kill.
    """
    import json
    import signal
    import subprocess
    import sys
    import time

    state = state_dir / "checkpoints" / "state" / "state.json"
    process = subprocess.Popen([sys.executable, "-m", "kvision.cli", "run", str(recipe_file),
                                "--output", str(run_dir)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    deadline, step = time.time() + 300, 0
    while time.time() < deadline and process.poll() is None:
        try:
            step = json.loads(state.read_text())["step"]
        except (OSError, ValueError, KeyError):
            step = 0
        if steps_per_epoch < step < 2 * steps_per_epoch and step % steps_per_epoch:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return step
        time.sleep(0.02)
    process.kill()
    pytest.fail(f"could not catch the run mid-epoch (last step seen {step})")
