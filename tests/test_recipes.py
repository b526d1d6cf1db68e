"""Recipe validation: every bad input gets one message naming file, key path, value, allowed."""

import os
import textwrap

import pytest
import yaml

from kvision.errors import RecipeError
from kvision.recipes import dump_recipe, load_recipe
from kvision.recipes.typed import to_plain

from conftest import tiny_recipe


def error_for(write_recipe, content, overrides=()):
    path = write_recipe(content)
    with pytest.raises(RecipeError) as info:
        load_recipe(path, overrides)
    message = str(info.value)
    assert message.startswith(path), message
    return message


def test_defaults_and_name_from_file(write_recipe):
    recipe = load_recipe(write_recipe({"model": {"name": "mlp"}}, name="my_exp.yaml"))
    assert recipe.name == "my_exp"
    assert recipe.train.optimizer.name == "adam"
    assert recipe.data.source == "fashion_mnist"


def test_valid_recipe_round_trips_through_yaml(write_recipe, tmp_path):
    recipe = load_recipe(write_recipe(tiny_recipe(augment=["randaugment-n2-m9", {"name": "rotate",
                                                                                  "degrees": 10}])))
    out = tmp_path / "resolved.yaml"
    dump_recipe(recipe, out)
    again = load_recipe(str(out))
    assert to_plain(again) == to_plain(recipe)
    assert again.augment[0].options == {"num_ops": 2, "magnitude": 9.0}


def test_unknown_top_level_key(write_recipe):
    message = error_for(write_recipe, {"trian": {"epochs": 1}})
    assert "trian: unknown key 'trian'. Did you mean 'train'?" in message
    assert "Allowed: keys name, seed" in message


def test_misspelled_nested_key_suggests(write_recipe):
    message = error_for(write_recipe, {"train": {"optimizer": {"learning_rat": 0.1}}})
    assert "train.optimizer.learning_rat: unknown key 'learning_rat'. Did you mean 'learning_rate'?" \
        in message


def test_wrong_type(write_recipe):
    message = error_for(write_recipe, {"train": {"epochs": "ten"}})
    assert "train.epochs: expected a whole number. Received: 'ten'" in message


def test_learning_rate_not_a_number(write_recipe):
    message = error_for(write_recipe, {"train": {"optimizer": {"learning_rate": "fast"}}})
    assert "train.optimizer.learning_rate: expected a number. Received: 'fast'" in message


def test_learning_rate_in_yaml11_exponent_form_is_accepted(write_recipe):
    recipe = load_recipe(write_recipe("train:\n  optimizer:\n    learning_rate: 1e-3\n"))
    assert recipe.train.optimizer.learning_rate == pytest.approx(1e-3)


@pytest.mark.parametrize("key,value,expected", [
    ("epochs", 0, "train.epochs: must be at least 1. Received: 0 (int). Allowed: [1, inf]"),
    ("epochs", -3, "train.epochs: must be at least 1. Received: -3 (int)"),
    ("label_smoothing", 1.0, "train.label_smoothing: must be less than 1.0"),
])
def test_value_out_of_range(write_recipe, key, value, expected):
    assert expected in error_for(write_recipe, {"train": {key: value}})


def test_zero_batch_size(write_recipe):
    assert "data.batch_size: must be at least 1. Received: 0 (int)" in \
        error_for(write_recipe, {"data": {"batch_size": 0}})


def test_bool_is_not_a_number(write_recipe):
    assert "expected a whole number. Received: True (bool)" in \
        error_for(write_recipe, {"seed": True})


@pytest.mark.parametrize("section,expected", [
    ({"model": {"name": "lenet"}}, "model.name: unknown model. Did you mean 'lenet5'"),
    ({"train": {"learner": "clasify"}}, "train.learner: unknown learner. Did you mean 'classify'?"),
    ({"train": {"optimizer": {"name": "adamm"}}}, "train.optimizer.name: unknown optimizer. "
                                                  "Did you mean 'adam'"),
    ({"train": {"schedule": {"name": "cosin"}}}, "train.schedule.name: unknown schedule. "
                                                 "Did you mean 'cosine'?"),
    ({"augment": ["randaugmnt-n2"]}, "augment.0: unknown augmentation 'randaugmnt'. "
                                     "Did you mean 'randaugment'"),
    ({"augment": [{"name": "rotat"}]}, "augment.0.name: unknown augmentation. Did you mean 'rotate'"),
    ({"data": {"source": "fashion_mnst"}}, "data.source: unknown data source. "
                                           "Did you mean 'fashion_mnist'?"),
])
def test_unknown_registry_names_suggest(write_recipe, section, expected):
    message = error_for(write_recipe, section)
    assert expected in message
    assert "Allowed:" in message


