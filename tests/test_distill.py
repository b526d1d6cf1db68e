"""Knowledge distillation: the semantics distillation code keeps getting wrong, pinned."""

import numpy as np
import pytest

import keras

from kvision.data import make_dataset
from kvision.data.examples import Split
from kvision.distill import Distiller, distillation_kl, softened
from kvision.models import build_model

SHAPE = (12, 12, 1)
CLASSES = 3


def numpy_softmax(z, t=1.0):
    e = np.exp(z / t - np.max(z / t, axis=-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def hand_kl(teacher, student, t):
    p, q = numpy_softmax(teacher, t), numpy_softmax(student, t)
    return float(np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=-1)) * t * t)


def hand_ce(labels, student):
    return float(np.mean(-np.sum(labels * np.log(numpy_softmax(student)), axis=-1)))


TEACHER = np.array([[2.0, -1.0, 0.5], [0.1, 3.0, -2.0]], "float32")
STUDENT = np.array([[0.5, 0.2, -0.3], [1.0, -0.5, 2.0]], "float32")
LABELS = np.array([[1, 0, 0], [0, 0, 1]], "float32")


def tiny_cnn(seed, batch_norm=False):
    keras.utils.set_random_seed(seed)
    return build_model("vgg11", SHAPE, CLASSES, batch_norm=batch_norm, width=0.0625, head="gap")


def test_the_temperature_example_from_the_issue():
    logits = np.array([[0.0, 5.0]], "float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(softened(logits, 1.0)), [[0.0067, 0.9933]],
                               atol=1e-4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(softened(logits, 100.0)), [[0.4875, 0.5125]],
                               atol=1e-4)


@pytest.mark.parametrize("t", [1.0, 2.0, 4.0, 10.0])
def test_distillation_term_is_t_squared_kl_of_softened_outputs(t):
    ours = float(distillation_kl(TEACHER, STUDENT, t))
    assert ours == pytest.approx(hand_kl(TEACHER, STUDENT, t), rel=1e-5)
    unscaled = hand_kl(TEACHER, STUDENT, t) / (t * t)
    assert ours == pytest.approx(t * t * unscaled, rel=1e-5)


def test_kl_direction_teacher_is_the_target():
    forward, backward = hand_kl(TEACHER, STUDENT, 2.0), hand_kl(STUDENT, TEACHER, 2.0)
    assert abs(forward - backward) > 1e-2  # the example tells the directions apart
    assert float(distillation_kl(TEACHER, STUDENT, 2.0)) == pytest.approx(forward, rel=1e-5)


class FixedLogits(keras.Model):
    """A 'model' whose logits are its input (so losses can be checked by hand)."""

    def call(self, x, training=None):
        return x


def fixed_distiller(alpha, t=3.0, mode="online"):
    model = FixedLogits()
    model.build((None, CLASSES))
    teacher = FixedLogits()
    teacher.build((None, CLASSES))
    distiller = Distiller.__new__(Distiller)
    keras.Model.__init__(distiller)
    distiller.student, distiller.teacher = model, teacher
    distiller.temperature, distiller.alpha, distiller.teacher_mode = t, alpha, mode
    distiller.label_smoothing = 0.0
    distiller.student_loss_tracker = keras.metrics.Mean(name="student_loss")
    distiller.distillation_loss_tracker = keras.metrics.Mean(name="distillation_loss")
    distiller.total_loss_tracker = keras.metrics.Mean(name="total_loss")
    return distiller


def test_loss_equals_a_hand_computation_on_fixed_logits():
    distiller = fixed_distiller(alpha=0.3, t=3.0, mode="cached")
    x = {"images": STUDENT, "teacher_logits": TEACHER}
    loss = float(distiller.compute_loss(x, LABELS, STUDENT))
    expected = 0.3 * hand_ce(LABELS, STUDENT) + 0.7 * hand_kl(TEACHER, STUDENT, 3.0)
    assert loss == pytest.approx(expected, rel=1e-5)


def test_alpha_one_is_plain_cross_entropy():
    distiller = fixed_distiller(alpha=1.0, mode="cached")
    loss = float(distiller.compute_loss({"images": STUDENT, "teacher_logits": TEACHER}, LABELS, STUDENT))
    plain = float(keras.losses.CategoricalCrossentropy(from_logits=True)(LABELS, STUDENT))
    assert loss == pytest.approx(plain, rel=1e-6)


