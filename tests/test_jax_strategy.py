"""runtime.strategy on the JAX backend: keras.distribution.DataParallel over 2 virtual CPUs."""

import json
import os
import subprocess
import sys

import pytest

from conftest import tiny_recipe


def test_jax_mirrored_maps_to_data_parallel(write_recipe, tmp_path):
    pytest.importorskip("jax")
    recipe = tiny_recipe()
    recipe["runtime"] = {"strategy": "mirrored"}
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    proc = subprocess.run([sys.executable, "-m", "kvision.cli", "run", write_recipe(recipe), "--output",
                           str(tmp_path / "run")], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["backend"] == "jax"
    assert summary["strategy"] == "keras.distribution.DataParallel over 2 devices"
    assert summary["total_steps"] == 6


def test_torch_refuses_a_strategy_it_cannot_apply(monkeypatch):
    from kvision.errors import KvisionError
    from kvision.runtime import strategy

    monkeypatch.setattr(strategy.keras.backend, "backend", lambda: "torch")
    with pytest.raises(KvisionError, match="needs the TensorFlow or JAX backend"):
        strategy.make_placement("mirrored")
    assert strategy.make_placement("auto").name == "torch default device"
