"""Multi-stage recipes: stages build on earlier ones, skip when unchanged, re-run what changed."""

import json
import os

import pytest

from conftest import tiny_recipe
from kvision.errors import RecipeError
from kvision.recipes import load_recipe
from kvision.run import run_recipe


def two_stage(**transfer):
    recipe = tiny_recipe()
    recipe["name"] = "two_stage"
    recipe["stages"] = [
        {"name": "pretrain", "data": {"classes": [0, 1, 2, 3, 4]}},
        {"name": "transfer", "data": {"classes": [5, 6, 7], "labeled_per_class": 10},
         "model": {"name": "pretrained", "source": "stage:pretrain"},
         "train": {"learner": "transfer", "transfer": {"mode": "finetune", **transfer}}},
    ]
    return recipe


def modified_times(run_dir):
    return {stage: os.path.getmtime(run_dir / stage / "summary.json") for stage in ("pretrain", "transfer")}


def test_two_stage_recipe_runs_skips_and_reruns_only_what_changed(write_recipe, tmp_path):
    run_dir = tmp_path / "run"
    first = run_recipe(load_recipe(write_recipe(two_stage())), str(run_dir))
    assert [s["status"] for s in first["stages"]] == ["new", "new"]
    assert first["class_names"] == ["Sandal", "Shirt", "Sneaker"]
    assert (run_dir / "model.keras").is_file() and (run_dir / "summary.json").is_file()
    pretrain = json.loads((run_dir / "pretrain" / "summary.json").read_text())
    assert pretrain["class_names"][:2] == ["T-shirt/top", "Trouser"]
    times = modified_times(run_dir)

    again = run_recipe(load_recipe(write_recipe(two_stage())), str(run_dir))
    assert [s["status"] for s in again["stages"]] == ["finished", "finished"]
    assert modified_times(run_dir) == times

    changed = run_recipe(load_recipe(write_recipe(two_stage(backbone_lr_multiplier=0.5))), str(run_dir))
    assert [s["status"] for s in changed["stages"]] == ["finished", "different"]
    after = modified_times(run_dir)
    assert after["pretrain"] == times["pretrain"] and after["transfer"] > times["transfer"]

    upstream = two_stage(backbone_lr_multiplier=0.5)
    upstream["stages"][0]["train"] = {"optimizer": {"learning_rate": 0.002}}
    rerun = run_recipe(load_recipe(write_recipe(upstream)), str(run_dir))
    assert [s["status"] for s in rerun["stages"]] == ["different", "different"]


def test_stage_overrides_from_the_command_line(write_recipe):
    recipe = load_recipe(write_recipe(two_stage()), ["stages.1.train.epochs=7"])
    assert [s.train.epochs for s in recipe.stage_recipes] == [2, 7]
    assert recipe.stage_recipes[1].data.batch_size == 32  # inherited from the top level


@pytest.mark.parametrize("change, message, key_path", [
    (lambda s: s[1]["model"].update(source="stage:later"), "no stage named 'later'",
     "stages.1.model.source"),
    (lambda s: s[0].update(model={"name": "pretrained", "source": "stage:transfer"}),
     "does not come before it", "stages.0.model.source"),
    (lambda s: s[1]["model"].update(source="stage:transfer"), "does not come before it",
     "stages.1.model.source"),
    (lambda s: s[1].update(name="pretrain"), "two stages have this name", "stages.1.name"),
    (lambda s: s[1].update(trian={}), "a stage cannot set 'trian'. Did you mean 'train'",
     "stages.1.trian"),
    (lambda s: s[1].pop("name"), "each stage needs a name", "stages.1.name"),
    (lambda s: s[1]["train"].update(epochs=0), "must be at least 1", "stages.1.train.epochs"),
])
def test_bad_stages_are_refused_before_any_work(write_recipe, change, message, key_path):
    recipe = two_stage()
    change(recipe["stages"])
    with pytest.raises(RecipeError) as error:
        load_recipe(write_recipe(recipe))
    assert message in str(error.value) and key_path in str(error.value)


def test_a_stage_killed_mid_epoch_resumes_and_earlier_stages_are_kept(write_recipe, tmp_path):
    from conftest import kill_mid_epoch

    steps = 150
    recipe = two_stage()
    recipe["stages"][1]["train"].update(steps_per_epoch=steps)
    recipe["stages"][1]["runtime"] = {"checkpoint_every_steps": 7}
    path = write_recipe(recipe)
    run_dir = tmp_path / "run"
    step = kill_mid_epoch(path, run_dir, run_dir / "transfer", steps)
    assert steps < step < 2 * steps
    assert not (run_dir / "transfer" / "summary.json").exists()
    pretrain_time = os.path.getmtime(run_dir / "pretrain" / "summary.json")

    resumed = run_recipe(load_recipe(path), str(run_dir))
    assert [s["status"] for s in resumed["stages"]] == ["finished", "interrupted"]
    assert resumed["total_steps"] == 2 * steps
    assert os.path.getmtime(run_dir / "pretrain" / "summary.json") == pretrain_time
