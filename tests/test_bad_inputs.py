"""The catalogue of bad inputs: each ends in one clear message and an exit code, through the CLI.

Exit codes: 2 for a bad recipe or argument (nothing has run), 1 for a
failure while running. Messages are checked for the words a user needs.
"""

import pytest

from conftest import tiny_recipe


def with_changes(**changes):
    """tiny_recipe() with dotted-path changes applied (value None deletes the key)."""
    recipe = tiny_recipe()
    for path, value in changes.items():
        node = recipe
        keys = path.split("__")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return recipe


RECIPE_TEXT_CASES = {
    "not yaml": ("data: [unclosed", "not valid YAML at line"),
    "a list": ("- data\n- model\n", "expected a mapping of sections"),
    "empty": ("", "the recipe is empty"),
    "python tag": ("data: !!python/object/apply:os.system ['echo hi']\n", "YAML tag refused"),
}


@pytest.mark.parametrize("case", sorted(RECIPE_TEXT_CASES))
def test_recipe_text_that_is_not_a_recipe(cli, write_recipe, case):
    text, message = RECIPE_TEXT_CASES[case]
    result = cli("check", write_recipe(text))
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


RECIPE_CASES = {
    "unknown top-level key": (dict(modle={"name": "lenet5"}), ["modle", "Did you mean 'model'"]),
    "misspelled nested key": (dict(train__epocs=3), ["train.epocs", "Did you mean 'epochs'"]),
    "wrong type": (dict(train__epochs="three"), ["train.epochs", "expected a whole number"]),
    "zero epochs": (dict(train__epochs=0), ["train.epochs", "at least 1"]),
    "negative batch size": (dict(data__batch_size=-4), ["data.batch_size", "at least 1"]),
    "learning rate not a number": (dict(train__optimizer={"learning_rate": "fast"}),
                                   ["train.optimizer.learning_rate", "expected a number"]),
    "unknown model": (dict(model={"name": "lenet"}), ["model.name", "Did you mean 'lenet5'"]),
    "unknown augmentation": (dict(augment=["flipp"]), ["augment.0", "Did you mean 'flip'"]),
    "unknown learner": (dict(train__learner="clasify"), ["train.learner", "Did you mean 'classify'"]),
    "unknown optimizer": (dict(train__optimizer={"name": "adamm"}), ["train.optimizer.name", "Did you mean 'adam'"]),
    "unknown data source": (dict(data__source="fashion_mnst"), ["data.source", "Did you mean 'fashion_mnist'"]),
    "builder keyword that does not exist": (dict(model={"name": "lenet5", "activaton": "relu"}),
                                            ["model.activaton", "Did you mean 'activation'"]),
    "imports a missing module": (dict(imports=["no_such_module_xyz"]),
                                 ["imports.0", "cannot import module 'no_such_module_xyz'"]),
    "stage refers to a missing stage": (
        dict(stages=[{"name": "a"}, {"name": "b", "model": {"name": "pretrained", "source": "stage:c"}}]),
        ["stages.1.model.source", "no stage named 'c'"]),
    "stage refers to a later stage": (
        dict(stages=[{"name": "a", "model": {"name": "pretrained", "source": "stage:b"}}, {"name": "b"}]),
        ["stages.0.model.source", "does not come before it"]),
    "stage refers to itself (a cycle)": (
        dict(stages=[{"name": "a", "model": {"name": "pretrained", "source": "stage:a"}}]),
        ["stages.0.model.source", "does not come before it"]),
    "distill without a teacher": (dict(train__learner="distill"), ["train.distill.teacher",
                                                                   "needs a teacher"]),
    "unknown backend": (dict(backend="mxnet"), ["backend", "tensorflow, jax, torch"]),
}


@pytest.mark.parametrize("case", sorted(RECIPE_CASES))
def test_bad_recipe_gets_one_message_naming_the_key(cli, write_recipe, case):
    changes, needles = RECIPE_CASES[case]
    path = write_recipe(with_changes(**changes))
    result = cli("check", path)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert path in result.output
    for needle in needles:
        assert needle in result.output, result.output


def run(cli, write_recipe, tmp_path, **changes):
    return cli("run", write_recipe(with_changes(**changes)), "--output", tmp_path / "run")


