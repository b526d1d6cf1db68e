"""Same numbers on TensorFlow, JAX and PyTorch (tests/backend_probe.py computes them).

The backend Keras runs on in this process is probed in-process; the other
two in a subprocess each (a process cannot switch backends). Tolerances:

- the distillation term on fixed logits: 1e-6, relative above 1 (float32
  spacing at 11.5, the T = 8 value, is 9.5e-7, so an absolute 1e-6 would ask
  for less than two float32 steps), and within the same bound of a float64
  NumPy reference;
- three SGD steps of each learner: losses within 1e-5 and final logits
  within 1e-4 (measured: at most 7e-6 between backends).
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import backend_probe

HERE = os.path.dirname(os.path.abspath(__file__))
BACKENDS = ("tensorflow", "jax", "torch")


def probe_in_subprocess(backend):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, os.path.join(HERE, "backend_probe.py")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{backend} probe failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def probes():
    here = keras.backend.backend()
    results = {here: backend_probe.probe()}
    for backend in BACKENDS:
        if backend != here:
            results[backend] = probe_in_subprocess(backend)
    return results


def close(a, b, tolerance):
    return abs(a - b) <= tolerance * max(1.0, abs(a))


def reference_kl(teacher, student, temperature):
    def log_softmax(z):
        z = z.astype("float64") / temperature
        z = z - z.max(axis=-1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))

    log_t, log_s = log_softmax(teacher), log_softmax(student)
    return float(np.mean(np.sum(np.exp(log_t) * (log_t - log_s), axis=-1)) * temperature ** 2)


def test_every_backend_ran(probes):
    assert sorted(p["backend"] for p in probes.values()) == sorted(BACKENDS)


def test_distillation_loss_on_fixed_logits_is_identical_to_1e6(probes):
    teacher, student = backend_probe.fixed_logits()
    for t in backend_probe.TEMPERATURES:
        want = reference_kl(teacher, student, t)
        values = {b: p["distillation_kl"][str(t)] for b, p in probes.items()}
        assert want > 1.0
        for backend, value in values.items():
            assert close(want, value, 1e-6), (t, backend, value, want)
            assert close(values["tensorflow"], value, 1e-6), (t, backend, values)


@pytest.mark.parametrize("learner", backend_probe.LEARNER_NAMES)
def test_learner_losses_agree_across_backends(probes, learner):
    base = probes["tensorflow"]["learners"][learner]
    assert len(base["losses"]) == backend_probe.STEPS
    assert base["losses"][-1] < base["losses"][0]  # it learned something
    for backend in ("jax", "torch"):
        other = probes[backend]["learners"][learner]
        np.testing.assert_allclose(other["losses"], base["losses"], rtol=1e-5, atol=1e-5,
                                   err_msg=f"{learner} losses, {backend} vs tensorflow")
        np.testing.assert_allclose(other["logits"], base["logits"], rtol=1e-4, atol=1e-4,
                                   err_msg=f"{learner} logits, {backend} vs tensorflow")
