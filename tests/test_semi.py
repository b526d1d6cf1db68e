"""Semi-supervised learners: pseudo-labels, thresholds, the ramp, the loss, recipes."""

import numpy as np
import pytest

import keras

from kvision.semi import PseudoLabelLearner, rampup_weight

CLASSES = 3


class Identity(keras.Model):
    def call(self, x, training=None):
        return x


def fixed(variant, threshold=0.7, weight=2.0):
    model = Identity()
    model.build((None, CLASSES))
    learner = PseudoLabelLearner(model, variant=variant, confidence_threshold=threshold,
                                 unlabeled_weight=weight)
    learner.compile(optimizer=keras.optimizers.SGD(0.1))
    learner.optimizer.build([])
    return learner


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def ce(labels, logits):
    return -np.sum(labels * np.log(softmax(logits)), axis=-1)


LABELED = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.5]], "float32")
Y = np.array([[1, 0, 0], [0, 0, 1]], "float32")
WEAK = np.array([[4.0, 0.0, 0.0], [0.2, 0.1, 0.0], [0.0, 0.0, 3.0], [0.0, 2.5, 0.0]], "float32")
STRONG = np.array([[1.0, 0.5, 0.0], [0.0, 0.0, 0.0], [0.5, 0.0, 1.0], [0.0, 0.3, 0.2]], "float32")


def test_rampup_weight_follows_lee_2013():
    values = [float(rampup_weight(step, 3.0, 10, 20)) for step in (0, 9, 10, 20, 30, 100)]
    assert values == pytest.approx([0.0, 0.0, 0.0, 1.5, 3.0, 3.0])
    assert float(rampup_weight(4, 2.0, 5, 0)) == 0.0 and float(rampup_weight(5, 2.0, 5, 0)) == 2.0


def test_threshold_keeps_the_confident_pseudo_labels_and_lee2013_keeps_all():
    labels, confidence, kept = fixed("threshold", threshold=0.7).pseudo_labels(WEAK)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(confidence), softmax(WEAK).max(-1), rtol=1e-6)
    assert keras.ops.convert_to_numpy(kept).tolist() == [1.0, 0.0, 1.0, 1.0]
    assert keras.ops.convert_to_numpy(labels).argmax(-1).tolist() == [0, 0, 2, 1]
    _, _, all_kept = fixed("lee2013").pseudo_labels(WEAK)
    assert keras.ops.convert_to_numpy(all_kept).tolist() == [1.0] * 4


@pytest.mark.parametrize("variant", ["threshold", "fixmatch"])
def test_loss_is_labeled_ce_plus_weighted_masked_pseudo_label_ce(variant):
    learner = fixed(variant, threshold=0.7, weight=2.0)
    x = {"labeled": LABELED, "unlabeled": WEAK, "strong": STRONG,
         "unlabeled_truth": np.array([0, 1, 2, 0], "int32")}
    views = [LABELED, WEAK] + ([STRONG] if variant == "fixmatch" else [])
    y_pred = np.concatenate(views)
    loss = float(learner.compute_loss(x, Y, y_pred))
    targets = np.eye(CLASSES)[WEAK.argmax(-1)]
    kept = (softmax(WEAK).max(-1) >= 0.7).astype("float32")
    trained_on = STRONG if variant == "fixmatch" else WEAK
    expected = ce(Y, LABELED).mean() + 2.0 * np.mean(ce(targets, trained_on) * kept)
    assert loss == pytest.approx(expected, rel=1e-5)
    # the hidden truth feeds the metric, never the loss
    x["unlabeled_truth"] = np.array([2, 2, 2, 2], "int32")
    assert float(learner.compute_loss(x, Y, y_pred)) == pytest.approx(loss, rel=1e-7)
    assert float(learner.kept_tracker.result()) == pytest.approx(0.75)


def test_pseudo_label_accuracy_counts_the_kept_labels():
    learner = fixed("threshold", threshold=0.7)
    x = {"labeled": LABELED, "unlabeled": WEAK, "unlabeled_truth": np.array([0, 1, 2, 2], "int32")}
    learner.compute_loss(x, Y, np.concatenate([LABELED, WEAK]))
    assert float(learner.pseudo_accuracy_tracker.result()) == pytest.approx(2 / 3)


