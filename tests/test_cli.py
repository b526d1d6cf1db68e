"""The CLI through Click's CliRunner, including an end-to-end tiny run."""

import json
import os

import numpy as np
import pytest
import yaml


from conftest import tiny_recipe


@pytest.mark.parametrize("command", [[], ["run"], ["check"], ["models"], ["augment"]])
def test_help_everywhere(cli, command):
    result = cli(*command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output


def test_check_ok(cli, write_recipe):
    result = cli("check", write_recipe(tiny_recipe()))
    assert result.exit_code == 0
    assert "ok (model lenet5, learner classify" in result.output


def test_check_bad_recipe_exits_2_without_traceback(cli, write_recipe):
    path = write_recipe(tiny_recipe(train={"epochs": 0}))
    result = cli("check", path)
    assert result.exit_code == 2
    assert result.output.strip() == (f"error: {path}: train.epochs: must be at least 1. "
                                     "Received: 0 (int). Allowed: [1, inf].")
    assert "Traceback" not in result.output


def test_run_bad_override_exits_2(cli, write_recipe):
    result = cli("run", write_recipe(tiny_recipe()), "--set", "model.name=vgg99")
    assert result.exit_code == 2 and "model.name: unknown model" in result.output


def test_unknown_option_exits_2(cli, write_recipe):
    assert cli("run", write_recipe(tiny_recipe()), "--bogus").exit_code == 2


def test_run_failure_exits_1(cli, write_recipe, tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, images=np.zeros((2, 4, 4)))
    result = cli("run", write_recipe(tiny_recipe(data={"source": f"npz:{path}"})),
                 "--output", tmp_path / "run")
    assert result.exit_code == 1 and "missing keys" in result.output


def test_models_table(cli):
    result = cli("models", "--input-shape", "32,32,1")
    assert result.exit_code == 0
    assert "lenet5" in result.output and "61,706" in result.output and "LeCun" in result.output


def test_models_bad_shape(cli):
    result = cli("models", "--input-shape", "28x28")
    assert result.exit_code == 2 and "expected H,W,C" in result.output


def test_augment_grid(cli, write_recipe, tmp_path):
    out = tmp_path / "grid.png"
    result = cli("augment", write_recipe(tiny_recipe(augment=["randaugment-n2-m9", "erasing"])),
                 "--out", out, "--images", 4, "--draws", 3)
    assert result.exit_code == 0, result.output
    from PIL import Image

    with Image.open(out) as image:
        assert image.size[0] > 300 and image.size[1] > 300


def test_run_end_to_end(cli, write_recipe, tmp_path):
    run_dir = tmp_path / "run"
    recipe = tiny_recipe(augment=["flip", "pad_crop-p2", "randaugment-n1-m5", "mixup"])
    recipe["train"]["optimizer"] = {"name": "sgd", "learning_rate": 0.05}
    recipe["train"]["schedule"] = {"name": "cosine", "warmup_epochs": 0.5}
    recipe["train"]["label_smoothing"] = 0.1
    result = cli("run", write_recipe(recipe), "--output", run_dir, "--set", "train.epochs=2")
    assert result.exit_code == 0, result.output
    assert "test accuracy:" in result.output
    for name in ("recipe.yaml", "model.keras", "checkpoints/best.keras", "metrics.csv",
                 "summary.json", "curves.png", "confusion.png"):
        assert os.path.isfile(run_dir / name), name
    summary = json.loads((run_dir / "summary.json").read_text())
    assert 0.0 <= summary["test_accuracy"] <= 1.0
    assert summary["evaluation"]["num_examples"] == 10000
    assert len(summary["evaluation"]["per_class_accuracy"]) == 10
    assert np.array(summary["evaluation"]["confusion_matrix"]).sum() == 10000
    assert len(summary["history"]["loss"]) == 2 and summary["images_per_second"] > 0
    resolved = yaml.safe_load((run_dir / "recipe.yaml").read_text())
    assert resolved["train"]["epochs"] == 2 and resolved["train"]["optimizer"]["name"] == "sgd"
    lines = (run_dir / "metrics.csv").read_text().strip().splitlines()
    assert lines[0].startswith("epoch") and len(lines) == 3
    import keras

    model = keras.saving.load_model(run_dir / "model.keras")
    assert model.output_shape == (None, 10)


def test_run_image_folder(cli, write_recipe, image_folder, tmp_path):
    recipe = tiny_recipe(data={"source": f"image_folder:{image_folder}", "batch_size": 8,
                               "validation_split": 0.0, "image_size": [32, 32]})
    recipe["model"] = {"name": "mlp", "hidden_sizes": [16]}
    result = cli("run", write_recipe(recipe), "--output", tmp_path / "run")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["evaluation"]["num_examples"] == 6
    assert summary["data"]["image_shape"] == [32, 32, 1]


def test_run_unwritable_output(cli, write_recipe, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("run", write_recipe(tiny_recipe()), "--output", blocker / "run")
    assert result.exit_code == 1 and "cannot write to the output folder" in result.output


def test_run_knn_recipe(cli, write_recipe, image_folder, tmp_path):
    recipe = {"data": {"source": f"image_folder:{image_folder}", "validation_split": 0.0},
              "model": {"name": "knn", "k": 1}, "train": {"learner": "knn", "verbose": 0}}
    result = cli("run", write_recipe(recipe), "--output", tmp_path / "run")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["evaluation"]["num_examples"] == 6 and summary["test_accuracy"] >= 0.5
    assert summary["parameters"] == 30 * (28 * 28 + 1)  # 30 stored images and their labels


def test_backend_option_runs_the_recipe_on_jax(write_recipe, tmp_path):
    import json
    import subprocess
    import sys

    from conftest import tiny_recipe

    path = write_recipe(tiny_recipe())
    out = tmp_path / "jax_run"
    result = subprocess.run([sys.executable, "-m", "kvision.cli", "run", "--backend", "jax", path,
                             "--output", str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((out / "summary.json").read_text())["backend"] == "jax"


def test_recipe_backend_is_refused_once_keras_runs_another(write_recipe, tmp_path):
    from conftest import tiny_recipe
    from kvision.errors import KvisionError
    from kvision.recipes import load_recipe
    from kvision.run import run_recipe

    import keras

    other = "jax" if keras.backend.backend() != "jax" else "tensorflow"
    recipe = tiny_recipe()
    recipe["backend"] = other
    with pytest.raises(KvisionError, match=f"asks for the {other} backend.*cannot switch"):
        run_recipe(load_recipe(write_recipe(recipe)), str(tmp_path / "run"))