def test_image_folder_missing(cli, write_recipe, tmp_path):
    result = run(cli, write_recipe, tmp_path, data__source=f"image_folder:{tmp_path / 'nowhere'}",
                 data__source_options={})
    assert result.exit_code in (1, 2) and "nowhere" in result.output


def test_image_folder_with_one_class(cli, write_recipe, tmp_path, image_folder):
    import shutil

    for extra in ("trouser", "pullover"):
        shutil.rmtree(image_folder / extra)
    result = run(cli, write_recipe, tmp_path, data__source=f"image_folder:{image_folder}",
                 data__source_options={})
    assert result.exit_code in (1, 2) and "class" in result.output, result.output


def test_labeled_per_class_larger_than_a_class_has(cli, write_recipe, tmp_path, image_folder):
    result = run(cli, write_recipe, tmp_path, data__source=f"image_folder:{image_folder}",
                 data__source_options={}, data__labeled_per_class=50, data__validation_split=0.0)
    assert result.exit_code in (1, 2) and "labeled_per_class" in result.output, result.output


def test_semi_supervised_learner_without_an_unlabeled_pool(cli, write_recipe, tmp_path):
    result = run(cli, write_recipe, tmp_path, train__learner="pseudo_label")
    assert result.exit_code == 1 and "data.labeled_per_class" in result.output


def test_pretrained_checkpoint_whose_input_does_not_fit(cli, write_recipe, tmp_path):
    import keras

    from kvision.models import build_model

    model = build_model("lenet5", (32, 32, 3), 10)
    path = tmp_path / "rgb32.keras"
    model.save(path)
    keras.backend.clear_session()
    result = run(cli, write_recipe, tmp_path, model={"name": "pretrained", "source": str(path)})
    assert result.exit_code == 1 and "takes images of shape (32, 32, 3)" in result.output


def test_a_file_that_is_not_a_model(cli, write_recipe, tmp_path):
    path = tmp_path / "notes.keras"
    path.write_text("not a model")
    result = run(cli, write_recipe, tmp_path, model={"name": "pretrained", "source": str(path)})
    assert result.exit_code == 1 and "cannot load" in result.output


def test_output_folder_not_writable(cli, write_recipe, tmp_path):
    blocker = tmp_path / "a_file"  # a folder cannot be made inside a file, even by root
    blocker.write_text("")
    result = cli("run", write_recipe(tiny_recipe()), "--output", blocker / "run")
    assert result.exit_code == 1 and "cannot write to the output folder" in result.output


def broken_files(folder):
    good = next((folder / "tshirt").glob("*.png")).read_bytes()
    (folder / "tshirt" / "truncated.jpg").write_bytes(b"\xff\xd8\xff\xe0" + good[:40])
    (folder / "trouser" / "empty.png").write_bytes(b"")
    (folder / "pullover" / "notes.jpg").write_text("not an image")


def test_broken_image_files_are_skipped_and_counted_by_default(cli, write_recipe, tmp_path, image_folder,
                                                               caplog):
    import logging

    broken_files(image_folder)
    with caplog.at_level(logging.WARNING, logger="kvision"):
        result = run(cli, write_recipe, tmp_path, data__source=f"image_folder:{image_folder}",
                     data__source_options={}, data__validation_split=0.0)
    assert result.exit_code == 0, result.output
    assert "skipped 3 unreadable image(s)" in caplog.text


def test_broken_image_files_stop_the_run_when_asked(cli, write_recipe, tmp_path, image_folder):
    broken_files(image_folder)
    result = run(cli, write_recipe, tmp_path, data__source=f"image_folder:{image_folder}",
                 data__source_options={"bad_files": "fail"})
    assert result.exit_code == 1
    assert any(name in result.output for name in ("truncated.jpg", "empty.png", "notes.jpg"))


