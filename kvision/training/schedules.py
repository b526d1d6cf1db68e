"""Registered learning-rate schedules, with optional linear warm-up.

A schedule builder takes `learning_rate`, `total_steps`, `warmup_steps`,
`steps_per_epoch` (given by kvision) and its own options (from the recipe).
"""

import keras

from kvision.registry import SCHEDULES


@keras.saving.register_keras_serializable(package="kvision")
class LinearWarmup(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to `target` over `warmup_steps`, then `after`.

    Keras' CosineDecay has warm-up built in; constant and step schedules
    do not, hence this wrapper.

    Args:
        after: the schedule (or float) used from `warmup_steps` on; it sees
            the step counted from the end of warm-up.
        warmup_steps: steps of warm-up.
        target: the learning rate reached at the end of warm-up.
    """

    def __init__(self, after, warmup_steps, target):
        self.after = after
        self.warmup_steps = int(warmup_steps)
        self.target = float(target)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        warm = self.target * (step + 1.0) / float(max(self.warmup_steps, 1))
        later = self.after(step - self.warmup_steps) if callable(self.after) else self.after
        return keras.ops.where(step < self.warmup_steps, warm, keras.ops.cast(later, "float32"))

    def get_config(self):
        after = self.after
        if isinstance(after, keras.optimizers.schedules.LearningRateSchedule):
            after = keras.saving.serialize_keras_object(after)
        return {"after": after, "warmup_steps": self.warmup_steps, "target": self.target}

    @classmethod
    def from_config(cls, config):
        after = config["after"]
        if isinstance(after, dict):
            after = keras.saving.deserialize_keras_object(after)
        return cls(after, config["warmup_steps"], config["target"])


def _with_warmup(schedule, learning_rate, warmup_steps):
    return LinearWarmup(schedule, warmup_steps, learning_rate) if warmup_steps else schedule


@SCHEDULES.register("constant")
def constant(learning_rate, total_steps, warmup_steps, steps_per_epoch):
    """The same learning rate throughout (after warm-up)."""
    return _with_warmup(learning_rate, learning_rate, warmup_steps)


@SCHEDULES.register("cosine")
def cosine(learning_rate, total_steps, warmup_steps, steps_per_epoch, alpha=0.0):
    """Cosine decay (Loshchilov and Hutter 2017, SGDR) to alpha x the peak."""
    decay_steps = max(total_steps - warmup_steps, 1)
    if warmup_steps:
        return keras.optimizers.schedules.CosineDecay(0.0, decay_steps, alpha=alpha,
                                                      warmup_target=learning_rate,
                                                      warmup_steps=warmup_steps)
    return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps, alpha=alpha)


@SCHEDULES.register("step")
def step(learning_rate, total_steps, warmup_steps, steps_per_epoch, boundaries=(30, 60, 90),
         factor=0.1):
    """Multiplies the learning rate by `factor` at each epoch in `boundaries`."""
    bounds = [int(b * steps_per_epoch) - warmup_steps for b in boundaries]
    values = [learning_rate * factor ** i for i in range(len(bounds) + 1)]
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay(bounds, values)
    return _with_warmup(schedule, learning_rate, warmup_steps)


def build_schedule(config, learning_rate, steps_per_epoch, epochs):
    """Builds the schedule of a `ScheduleConfig` for a run of `epochs` x `steps_per_epoch`."""
    warmup_steps = int(round(config.warmup_epochs * steps_per_epoch))
    return SCHEDULES.get(config.name)(learning_rate, steps_per_epoch * epochs, warmup_steps,
                                      steps_per_epoch, **config.options)
