"""The base of learners that train a model they wrap (the model is the artefact)."""

import keras


class ModelLearner(keras.Model):
    """A `keras.Model` that trains `self.model`; subclasses list their settings in `CONFIG_KEYS`.

    `get_config` stores the wrapped model and those settings, `from_config`
    rebuilds both, so every learner round-trips through its config.
    """

    CONFIG_KEYS = ()

    def call(self, inputs, training=None):
        return self.model(inputs, training=training)

    def get_config(self):
        return {**super().get_config(), "model": keras.saving.serialize_keras_object(self.model),
                **{key: getattr(self, key) for key in self.CONFIG_KEYS}}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["model"] = keras.saving.deserialize_keras_object(config["model"])
        return cls(**config)
