"""Crash-safe training: a run killed with SIGKILL mid-epoch resumes where it stopped."""

import json
import os
import subprocess
import sys

import pytest

import conftest
from conftest import tiny_recipe

EPOCHS, STEPS = 3, 150


@pytest.fixture
def recipe_file(write_recipe):
    recipe = tiny_recipe(augment=[])
    recipe["train"].update(epochs=EPOCHS, steps_per_epoch=STEPS)
    recipe["runtime"] = {"checkpoint_every_steps": 7}
    return write_recipe(recipe)


def kvision(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "kvision.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
                          **kwargs)


def kill_mid_epoch(recipe_file, run_dir):
    return conftest.kill_mid_epoch(recipe_file, run_dir, run_dir, STEPS)


def test_killed_run_resumes_with_the_same_total_steps(recipe_file, tmp_path):
    reference = kvision("run", recipe_file, "--output", tmp_path / "reference")
    assert reference.returncode == 0, reference.stderr[-2000:]
    expected = json.loads((tmp_path / "reference" / "summary.json").read_text())

    run_dir = tmp_path / "killed"
    killed_at = kill_mid_epoch(recipe_file, run_dir)
    assert not (run_dir / "summary.json").exists()
    resumed = kvision("run", recipe_file, "--output", run_dir)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming from step" in resumed.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["total_steps"] == EPOCHS * STEPS == expected["total_steps"]
    assert len(summary["history"]["loss"]) == EPOCHS  # one metrics row per epoch, none lost or doubled
    assert abs(summary["test_accuracy"] - expected["test_accuracy"]) < 0.03, (killed_at, summary)
    assert (run_dir / "model.keras").is_file()

    again = kvision("run", recipe_file, "--output", run_dir)
    assert again.returncode == 0 and "already finished" in again.stderr

    other = kvision("run", recipe_file, "--output", run_dir, "--set", "train.epochs=2")
    assert other.returncode == 1 and "holds a run of a different recipe" in other.stderr

    restarted = kvision("run", recipe_file, "--output", run_dir, "--restart", "--set", "train.epochs=1")
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    assert json.loads((run_dir / "summary.json").read_text())["total_steps"] == STEPS


def test_training_state_survives_a_kill_while_writing(tmp_path):
    """The previous checkpoint stays loadable when a new one is half written."""
    import keras

    from kvision.models import build_model
    from kvision.runtime.checkpoint import TrainingState

    model = build_model("mlp", (4, 4, 1), 2, hidden_sizes=[3])
    model.compile(optimizer="adam", loss="mse")
    model.optimizer.build(model.trainable_variables)
    state = TrainingState(str(tmp_path))
    state.save(model, 5)
    saved = [w.numpy().copy() for w in model.weights]
    (tmp_path / ".tmp-123-state-9.npz").write_bytes(b"half a file")  # a writer killed mid-write
    for w in model.weights:
        w.assign(w.numpy() + 1.0)
    fresh = build_model("mlp", (4, 4, 1), 2, hidden_sizes=[3])
    fresh.compile(optimizer=keras.optimizers.Adam(), loss="mse")
    assert state.restore(fresh)["step"] == 5
    for a, b in zip(fresh.weights, saved):
        assert (a.numpy() == b).all()


def test_nan_loss_stops_naming_the_step_and_keeps_a_good_checkpoint(write_recipe, tmp_path):
    import numpy as np

    from click.testing import CliRunner

    from kvision.cli import main

    recipe = tiny_recipe(augment=[])
    recipe["train"].update(epochs=2, steps_per_epoch=20,
                           optimizer={"name": "sgd", "learning_rate": 1e12, "momentum": 0.0})
    recipe["runtime"] = {"checkpoint_every_steps": 1}
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", write_recipe(recipe), "--output", str(run_dir)])
    assert result.exit_code == 1, result.output
    assert "the loss became NaN at step" in result.output
    meta = json.loads((run_dir / "checkpoints" / "state" / "state.json").read_text())
    assert f"the last good checkpoint is step {meta['step']}" in result.output
    with np.load(run_dir / "checkpoints" / "state" / meta["weights"]) as saved:
        assert all(np.isfinite(saved[k]).all() for k in saved.files)
    assert not (run_dir / "summary.json").exists()


def test_ema_weights_are_the_final_weights():
    import keras
    import numpy as np

    from kvision.models import build_model
    from kvision.recipes.schema import OptimizerConfig
    from kvision.training import build_optimizer

    model = build_model("mlp", (4, 4, 1), 2, hidden_sizes=[8])
    optimizer = build_optimizer(OptimizerConfig(name="sgd", ema=True, ema_momentum=0.9), 0.1)
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).uniform(0, 255, (64, 4, 4, 1)).astype("float32")
    y = keras.utils.to_categorical(np.arange(64) % 2, 2)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    averages = optimizer._model_variables_moving_average
    for variable, average in zip(model.trainable_variables, averages):
        np.testing.assert_allclose(variable.numpy(), average.numpy())


def test_mixed_precision_run_keeps_float32_logits(write_recipe, tmp_path):
    import keras
    from click.testing import CliRunner

    from kvision.cli import main

    recipe = tiny_recipe()
    recipe["runtime"] = {"mixed_precision": "mixed_bfloat16"}
    result = CliRunner().invoke(main, ["run", write_recipe(recipe), "--output", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert keras.config.dtype_policy().name == "float32"  # restored after the run
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert model.get_layer("backbone").get_layer("c1").compute_dtype == "bfloat16"
    assert model.output.dtype == "float32"


def test_sigterm_checkpoints_exits_cleanly_and_resumes(recipe_file, tmp_path):
    import signal

    run_dir = tmp_path / "terminated"
    state = run_dir / "checkpoints" / "state" / "state.json"
    process = subprocess.Popen([sys.executable, "-m", "kvision.cli", "run", recipe_file, "--output",
                                str(run_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    import time

    deadline = time.time() + 300
    while time.time() < deadline and not state.exists():
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 1, stderr[-2000:]
    assert "stopped by SIGTERM at step" in stderr and "Run the same command again to resume" in stderr
    saved = json.loads(state.read_text())
    assert 0 < saved["step"] < EPOCHS * STEPS and not saved["finished"]
    resumed = kvision("run", recipe_file, "--output", run_dir)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["total_steps"] == EPOCHS * STEPS
    epochs = [int(float(line.split(",")[0])) for line in
              (run_dir / "metrics.csv").read_text().splitlines()[1:]]
    assert epochs == list(range(EPOCHS))  # no half epoch logged