def test_unlabeled_rows_contribute_only_the_distillation_term():
    distiller = fixed_distiller(alpha=0.5, t=2.0, mode="cached")
    labels = LABELS.copy()
    labels[1] = 0  # the second example is unlabeled
    loss = float(distiller.compute_loss({"images": STUDENT, "teacher_logits": TEACHER}, labels, STUDENT))
    expected = 0.5 * hand_ce(LABELS[:1], STUDENT[:1]) + 0.5 * hand_kl(TEACHER, STUDENT, 2.0)
    assert loss == pytest.approx(expected, rel=1e-5)


def test_keras_logits_distillation_default_is_not_the_textbook_term():
    """Why kvision owns its term: keras 3.15's default loss skips the softmax and the T^2."""
    from keras.distillation import LogitsDistillation

    textbook = hand_kl(TEACHER, STUDENT, 4.0)
    default = float(LogitsDistillation(temperature=4.0).compute_loss(TEACHER, STUDENT))
    explicit = float(LogitsDistillation(temperature=4.0, loss=keras.losses.KLDivergence())
                     .compute_loss(TEACHER, STUDENT))
    assert explicit == pytest.approx(textbook, rel=1e-4)
    assert default != pytest.approx(textbook, rel=1e-2)
    assert float(distillation_kl(TEACHER, STUDENT, 4.0)) == pytest.approx(textbook, rel=1e-5)


def images_and_labels(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, *SHAPE)).astype("float32"),
            keras.utils.to_categorical(rng.integers(0, CLASSES, n), CLASSES))


def test_no_gradient_reaches_the_teacher_and_its_batch_norm_stays_put():
    teacher = tiny_cnn(1, batch_norm=True)
    before = [keras.ops.convert_to_numpy(w).copy() for w in teacher.weights]
    student = tiny_cnn(2)
    student_before = keras.ops.convert_to_numpy(student.weights[0]).copy()
    distiller = Distiller(student, teacher, temperature=4.0, alpha=0.2)
    distiller.compile(optimizer=keras.optimizers.SGD(0.5))
    x, y = images_and_labels()
    history = distiller.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert set(history.history) >= {"loss", "student_loss", "distillation_loss", "total_loss"}
    for a, w in zip(before, teacher.weights):
        np.testing.assert_array_equal(a, keras.ops.convert_to_numpy(w))
    assert not np.array_equal(student_before, keras.ops.convert_to_numpy(student.weights[0]))


def test_teacher_and_student_may_differ_in_input_size():
    keras.utils.set_random_seed(3)
    teacher = build_model("vgg11", (24, 24, 3), CLASSES, width=0.0625, head="gap")
    distiller = Distiller(tiny_cnn(4), teacher, teacher_mode="online")
    distiller.compile(optimizer="adam")
    x, y = images_and_labels(8)
    distiller.fit(x, y, epochs=1, batch_size=4, verbose=0)
    logits = distiller.teacher_logits(keras.ops.convert_to_tensor(x))
    assert tuple(logits.shape) == (8, CLASSES)


def test_cached_logits_stay_aligned_with_their_images_after_shuffling():
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, (50, 4, 4, 1)).astype("uint8")
    marks = images.reshape(50, -1).astype("float32").sum(-1, keepdims=True)  # a function of the image
    split = Split(images, rng.integers(0, 2, 50))
    ds = make_dataset(split, (4, 4, 1), 2, 8, training=True, seed=3, extras={"teacher_logits": marks},
                      keep_clean=True, augment=lambda x, y: (x * 0 + 1, y))
    seen = 0
    first_order = []
    for features, _ in ds:
        clean = features["clean"].numpy()
        np.testing.assert_allclose(clean.reshape(len(clean), -1).sum(-1, keepdims=True),
                                   features["teacher_logits"].numpy())
        assert (features["images"].numpy() == 1).all()  # the student's view is the augmented one
        first_order += list(features["teacher_logits"].numpy()[:, 0])
        seen += len(clean)
    assert seen == 50 and first_order != sorted(first_order) and first_order != list(marks[:, 0])


