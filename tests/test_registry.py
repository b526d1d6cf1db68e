import pytest

from kvision.registry import MODELS, Registry, RegistryError, closest_names


def test_register_get_and_list():
    registry = Registry("widget")

    @registry.register("alpha")
    def alpha():
        return 1

    @registry.register()
    def beta():
        return 2

    assert registry.get("alpha") is alpha
    assert registry.names() == ["alpha", "beta"]
    assert "beta" in registry and len(registry) == 2


def test_duplicate_name_raises():
    registry = Registry("widget")
    registry.register("alpha")(lambda: 1)
    with pytest.raises(RegistryError, match="already registered"):
        registry.register("alpha")(lambda: 2)


def test_override_replaces():
    registry = Registry("widget")
    registry.register("alpha")(lambda: 1)
    registry.register("alpha", override=True)(lambda: 2)
    assert registry.get("alpha")() == 2


def test_unknown_name_lists_closest():
    with pytest.raises(RegistryError) as info:
        MODELS.get("lenet")
    message = str(info.value)
    assert "Unknown model 'lenet'" in message
    assert "Did you mean 'lenet5'" in message


def test_closest_names_falls_back_to_substring():
    assert closest_names("net", ["lenet5", "mlp"]) == ["lenet5"]


def test_every_component_kind_is_registered():
    from kvision.registry import AUGMENTATIONS, DATA_SOURCES, LEARNERS, OPTIMIZERS, SCHEDULES

    assert {"mlp", "lenet5"} <= set(MODELS.names())
    assert {"fashion_mnist", "tfds", "image_folder", "npz"} <= set(DATA_SOURCES.names())
    assert {"sgd", "adam", "adamw"} <= set(OPTIMIZERS.names())
    assert {"constant", "cosine", "step"} <= set(SCHEDULES.names())
    assert "classify" in LEARNERS
    assert {"flip", "pad_crop", "resized_crop", "rotate", "shear", "translate", "zoom", "brightness",
            "contrast", "perspective", "erasing", "randaugment", "augmix", "mixup",
            "cutmix"} <= set(AUGMENTATIONS.names())
