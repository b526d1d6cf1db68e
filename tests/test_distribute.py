"""tf.distribute strategies on this CPU machine: mirrored over 2 logical CPUs, and 2 workers."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from conftest import tiny_recipe

pytestmark = pytest.mark.tensorflow_only


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def strategy_recipe(write_recipe, strategy):
    recipe = tiny_recipe(augment=[])
    recipe["train"].update(epochs=2, steps_per_epoch=6)
    recipe["runtime"] = {"strategy": strategy}
    return write_recipe(recipe, name=f"{strategy}.yaml")


def test_mirrored_over_two_cpus_matches_one_device(write_recipe, tmp_path):
    one = strategy_recipe(write_recipe, "one_device")
    mirrored = strategy_recipe(write_recipe, "mirrored")
    script = textwrap.dedent(f"""
        import json, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from kvision.recipes import load_recipe
        from kvision.run import run_recipe
        a = run_recipe(load_recipe({one!r}), output={str(tmp_path / 'one')!r})
        b = run_recipe(load_recipe({mirrored!r}), output={str(tmp_path / 'mirrored')!r})
        print("RESULT " + json.dumps({{"one": a["history"]["loss"], "mirrored": b["history"]["loss"],
                                       "strategy": b["strategy"]}}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
    assert lines, proc.stderr[-3000:]
    result = json.loads(lines[0][len("RESULT "):])
    assert result["strategy"] == "mirrored over 2 devices"
    assert result["one"] == pytest.approx(result["mirrored"], rel=2e-3)


def test_multi_worker_mirrored_two_processes(write_recipe, tmp_path):
    recipe = strategy_recipe(write_recipe, "multi_worker_mirrored")
    workers = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    run_dir = tmp_path / "run"
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(tf_config), "TF_CPP_MIN_LOG_LEVEL": "3"}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "kvision.cli", "run", recipe, "--output", str(run_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    outputs = []
    for process in processes:
        try:
            outputs.append(process.communicate(timeout=600))
        except subprocess.TimeoutExpired:
            for p in processes:
                p.kill()
            pytest.fail("multi-worker run did not finish")
    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, err[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["strategy"].startswith("multi_worker_mirrored, 2 replicas")
    assert summary["total_steps"] == 12
    worker_log = outputs[1][1]
    assert f"worker 1 finished; weights checksum {summary['weights_checksum']}" in worker_log
    assert not any(name.startswith("kvision-worker") for name in os.listdir(run_dir))
