"""Resume everywhere: each learner killed with SIGKILL mid-epoch finishes like an uninterrupted run,
and nothing that was complete (a stage, teacher logits, pseudo-labels) is computed again."""

import json
import os

import pytest

from conftest import kill_mid_epoch, tiny_recipe
from kvision.recipes import load_recipe
from kvision.run import run_recipe

STEPS = 120


def staged(learner_stage, unlabeled=False):
    recipe = tiny_recipe(augment=[])
    recipe["name"] = "resume"
    recipe["data"]["labeled_per_class"] = 20 if unlabeled else None
    recipe["stages"] = [
        {"name": "teacher", "model": {"name": "lenet5", "activation": "relu"}},
        {"name": "learner", "runtime": {"checkpoint_every_steps": 7},
         **learner_stage, "train": {**learner_stage.get("train", {}), "steps_per_epoch": STEPS}},
    ]
    return recipe


CASES = {
    "transfer": (staged({"model": {"name": "pretrained", "source": "stage:teacher"},
                         "train": {"learner": "transfer", "transfer": {"mode": "lp_ft"}}}), []),
    "distill_cached": (staged({"train": {"learner": "distill", "distill": {
        "teacher": "stage:teacher", "teacher_mode": "cached"}}}), ["teacher_logits.npz"]),
    "fixmatch": (staged({"train": {"learner": "pseudo_label", "pseudo_label": {
        "variant": "fixmatch", "unlabeled_ratio": 1, "confidence_threshold": 0.5,
        "strong_augment": ["randaugment-n1-m5"]}}}, unlabeled=True), []),
    "student": (staged({"train": {"learner": "student", "student": {
        "teacher": "stage:teacher", "pseudo_ratio": 1}}}, unlabeled=True), ["pseudo_labels.npz"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_learner_killed_mid_epoch_resumes_like_an_uninterrupted_run(write_recipe, tmp_path, case):
    recipe, kept_files = CASES[case]
    path = write_recipe(recipe)
    reference = run_recipe(load_recipe(path), str(tmp_path / "reference"))

    run_dir = tmp_path / "killed"
    kill_mid_epoch(path, run_dir, run_dir / "learner", STEPS)
    assert not (run_dir / "learner" / "summary.json").exists()
    times = {name: os.path.getmtime(run_dir / "learner" / name) for name in kept_files}
    teacher_time = os.path.getmtime(run_dir / "teacher" / "summary.json")

    resumed = run_recipe(load_recipe(path), str(run_dir))
    assert [s["status"] for s in resumed["stages"]] == ["finished", "interrupted"]
    assert resumed["total_steps"] == reference["total_steps"] == 2 * STEPS
    assert os.path.getmtime(run_dir / "teacher" / "summary.json") == teacher_time
    for name, modified in times.items():
        assert os.path.getmtime(run_dir / "learner" / name) == modified, f"{name} was recomputed"
    # The resumed run sees the same batches in the same order, but augmentation draws after the
    # resume point differ (batches are skipped before augmentation, for speed), so it matches the
    # reference statistically: its last epoch's loss within 5%, and test accuracy (of a model
    # 240 steps into training, which moves by points between draws) within 10 points.
    last_loss = reference["history"]["loss"][-1]
    assert abs(resumed["history"]["loss"][-1] - last_loss) <= 0.05 * last_loss
    assert abs(resumed["test_accuracy"] - reference["test_accuracy"]) < 0.1
    history = json.loads((run_dir / "learner" / "summary.json").read_text())["history"]
    assert len(history["loss"]) == 2  # one row per epoch, resumed or not
