"""Registered optimizers, built from a recipe's `train.optimizer` section."""

import keras

from kvision.registry import OPTIMIZERS


def _common(config):
    kwargs = {"use_ema": config.ema, "ema_momentum": config.ema_momentum}
    if config.clipnorm:
        kwargs["clipnorm"] = config.clipnorm
    return kwargs


@OPTIMIZERS.register("sgd")
def sgd(learning_rate, config):
    """SGD with (optionally Nesterov) momentum and decoupled weight decay."""
    return keras.optimizers.SGD(learning_rate, momentum=config.momentum, nesterov=config.nesterov,
                                weight_decay=config.weight_decay or None, **_common(config))


@OPTIMIZERS.register("adam")
def adam(learning_rate, config):
    """Adam (Kingma and Ba 2015)."""
    return keras.optimizers.Adam(learning_rate, weight_decay=config.weight_decay or None,
                                 **_common(config))


@OPTIMIZERS.register("adamw")
def adamw(learning_rate, config):
    """AdamW (Loshchilov and Hutter 2019): Adam with decoupled weight decay."""
    return keras.optimizers.AdamW(learning_rate, weight_decay=config.weight_decay,
                                  **_common(config))


def build_optimizer(config, learning_rate):
    """Builds the optimizer named in `config` with `learning_rate` (a float or schedule)."""
    return OPTIMIZERS.get(config.name)(learning_rate, config)
