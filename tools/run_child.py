"""Runs one benchmark measurement in a fresh process on a chosen Keras backend.

Keras picks its backend (and the dtype policy sticks) once per process, so
the benchmarks run each configuration as a child: the same script with
`--child ...`, which prints its result as a JSON object on its last line.
"""

import json
import os
import subprocess
import sys
import time


def run_child(script, arguments, backend, timeout):
    """Runs `python script *arguments` with KERAS_BACKEND=backend.

    Args:
        script: the benchmark's file (`__file__`).
        arguments: its command-line arguments, as strings.
        backend: "tensorflow", "jax" or "torch".
        timeout: seconds before the child is stopped.

    Returns:
        The child's last-line JSON object plus "seconds" (the process's wall
        time); or {"error": its last error line, or the timeout, "seconds"}.
    """
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.time()
    try:
        done = subprocess.run([sys.executable, os.path.abspath(script), *arguments], env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout} s", "seconds": time.time() - start}
    seconds = time.time() - start
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1][:200], "seconds": seconds}
    return {**json.loads(lines[-1]), "seconds": seconds}