def test_builder_keyword_not_accepted(write_recipe):
    message = error_for(write_recipe, {"model": {"name": "lenet5", "activaton": "relu"}})
    assert "model.activaton: model 'lenet5' does not accept keyword 'activaton'. " \
           "Did you mean 'activation'?" in message
    assert "Allowed: activation, pooling, head_dropout" in message


def test_builder_keyword_wrong_type(write_recipe):
    message = error_for(write_recipe, {"model": {"name": "lenet5", "activation": 3}})
    assert "model.activation: expected text. Received: 3 (int)" in message


def test_reserved_keyword_refused(write_recipe):
    message = error_for(write_recipe, {"model": {"name": "mlp", "num_classes": 3}})
    assert "model.num_classes: 'num_classes' is set by kvision itself" in message


def test_augment_keyword_not_accepted(write_recipe):
    message = error_for(write_recipe, {"augment": [{"name": "rotate", "degree": 3}]})
    assert "augment.0.degree: augmentation 'rotate' does not accept keyword 'degree'. " \
           "Did you mean 'degrees'?" in message


def test_policy_string_unknown_key(write_recipe):
    message = error_for(write_recipe, {"augment": ["randaugment-x3"]})
    assert "augment.0: unknown key 'x' for randaugment" in message
    assert "keys for randaugment: n (num_ops), m (magnitude)" in message


def test_policy_string_malformed(write_recipe):
    assert "cannot read 'mfast'" in error_for(write_recipe, {"augment": ["randaugment-mfast"]})


def test_schedule_keyword(write_recipe):
    message = error_for(write_recipe, {"train": {"schedule": {"name": "step", "boundary": [3]}}})
    assert "train.schedule.boundary: schedule 'step' does not accept keyword 'boundary'" in message


def test_source_needs_argument(write_recipe):
    assert "data.source: data source 'npz' needs an argument. Received: 'npz'. Allowed: npz:PATH" in \
        error_for(write_recipe, {"data": {"source": "npz"}})


def test_source_path_missing(write_recipe, tmp_path):
    missing = tmp_path / "nope"
    assert f"image folder not found: {missing}" in \
        error_for(write_recipe, {"data": {"source": f"image_folder:{missing}"}})


def test_source_option_unknown(write_recipe):
    message = error_for(write_recipe, {"data": {"source": "fashion_mnist",
                                                "source_options": {"data_dirr": "/x"}}})
    assert "data.source_options.data_dirr: data source 'fashion_mnist' does not accept keyword " \
           "'data_dirr'. Did you mean 'data_dir'?" in message


def test_image_size_shape(write_recipe):
    assert "data.image_size: expected [height, width]" in \
        error_for(write_recipe, {"data": {"image_size": [28]}})


def test_not_yaml(write_recipe):
    message = error_for(write_recipe, "model: [unclosed\n  name: x")
    assert "not valid YAML at line" in message


def test_yaml_list_at_top_level(write_recipe):
    assert "expected a mapping of sections" in error_for(write_recipe, "- a\n- b\n")


def test_empty_file(write_recipe):
    assert "the recipe is empty" in error_for(write_recipe, "")


def test_python_tag_refused(write_recipe, tmp_path):
    marker = tmp_path / "pwned"
    text = f"model: !!python/object/apply:os.system ['touch {marker}']\n"
    message = error_for(write_recipe, text)
    assert "YAML tag refused" in message and "safe_load" in message
    assert not marker.exists()


def test_missing_file():
    with pytest.raises(RecipeError, match="recipe file not found"):
        load_recipe("/nonexistent/recipe.yaml")


