"""The `noisy_student` learner: self-training as stages (Xie et al. 2020, "Self-training with
Noisy Student improves ImageNet classification").

A recipe with `train.learner: noisy_student` expands into stages:

    teacher     the recipe's model trained on the labeled images (classify):
                the supervised baseline and the first teacher
    student1    train.noisy_student.students[0] trained on labeled + images
                the teacher pseudo-labeled (learner `student`), under the
                noise (noise_augment; the student's dropout and stochastic
                depth)
    student2    the next student, taught by student1; and so on

They run through the multi-stage machinery (kvision/recipes/stages.py), so
a killed loop resumes at the interrupted iteration and finished iterations
are not recomputed. `iterations: 1` with no noise is offline pseudo-labeling.
"""

import copy

from kvision.recipes.stages import merge
from kvision.recipes.typed import to_plain
from kvision.registry import LEARNERS


def expand(recipe):
    """The stages of a noisy_student recipe, as validated `Recipe`s.

    Args:
        recipe: the validated top-level `Recipe` (learner noisy_student).

    Returns:
        [teacher, student1, ..., studentN].
    """
    from kvision.recipes import checks
    from kvision.recipes.typed import build

    plain = to_plain(recipe)
    settings = plain["train"].pop("noisy_student")
    for key in ("name", "stages", "upstream"):  # each stage names itself
        plain.pop(key, None)
    teacher = merge(plain, {"name": "teacher", "train": {"learner": "classify"}})
    stages, previous = [teacher], "teacher"
    student_train = copy.deepcopy(settings["student_train"])
    for i in range(1, settings["iterations"] + 1):
        models = settings["students"]
        model = models[min(i - 1, len(models) - 1)] if models else plain["model"]
        stage = merge(plain, {"name": f"student{i}", "model": model,
                              "train": merge(student_train, {"learner": "student", "student": {
                                  "teacher": f"stage:{previous}", "labels": settings["labels"],
                                  "confidence_threshold": settings["confidence_threshold"],
                                  "balance": settings["balance"],
                                  "pseudo_ratio": settings["pseudo_ratio"]}})})
        if settings["noise_augment"] is not None:
            stage["augment"] = settings["noise_augment"]
        stages.append(stage)
        previous = f"student{i}"
    built = []
    for i, stage in enumerate(stages):
        recipe_i = build(type(recipe), stage, f"train.noisy_student (stage {stage['name']})")
        checks.check_recipe(recipe_i)
        built.append(recipe_i)
    return built


@LEARNERS.register("noisy_student")
def noisy_student(model, optimizer, config):
    """Not trained directly: a noisy_student recipe runs as stages (see `expand`)."""
    raise RuntimeError("kvision bug: a noisy_student recipe must be expanded into stages")
