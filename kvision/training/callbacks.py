"""Callbacks kvision adds to every run."""

import time

import keras
import numpy as np


class Throughput(keras.callbacks.Callback):
    """Records the wall time of each epoch and the images per second.

    Args:
        images_per_epoch: training images seen in one epoch.
    """

    def __init__(self, images_per_epoch):
        super().__init__()
        self.images_per_epoch = images_per_epoch
        self.epoch_seconds = []
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self._start)

    @property
    def images_per_second(self):
        """Median over epochs, leaving out the first (tracing) where there are more."""
        seconds = self.epoch_seconds[1:] or self.epoch_seconds
        return float(self.images_per_epoch / np.median(seconds)) if seconds else 0.0


class ArtefactCheckpoint(keras.callbacks.ModelCheckpoint):
    """`ModelCheckpoint` that saves the trained artefact rather than the learner fitting it.

    A learner such as `TransferLearner` or a distiller wraps the model that
    is the result of training; the best checkpoint should hold that model
    alone (no teacher, no learner class needed to load it).

    Args:
        artefact: the model to save.
        **kwargs: `keras.callbacks.ModelCheckpoint` arguments.
    """

    def __init__(self, artefact, filepath, **kwargs):
        super().__init__(filepath, **kwargs)
        self.artefact = artefact

    def set_model(self, model):
        super().set_model(self.artefact)