def test_pseudo_label_learner_round_trips_through_get_config():
    from kvision.models import build_model

    learner = PseudoLabelLearner(build_model("lenet5", (28, 28, 1), 10), variant="lee2013",
                                 confidence_threshold=0.5, unlabeled_weight=3.0, rampup_start=10,
                                 rampup_steps=100, label_view="clean")
    clone = PseudoLabelLearner.from_config(learner.get_config())
    for key in ("variant", "confidence_threshold", "unlabeled_weight", "rampup_start", "rampup_steps",
                "label_view"):
        assert getattr(clone, key) == getattr(learner, key)


def test_clean_label_view_labels_the_unaugmented_image_in_inference_mode():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(CLASSES)(keras.layers.Dropout(0.9)(inputs)))
    rng = np.random.default_rng(0)
    weak, clean = rng.normal(size=(2, 8, 4)).astype("float32")
    x = {"labeled": clean[:2], "unlabeled": weak, "clean": clean}
    weak_logits = keras.ops.convert_to_numpy(model(weak, training=True))
    learner = PseudoLabelLearner(model, variant="threshold", label_view="clean")
    got = keras.ops.convert_to_numpy(learner.label_logits(x, weak_logits))
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(model(clean, training=False)), rtol=1e-6)
    assert not np.allclose(got, keras.ops.convert_to_numpy(model(clean, training=True)))
    same = PseudoLabelLearner(model, variant="threshold")  # Lee 2013: the trained view's own logits
    assert same.label_logits(x, weak_logits) is weak_logits


@pytest.mark.parametrize("variant", ["lee2013", "threshold", "threshold-clean", "fixmatch"])
def test_pseudo_label_recipe_end_to_end(write_recipe, tmp_path, variant):
    import json

    from conftest import tiny_recipe
    from kvision.recipes import load_recipe
    from kvision.run import run_recipe

    recipe = tiny_recipe()
    recipe["data"]["labeled_per_class"] = 5
    variant, _, label_view = variant.partition("-")
    recipe["train"].update(learner="pseudo_label", pseudo_label={
        "variant": variant, "confidence_threshold": 0.5, "unlabeled_ratio": 2,
        "rampup_steps": 2, "strong_augment": ["randaugment-n1-m5"], "label_view": label_view or "same"})
    summary = run_recipe(load_recipe(write_recipe(recipe)), str(tmp_path / variant))
    history = summary["history"]
    assert {"labeled_loss", "unlabeled_loss", "kept_fraction", "pseudo_label_accuracy"} <= set(history)
    assert summary["total_steps"] == 6
    assert json.loads((tmp_path / variant / "summary.json").read_text())["data"]["unlabeled"] > 50000


def test_pseudo_label_without_an_unlabeled_pool_says_what_to_set(write_recipe, tmp_path):
    from conftest import tiny_recipe
    from kvision.errors import KvisionError
    from kvision.recipes import load_recipe
    from kvision.run import run_recipe

    recipe = tiny_recipe()
    recipe["train"]["learner"] = "pseudo_label"
    with pytest.raises(KvisionError, match="data.labeled_per_class"):
        run_recipe(load_recipe(write_recipe(recipe)), str(tmp_path / "run"))


def test_selection_thresholds_and_balances_to_equal_counts():
    from kvision.semi import select_pseudo_labels

    # class 0: 4 confident images, class 1: 1, class 2: 2 but one below the threshold
    probs = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.95, 0.05, 0.0], [0.7, 0.2, 0.1],
                      [0.1, 0.85, 0.05], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]], "float32")
    index, kept = select_pseudo_labels(probs, confidence_threshold=0.6)
    assert sorted(index.tolist()) == [0, 1, 2, 3, 4, 5] and kept == [4, 1, 1]
    index, kept = select_pseudo_labels(probs, confidence_threshold=0.6, balance=True)
    labels = probs[index].argmax(-1)
    assert np.bincount(labels).tolist() == [2, 2, 2]  # mean of 4, 1, 1
    assert sorted(index[labels == 0].tolist()) == [0, 2]  # the two most confident of class 0
    assert index[labels == 1].tolist() == [4, 4]  # the lone class-1 image repeated


def noisy_student_recipe(iterations=2, **settings):
    from conftest import tiny_recipe

    recipe = tiny_recipe()
    recipe["name"] = "ns"
    recipe["data"]["labeled_per_class"] = 5
    recipe["model"] = {"name": "vgg11", "width": 0.0625, "head": "gap"}
    recipe["train"].update(learner="noisy_student", noisy_student={
        "iterations": iterations, "confidence_threshold": 0.0, "labels": "soft", "pseudo_ratio": 2,
        "students": [{"name": "vgg11", "width": 0.0625, "head": "gap", "head_dropout": 0.3}],
        "noise_augment": ["flip", "randaugment-n2-m9"], **settings})
    return recipe


