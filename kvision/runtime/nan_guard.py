"""Stopping a run whose loss stopped being a number."""

import math

import keras


class StopOnNaN(keras.callbacks.Callback):
    """Stops training at the first step whose loss is NaN or infinite, and remembers it.

    Unlike `keras.callbacks.TerminateOnNaN` it records the step, so the run
    can say where it failed, and the checkpoint callback can refuse to save
    the broken weights (`broken`).
    """

    def __init__(self):
        super().__init__()
        self.bad_step = None

    @property
    def broken(self):
        return self.bad_step is not None

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)) and self.bad_step is None:
            self.bad_step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
            self.model.stop_training = True