def test_overrides_set_any_key(write_recipe):
    recipe = load_recipe(write_recipe(tiny_recipe()), [
        "train.epochs=7", "train.optimizer.learning_rate=0.05", "model.activation=tanh",
        "augment=[randaugment-n1-m5]", "data.image_size=[32, 32]"])
    assert recipe.train.epochs == 7
    assert recipe.train.optimizer.learning_rate == 0.05
    assert recipe.model.options["activation"] == "tanh"
    assert recipe.augment[0].options == {"num_ops": 1, "magnitude": 5.0}
    assert recipe.data.image_size == [32, 32]


def test_override_list_index(write_recipe):
    recipe = load_recipe(write_recipe(tiny_recipe(augment=["flip", "rotate"])), ["augment.1=zoom"])
    assert [a.name for a in recipe.augment] == ["flip", "zoom"]


def test_override_is_validated(write_recipe):
    message = error_for(write_recipe, tiny_recipe(), ["train.epochs=zero"])
    assert "train.epochs: expected a whole number. Received: 'zero'" in message


def test_override_malformed(write_recipe):
    assert "--set: an override must look like key.path=value" in \
        error_for(write_recipe, tiny_recipe(), ["train.epochs"])


def test_user_module_registers_a_model(write_recipe, tmp_path, monkeypatch):
    (tmp_path / "my_models.py").write_text(textwrap.dedent('''
        import keras
        from kvision.registry import MODELS
        from kvision.models import image_classifier

        @MODELS.register("user_tiny_cnn")
        def tiny_cnn(input_shape, num_classes, filters=4):
            inputs = keras.Input(input_shape)
            x = keras.layers.Conv2D(filters, 3, activation="relu")(inputs)
            x = keras.layers.GlobalAveragePooling2D()(x)
            return image_classifier(keras.Model(inputs, x), num_classes)
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    recipe = load_recipe(write_recipe({"imports": ["my_models"],
                                       "model": {"name": "user_tiny_cnn", "filters": 8}}))
    assert recipe.model.options == {"filters": 8}


def test_missing_import(write_recipe):
    message = error_for(write_recipe, {"imports": ["no_such_module_xyz"]})
    assert "imports.0: cannot import module 'no_such_module_xyz'" in message


def test_dumped_recipe_is_plain_yaml(write_recipe, tmp_path):
    recipe = load_recipe(write_recipe(tiny_recipe()))
    out = tmp_path / "r.yaml"
    dump_recipe(recipe, out)
    data = yaml.safe_load(out.read_text())
    assert data["model"] == {"name": "lenet5", "activation": "relu"}
    assert data["train"]["optimizer"]["name"] == "adam"


RECIPES_DIR = os.path.join(os.path.dirname(__file__), "..", "recipes")


@pytest.mark.parametrize("name", sorted(f for f in os.listdir(RECIPES_DIR) if f.endswith(".yaml")))
def test_shipped_recipes_validate(name):
    recipe = load_recipe(os.path.join(RECIPES_DIR, name))
    assert recipe.name == name[:-5]


def test_knn_model_needs_knn_learner(write_recipe):
    message = error_for(write_recipe, {"model": {"name": "knn"}})
    assert "train.learner: model 'knn' is trained by the 'knn' learner. Received: 'classify'. " \
           "Allowed: knn." in message


def test_knn_learner_needs_knn_model(write_recipe):
    message = error_for(write_recipe, {"train": {"learner": "knn"}})
    assert "model.name: the 'knn' learner trains only the 'knn' model. Received: 'lenet5'" in message


def test_knn_features_file_missing(write_recipe, tmp_path):
    message = error_for(write_recipe, {"model": {"name": "knn", "features": str(tmp_path / "no.keras")},
                                       "train": {"learner": "knn"}})
    assert f"model: model file not found: features: {tmp_path / 'no.keras'}" in message


@pytest.mark.parametrize("content,expected", [
    ({"train": {"jit_compile": "yes"}},
     "train.jit_compile: expected true or false. Received: 'yes'"),
    ({"train": {"pseudo_label": {"label_view": "sideways"}}},
     "train.pseudo_label.label_view: not an allowed value. Received: 'sideways'. Allowed: same, clean"),
])
def test_jit_compile_and_label_view_are_checked(write_recipe, content, expected):
    assert expected in error_for(write_recipe, content)
