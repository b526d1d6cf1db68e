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
