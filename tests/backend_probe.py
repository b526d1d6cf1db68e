"""Numbers that must not depend on the Keras backend (used by tests/test_backend_agreement.py).

`probe()` runs, on whatever backend Keras was imported with:

- the distillation term on fixed logits, at several temperatures;
- three SGD steps of each learner (classify, transfer, distill,
  pseudo_label, student) on 16 real Fashion-MNIST images, from weights set
  with NumPy (backend random generators differ, so Keras initialisers
  cannot give the same start) and with no dropout or augmentation, giving
  the loss of each step and the logits on the batch afterwards.

Run as a script, it prints that as JSON: `KERAS_BACKEND=jax python tests/backend_probe.py`.
"""

import json
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kvision.components  # noqa: E402,F401

LEARNER_NAMES = ("classify", "transfer", "distill", "pseudo_label", "student")
TEMPERATURES = (1.0, 2.0, 4.0, 8.0)
STEPS = 3


def fixed_logits():
    """(teacher, student) logits: 8 x 10, large enough to make the softmax peaked."""
    rng = np.random.default_rng(0)
    return (rng.normal(0, 4, (8, 10)).astype("float32"), rng.normal(0, 4, (8, 10)).astype("float32"))


def set_weights_with_numpy(model, seed):
    """He-normal kernels from NumPy's generator; 1-D weights keep their constant initial values."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if len(shape) > 1:
            fan_in = int(np.prod(shape[:-1]))
            variable.assign(rng.normal(0.0, np.sqrt(2.0 / fan_in), shape).astype("float32"))


def lenet(seed):
    from kvision.models import build_model

    model = build_model("lenet5", (28, 28, 1), 10, activation="relu", pooling="max")
    set_weights_with_numpy(model, seed)
    return model


def batch():
    """16 real training images (2 per class 0..7) and one-hot labels."""
    from kvision.data.sources.fashion_mnist import fashion_mnist

    data = fashion_mnist(download=False)
    idx = np.concatenate([np.flatnonzero(data.train.labels == c)[:2] for c in range(8)])
    images = data.train.images[idx].astype("float32")
    return images, np.eye(10, dtype="float32")[data.train.labels[idx]]


def build_learner(name, folder):
    from kvision.recipes.schema import TrainConfig
    from kvision.registry import LEARNERS

    config = TrainConfig(learner=name)
    if name == "distill":
        teacher_path = os.path.join(folder, "teacher.keras")
        lenet(seed=1).save(teacher_path)
        config.distill.teacher = teacher_path
        config.distill.teacher_mode = "online"
    if name == "pseudo_label":
        config.pseudo_label.confidence_threshold = 0.0  # every image kept: no knife-edge comparisons
    optimizer = keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)
    return LEARNERS.get(name)(lenet(seed=0), optimizer, config)


def learner_inputs(name, images, labels):
    if name == "pseudo_label":  # the labeled half, and the other half as weak and strong views
        half = len(images) // 2
        return ({"labeled": images[:half], "unlabeled": images[half:], "strong": images[half:][:, :, ::-1]},
                labels[:half])
    if name == "student":  # soft targets, as a teacher's probabilities would be
        return images, 0.8 * labels + 0.02
    return images, labels


def learner_run(name, images, labels):
    """Per-step losses and the final logits of `STEPS` steps of learner `name`."""
    keras.utils.set_random_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        learner = build_learner(name, folder)
        x, y = learner_inputs(name, images, labels)
        losses = []
        for _ in range(STEPS):
            logs = learner.train_on_batch(x, y, return_dict=True)
            losses.append(float(logs["loss"]))
        artefact = {"classify": learner, "distill": getattr(learner, "student", None)}.get(name) or learner.model
        logits = keras.ops.convert_to_numpy(artefact(images, training=False))
    return {"losses": losses, "logits": logits.tolist()}


def probe():
    """Everything above, as a JSON-able dict."""
    from kvision.distill.loss import distillation_kl

    teacher, student = fixed_logits()
    kl = {str(t): float(keras.ops.convert_to_numpy(distillation_kl(teacher, student, t)))
          for t in TEMPERATURES}
    images, labels = batch()
    return {"backend": keras.backend.backend(), "distillation_kl": kl,
            "learners": {name: learner_run(name, images, labels) for name in LEARNER_NAMES}}


if __name__ == "__main__":
    print(json.dumps(probe()))