def test_disk_full_while_writing_keeps_the_previous_outputs(write_recipe, tmp_path, monkeypatch):
    """A write that fails (ENOSPC) leaves the earlier summary, model and checkpoint as they were."""
    import errno
    import json

    from kvision import io as kvision_io
    from kvision.recipes import load_recipe
    from kvision.run import run_recipe

    path = write_recipe(tiny_recipe())
    run_dir = tmp_path / "run"
    run_recipe(load_recipe(path), str(run_dir))
    before = {name: (run_dir / name).read_bytes() for name in ("summary.json", "model.keras")}
    state_before = (run_dir / "checkpoints" / "state" / "state.json").read_text()

    real_fdopen = kvision_io.os.fdopen

    class FullDisk:
        def __init__(self, fd, mode):
            self.file = real_fdopen(fd, mode)

        def write(self, data):
            self.file.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

    monkeypatch.setattr(kvision_io.os, "fdopen", FullDisk)
    # A longer run of the same recipe into the same folder: every atomic write now fails.
    with pytest.raises(OSError, match="No space left"):
        run_recipe(load_recipe(path, ["train.epochs=3"]), str(tmp_path / "run2"))
    with pytest.raises(OSError, match="No space left"):
        kvision_io.atomic_write_text(str(run_dir / "summary.json"), json.dumps({"half": True}))
    monkeypatch.undo()
    for name, data in before.items():
        assert (run_dir / name).read_bytes() == data
    assert (run_dir / "checkpoints" / "state" / "state.json").read_text() == state_before
    assert not [p for p in run_dir.rglob(".tmp-*")]  # no half-written file left behind


def test_image_folder_empty_and_with_an_empty_class(cli, write_recipe, tmp_path, image_folder):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run(cli, write_recipe, tmp_path, data__source=f"image_folder:{empty}", data__source_options={})
    assert result.exit_code == 1 and "class folders" in result.output, result.output
    (image_folder / "coat").mkdir()
    result = run(cli, write_recipe, tmp_path, data__source=f"image_folder:{image_folder}",
                 data__source_options={})
    assert result.exit_code == 1 and "coat holds no images" in result.output, result.output


def mixed_folder(root, fashion):
    from PIL import Image

    for c, mode in enumerate(["L", "RGB", "RGBA"]):
        (root / f"c{c}").mkdir(parents=True)
        for i in range(8):
            image = Image.fromarray(fashion.train.images[i + 10 * c][..., 0]).convert(mode)
            image.resize((28 + 4 * i, 28 + 2 * i)).save(root / f"c{c}" / f"{i}.png")
    return root


def test_mixed_modes_and_sizes_are_resized_and_said_so(cli, write_recipe, tmp_path, fashion, caplog):
    import logging

    root = mixed_folder(tmp_path / "mixed", fashion)
    with caplog.at_level(logging.WARNING, logger="kvision"):
        result = run(cli, write_recipe, tmp_path, data__source=f"image_folder:{root}",
                     data__source_options={})
    assert result.exit_code == 0, result.output
    assert "images differ in size" in caplog.text and "data.image_size" in caplog.text
    result = cli("run", write_recipe(with_changes(data__source=f"image_folder:{root}",
                                                  data__source_options={}, data__image_size=[28, 28],
                                                  data__channels=3)), "--output", tmp_path / "ok")
    assert result.exit_code == 0, result.output


def test_teacher_and_student_with_different_class_counts(cli, write_recipe, tmp_path):
    from kvision.models import build_model

    teacher = tmp_path / "teacher10.keras"
    build_model("lenet5", (28, 28, 1), 10).save(teacher)
    result = run(cli, write_recipe, tmp_path, data__classes=[0, 1, 2],
                 train__learner="distill", train__distill={"teacher": str(teacher)})
    assert result.exit_code == 1 and "gives 10 classes but the student's data has 3" in result.output


def test_a_keras_file_with_a_lambda_layer_is_refused_in_safe_mode(cli, write_recipe, tmp_path):
    import keras

    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    x = keras.layers.Flatten()(x)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, keras.layers.Dense(10)(x)).save(path)
    result = run(cli, write_recipe, tmp_path, model={"name": "pretrained", "source": str(path)})
    assert result.exit_code == 1 and "Lambda" in result.output and "safe_mode=False" in result.output


def test_loss_becoming_nan_stops_naming_the_step(cli, write_recipe, tmp_path):
    result = run(cli, write_recipe, tmp_path, train__optimizer={"name": "sgd", "learning_rate": 1e12},
                 runtime={"checkpoint_every_steps": 1})
    assert result.exit_code == 1 and "the loss became NaN at step" in result.output, result.output
    assert "last good checkpoint" in result.output or "no checkpoint" in result.output
