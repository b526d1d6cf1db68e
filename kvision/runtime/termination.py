"""Stopping cleanly on SIGTERM (a scheduler's preemption, `kill`): checkpoint, then exit."""

import signal
import threading

import keras

from kvision.errors import KvisionError


class Interrupted(KvisionError):
    """Training stopped on a signal after saving its state; re-running resumes it."""


class StopOnSignal(keras.callbacks.Callback):
    """Saves the training state at the step SIGTERM arrives during, then stops the run.

    The handler only sets a flag; the callback acts at the end of the current
    step, writes the state (atomically, as every checkpoint) and raises
    `Interrupted`, so no half-finished epoch reaches metrics.csv.

    Args:
        state: a `TrainingState`.
        signals: the signals to catch.
    """

    def __init__(self, state, signals=(signal.SIGTERM,)):
        super().__init__()
        self.state = state
        self.signals = signals
        self.received = None
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():  # handlers live in the main thread
            for sig in self.signals:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def _handle(self, signum, frame):
        self.received = signum

    def on_train_batch_end(self, batch, logs=None):
        if self.received is None:
            return
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        self.state.save(self.model, step)
        name = signal.Signals(self.received).name
        raise Interrupted(f"stopped by {name} at step {step}; the training state is saved in "
                          f"{self.state.folder}. Run the same command again to resume.")
