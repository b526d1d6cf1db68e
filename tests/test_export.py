"""Export for serving, `kvision eval` and `kvision predict`, through the CLI."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from kvision.cli import main
from kvision.models import build_model

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
               "Bag", "Ankle boot"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run-like folder: model.keras (LeNet-5, random weights) and summary.json with class names."""
    folder = tmp_path_factory.mktemp("run")
    keras.utils.set_random_seed(0)
    build_model("lenet5", (28, 28, 1), 10, activation="relu").save(folder / "model.keras")
    (folder / "summary.json").write_text(json.dumps({"class_names": CLASS_NAMES}))
    return folder


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_saved_model_serves_without_kvision(run_dir, fashion, tmp_path):
    out = tmp_path / "saved_model"
    result = cli("export", run_dir, "--format", "saved_model", "--out", out)
    assert result.exit_code == 0, result.output
    images = fashion.test.images[:8]
    np.save(tmp_path / "images.npy", images)
    for i in range(2):
        Image.fromarray(images[i][..., 0]).resize((40, 36)).save(tmp_path / f"{i}.png")
    model = keras.saving.load_model(run_dir / "model.keras")
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(model(images.astype("float32"))))
    np.save(tmp_path / "expected.npy", expected)
    script = textwrap.dedent(f"""
        import sys, numpy as np, tensorflow as tf
        served = tf.saved_model.load({str(out)!r})
        images = np.load({str(tmp_path / 'images.npy')!r})
        out = served.signatures["serving_default"](images=tf.constant(images))
        diff = np.abs(out["probabilities"].numpy() - np.load({str(tmp_path / 'expected.npy')!r})).max()
        big = served.signatures["serving_default"](images=tf.image.resize(images, (56, 50)).numpy()
                                                   .astype("uint8"))
        data = [open({str(tmp_path)!r} + f"/{{i}}.png", "rb").read() for i in range(2)]
        encoded = served.signatures["serve_encoded"](encoded=tf.constant(data))
        import json
        print("RESULT " + json.dumps(dict(
            diff=float(diff), kvision="kvision" in sys.modules, big=list(big["probabilities"].shape),
            encoded=list(encoded["probabilities"].shape), name=out["class_name"].numpy()[0].decode(),
            encoded_name=encoded["class_name"].numpy()[0].decode())))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=300)
    line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT")]
    assert line, proc.stderr[-2000:]
    result = json.loads(line[0][len("RESULT "):])
    assert result["diff"] < 1e-5
    assert result["kvision"] is False
    assert result["big"] == [8, 10] and result["encoded"] == [2, 10]
    assert result["name"] in CLASS_NAMES and result["encoded_name"] in CLASS_NAMES


@pytest.mark.skipif(shutil.which("saved_model_cli") is None, reason="saved_model_cli not on PATH")
def test_saved_model_cli_lists_the_signatures(run_dir, tmp_path):
    out = tmp_path / "sm"
    assert cli("export", run_dir, "--out", out).exit_code == 0
    shown = subprocess.run(["saved_model_cli", "show", "--dir", str(out), "--all"], capture_output=True,
                           text=True, timeout=300)
    assert "signature_def['serving_default']" in shown.stdout
    assert "signature_def['serve_encoded']" in shown.stdout
    assert "probabilities" in shown.stdout and "class_name" in shown.stdout


def test_export_keras(run_dir, tmp_path):
    assert cli("export", run_dir, "--format", "keras", "--out", tmp_path / "m.keras").exit_code == 0
    assert keras.saving.load_model(tmp_path / "m.keras").output_shape == (None, 10)


def test_onnx_serves_without_kvision(run_dir, fashion, tmp_path):
    pytest.importorskip("tf2onnx")
    pytest.importorskip("onnxruntime")
    out = tmp_path / "m.onnx"
    result = cli("export", run_dir, "--format", "onnx", "--out", out)
    assert result.exit_code == 0, result.output
    images = fashion.test.images[:8].astype("float32")
    np.save(tmp_path / "images.npy", images)
    model = keras.saving.load_model(run_dir / "model.keras")
    np.save(tmp_path / "expected.npy", keras.ops.convert_to_numpy(keras.ops.softmax(model(images))))
    script = textwrap.dedent(f"""
        import json, sys, numpy as np, onnxruntime
        session = onnxruntime.InferenceSession({str(out)!r})
        images = np.load({str(tmp_path / 'images.npy')!r})
        probabilities, = session.run(["probabilities"], {{"images": images}})
        one, = session.run(["probabilities"], {{"images": images[:1]}})
        names = json.loads(session.get_modelmeta().custom_metadata_map["class_names"])
        diff = np.abs(probabilities - np.load({str(tmp_path / 'expected.npy')!r})).max()
        print("RESULT " + json.dumps(dict(diff=float(diff), one=list(one.shape), names=names,
                                          kvision="kvision" in sys.modules,
                                          inputs=[i.name for i in session.get_inputs()])))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT")]
    assert line, proc.stderr[-2000:]
    result = json.loads(line[0][len("RESULT "):])
    assert result["diff"] < 1e-5
    assert result["one"] == [1, 10]  # the batch dimension is free
    assert result["names"] == CLASS_NAMES and result["inputs"] == ["images"]
    assert result["kvision"] is False


def test_onnx_without_the_converter_says_which_extra(run_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # makes `import tf2onnx` fail here ...
    fake = tmp_path / "fake"
    (fake / "tf2onnx").mkdir(parents=True)  # ... and in the TensorFlow child process of JAX and torch
    (fake / "tf2onnx" / "__init__.py").write_text("raise ImportError('no tf2onnx in this test')\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(fake), os.environ.get("PYTHONPATH", "")]))
    result = cli("export", run_dir, "--format", "onnx", "--out", tmp_path / "m.onnx")
    assert result.exit_code == 1 and "pip install 'kvision[onnx]'" in result.output
    assert not (tmp_path / "m.onnx").exists()


def test_onnx_refuses_a_mixed_precision_model(tmp_path):
    pytest.importorskip("tf2onnx")
    from kvision.errors import KvisionError
    from kvision.export import export_model

    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = build_model("mlp", (8, 8, 1), 3)
    finally:
        keras.config.set_dtype_policy("float32")
    with pytest.raises(KvisionError, match="ONNX export needs a float32 model; this one computes in "
                                           "mixed_float16. Export --format saved_model instead"):
        export_model(model, tmp_path / "m.onnx", ["a", "b", "c"], fmt="onnx")


def test_eval_writes_report(run_dir, tmp_path):
    result = cli("eval", run_dir, "--data", "fashion_mnist", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "eval.json").read_text())
    assert report["num_examples"] == 10000 and set(report["per_class_accuracy"]) == set(CLASS_NAMES)
    assert (tmp_path / "eval_confusion.png").is_file()
    assert "test accuracy:" in result.output


def test_eval_class_count_mismatch(run_dir, image_folder):
    result = cli("eval", run_dir, "--data", f"image_folder:{image_folder}")
    assert result.exit_code == 1 and "the model has 10 classes but" in result.output


def test_eval_bad_source(run_dir):
    result = cli("eval", run_dir, "--data", "fashion_mnst")
    assert result.exit_code == 2 and "Did you mean 'fashion_mnist'" in result.output


def test_predict_json(run_dir, image_folder):
    result = cli("predict", run_dir, image_folder / "trouser", "--top-k", "2", "--json")
    assert result.exit_code == 0, result.output
    predictions = json.loads(result.output)
    assert len(predictions) == 12
    first = predictions[0]["predictions"]
    assert len(first) == 2 and first[0]["probability"] >= first[1]["probability"]
    assert first[0]["class"] in CLASS_NAMES


def test_predict_missing_image(run_dir, tmp_path):
    result = cli("predict", run_dir, tmp_path / "nope.png")
    assert result.exit_code == 1 and "image not found" in result.output


def test_loading_a_file_that_is_not_a_model(tmp_path):
    bogus = tmp_path / "model.keras"
    bogus.write_text("not a model")
    result = cli("predict", bogus, tmp_path)
    assert result.exit_code == 1 and "cannot load" in result.output


def test_lambda_layer_refused_in_safe_mode(tmp_path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    model.save(tmp_path / "lambda.keras")
    result = cli("export", tmp_path / "lambda.keras", "--format", "keras", "--out", tmp_path / "o.keras")
    assert result.exit_code == 1
    assert "Lambda layer" in result.output and "safe_mode=False" in result.output


def test_recipe_export_section(write_recipe, tmp_path):
    from conftest import tiny_recipe

    recipe = tiny_recipe()
    recipe["export"] = {"formats": ["saved_model", "keras"]}
    result = cli("run", write_recipe(recipe), "--output", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "export" / "saved_model" / "saved_model.pb").is_file()
    assert (tmp_path / "run" / "export" / "model.keras").is_file()


def test_recipe_export_unknown_format(write_recipe):
    from conftest import tiny_recipe

    from kvision.errors import RecipeError
    from kvision.recipes import load_recipe

    recipe = tiny_recipe()
    recipe["export"] = {"formats": ["tflite"]}
    with pytest.raises(RecipeError, match=r"export.formats.0: unknown export format. Received: 'tflite'"):
        load_recipe(write_recipe(recipe))