def test_a_user_subclass_overriding_the_distillation_term_changes_only_that():
    class MeanSquaredLogits(Distiller):
        def distillation_loss(self, teacher_logits, student_logits):
            return keras.ops.mean(keras.ops.square(teacher_logits - student_logits))

    distiller = fixed_distiller(alpha=0.25, mode="cached")
    distiller.__class__ = MeanSquaredLogits
    loss = float(distiller.compute_loss({"images": STUDENT, "teacher_logits": TEACHER}, LABELS, STUDENT))
    expected = 0.25 * hand_ce(LABELS, STUDENT) + 0.75 * float(np.mean((TEACHER - STUDENT) ** 2))
    assert loss == pytest.approx(expected, rel=1e-5)
    # and it trains like any Keras model
    real = MeanSquaredLogits(tiny_cnn(6), tiny_cnn(7), alpha=0.5)
    real.compile(optimizer="adam", metrics=["accuracy"])
    x, y = images_and_labels(8)
    assert np.isfinite(real.fit(x, y, epochs=1, batch_size=4, verbose=0).history["loss"][0])


def test_saved_and_reloaded_student_predicts_the_same(tmp_path):
    distiller = Distiller(tiny_cnn(8), tiny_cnn(9), temperature=2.0)
    distiller.compile(optimizer="adam")
    x, y = images_and_labels(8)
    distiller.fit(x, y, epochs=1, batch_size=4, verbose=0)
    path = str(tmp_path / "student.keras")
    distiller.save(path)
    reloaded = keras.saving.load_model(path)
    assert reloaded.name == distiller.student.name  # the student alone, no teacher inside
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), distiller.student.predict(x, verbose=0),
                               atol=1e-6)


def test_distiller_round_trips_through_get_config():
    distiller = Distiller(tiny_cnn(10), tiny_cnn(11), temperature=3.0, alpha=0.4, teacher_mode="clean_view")
    clone = Distiller.from_config(distiller.get_config())
    assert (clone.temperature, clone.alpha, clone.teacher_mode) == (3.0, 0.4, "clean_view")
    assert not clone.teacher.trainable


def test_teacher_and_student_must_agree_on_classes():
    keras.utils.set_random_seed(0)
    other = build_model("vgg11", SHAPE, CLASSES + 1, width=0.0625, head="gap")
    with pytest.raises(ValueError, match="must agree"):
        Distiller(tiny_cnn(12), other)


def distill_recipe(mode, unlabeled=False):
    from conftest import tiny_recipe

    recipe = tiny_recipe()
    recipe["name"] = "distill"
    recipe["stages"] = [
        {"name": "teacher", "model": {"name": "vgg11", "width": 0.0625, "head": "gap"}},
        {"name": "student", "data": {"labeled_per_class": 20} if unlabeled else {},
         "train": {"learner": "distill", "distill": {"teacher": "stage:teacher", "teacher_mode": mode,
                                                     "unlabeled": unlabeled}}},
    ]
    return recipe


@pytest.mark.parametrize("mode, unlabeled", [("online", False), ("cached", True), ("clean_view", False)])
def test_distill_recipe_end_to_end(write_recipe, tmp_path, mode, unlabeled):
    import json

    from kvision.recipes import load_recipe
    from kvision.run import run_recipe

    run_dir = tmp_path / "run"
    summary = run_recipe(load_recipe(write_recipe(distill_recipe(mode, unlabeled))), str(run_dir))
    student = json.loads((run_dir / "student" / "summary.json").read_text())
    assert student["model"] == "lenet5" and summary["final_stage"] == "student"
    assert {"student_loss", "distillation_loss"} <= set(student["history"])
    assert (run_dir / "student" / "teacher_logits.npz").is_file() == (mode == "cached")
    if unlabeled:
        assert student["data"]["train"] == 200 and student["data"]["unlabeled"] > 50000
    saved = keras.saving.load_model(str(run_dir / "model.keras"))
    assert saved.name == "lenet5"


def test_distill_recipe_checks(write_recipe):
    from kvision.errors import RecipeError
    from kvision.recipes import load_recipe

    recipe = distill_recipe("cached")
    recipe["stages"][1]["train"]["distill"].pop("teacher")
    with pytest.raises(RecipeError, match="needs a teacher"):
        load_recipe(write_recipe(recipe))
    recipe = distill_recipe("cached")
    recipe["stages"][1]["augment"] = ["mixup"]
    with pytest.raises(RecipeError, match="mixes images"):
        load_recipe(write_recipe(recipe))