def test_noisy_student_expands_into_teacher_and_noised_students(write_recipe):
    from kvision.recipes import load_recipe

    recipe = load_recipe(write_recipe(noisy_student_recipe(iterations=3)))
    stages = recipe.stage_recipes
    assert [s.name for s in stages] == ["teacher", "student1", "student2", "student3"]
    teacher, first, third = stages[0], stages[1], stages[3]
    assert teacher.train.learner == "classify" and [a.name for a in teacher.augment] == ["flip"]
    assert "head_dropout" not in teacher.model.options
    assert first.train.learner == "student" and first.train.student.teacher == "stage:teacher"
    assert third.train.student.teacher == "stage:student2"
    assert [a.name for a in first.augment] == ["flip", "randaugment"]
    assert first.model.options["head_dropout"] == 0.3


def test_teacher_pseudo_labels_come_from_clean_images_with_dropout_off(fashion, tmp_path):
    from kvision.data.examples import DataBundle, Split
    from kvision.models import build_model
    from kvision.semi import StudentLearner

    keras.utils.set_random_seed(0)
    teacher = build_model("lenet5", (28, 28, 1), 10, head_dropout=0.9)
    teacher_path = str(tmp_path / "teacher.keras")
    teacher.save(teacher_path)
    pool = Split(fashion.train.images[:40], fashion.train.labels[:40])
    data = DataBundle(Split(fashion.train.images[40:50], fashion.train.labels[40:50]), pool.take([]),
                      pool.take([]), pool, list(map(str, range(10))), (28, 28, 1))
    learner = StudentLearner(build_model("lenet5", (28, 28, 1), 10), teacher=teacher_path,
                             labels="soft", confidence_threshold=0.0, balance=False)
    index, target = learner.pseudo_labels(data, str(tmp_path))
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(
        teacher(pool.images.astype("float32"), training=False)))
    np.testing.assert_allclose(target, expected[index], atol=1e-5)  # deterministic: no dropout
    hard = StudentLearner(build_model("lenet5", (28, 28, 1), 10), teacher=teacher_path, labels="hard",
                          balance=False)
    _, hard_target = hard.pseudo_labels(data, str(tmp_path / "hard"))
    assert set(np.unique(hard_target)) <= {0.0, 1.0}
    np.testing.assert_array_equal(hard_target.argmax(-1), expected[index].argmax(-1))


def test_noisy_student_runs_resumes_and_plots(write_recipe, tmp_path):
    import json
    import os

    from kvision.recipes import load_recipe
    from kvision.run import run_recipe

    path = write_recipe(noisy_student_recipe(iterations=2))
    run_dir = tmp_path / "run"
    summary = run_recipe(load_recipe(path), str(run_dir))
    assert [i["stage"] for i in summary["iterations"]] == ["teacher", "student1", "student2"]
    assert (run_dir / "iterations.png").is_file()
    report = json.loads((run_dir / "student1" / "pseudo_labels.json").read_text())
    assert report["pool"] > 50000 and len(report["kept_per_class"]) == 10
    first_labels = os.path.getmtime(run_dir / "student1" / "pseudo_labels.npz")
    # "kill" the last iteration: forget its result; re-running redoes only that one
    os.remove(run_dir / "student2" / "summary.json")
    state = run_dir / "student2" / "checkpoints" / "state" / "state.json"
    state.write_text(json.dumps({**json.loads(state.read_text()), "finished": False}))
    again = run_recipe(load_recipe(path), str(run_dir))
    assert [s["status"] for s in again["stages"]] == ["finished", "finished", "interrupted"]
    assert os.path.getmtime(run_dir / "student1" / "pseudo_labels.npz") == first_labels


def test_student_learner_round_trips_through_get_config():
    from kvision.models import build_model
    from kvision.semi import StudentLearner

    learner = StudentLearner(build_model("lenet5", (28, 28, 1), 10), teacher="runs/x/teacher",
                             labels="hard", confidence_threshold=0.7, balance=False, pseudo_ratio=5)
    clone = StudentLearner.from_config(learner.get_config())
    for key in ("teacher", "labels", "confidence_threshold", "balance", "pseudo_ratio"):
        assert getattr(clone, key) == getattr(learner, key)
