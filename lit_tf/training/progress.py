"""Progress lines of training runs: one a stage's epoch, and the whole run's ETA.

- `EpochLine`: the stage, epoch, logged values, s/epoch and the stage's ETA each epoch,
  and inside a long epoch a progress line every minute.
- `RunProgress`: passed to every stage of a run (as a callback), it counts the run's
  epochs across stages and prints the run's ETA after each epoch, from the mean epoch
  so far (stages differ in cost: LIT epochs are dearer than scratch ones, so it is a
  guide, marked `~`). Epochs of stages finished before a restart count as done.

Example:

>>> from lit_tf.training.progress import RunProgress
>>> progress = RunProgress(epochs=4)
>>> progress.skip(1)  # a stage finished before a restart
>>> progress.on_train_begin(); progress.on_epoch_begin(0)
>>> progress.record(60.0)  # one epoch of 60 s: 2 epochs left
[lit_tf] run: epoch 2/4 done, ETA ~2 min
"""

import time

import keras

VAL_SHOWN = ("val_loss", "val_accuracy")


class EpochLine(keras.callbacks.Callback):
    """Prints one line an epoch (stage, epoch, logged values, s/epoch, the stage's ETA), and
    inside a long epoch a progress line every `interval` seconds (images/s, the epoch's ETA).

    Args:
        stage: str. epochs: int, the stage's epochs.
        batch_size: int or `None`; with it the progress line counts images, else steps.
        interval: float, seconds between progress lines inside an epoch.
    """

    def __init__(self, stage, epochs, batch_size=None, interval=60.0):
        super().__init__()
        self.stage, self.epochs, self.batch_size, self.interval = stage, epochs, batch_size, interval
        self._start, self._first = None, None
        self._epoch_start = self._last_line = None

    def on_epoch_begin(self, epoch, logs=None):
        if self._first is None:  # a resumed stage starts past epoch 0
            self._start, self._first = time.time(), epoch
        self._epoch, self._epoch_start = epoch, time.time()
        self._last_line = self._epoch_start

    def on_train_batch_end(self, batch, logs=None):
        now = time.time()
        if now - self._last_line < self.interval:
            return
        self._last_line = now
        done, total = batch + 1, (self.params or {}).get("steps")
        rate = done / (now - self._epoch_start)
        unit, scale = ("images", self.batch_size) if self.batch_size else ("steps", 1)
        eta = f", epoch ETA {(total - done) / rate:.0f} s" if total else ""
        print(f"[{self.stage}] epoch {self._epoch + 1}/{self.epochs} step {done}" + (f"/{total}" if total else "")
              + f" | {rate * scale:.0f} {unit}/s{eta}", flush=True)

    def on_epoch_end(self, epoch, logs=None):
        seconds = (time.time() - self._start) / (epoch + 1 - self._first)
        shown = {k: v for k, v in (logs or {}).items() if not k.startswith("val_") or k in VAL_SHOWN}
        values = " ".join(f"{key} {value:.4g}" for key, value in shown.items())
        print(f"[{self.stage}] epoch {epoch + 1}/{self.epochs} {values} | {seconds:.1f} s/epoch, "
              f"ETA {seconds * (self.epochs - epoch - 1):.0f} s", flush=True)


class RunProgress(keras.callbacks.Callback):
    """Counts a run's epochs over its stages and prints the run's ETA after each.

    Args:
        epochs: int, the epochs of every stage the run will train.
    """

    def __init__(self, epochs):
        super().__init__()
        self.epochs, self.done, self.timed, self.seconds = epochs, 0, 0, 0.0
        self._first, self._epoch_start = True, None

    def skip(self, epochs):
        """Counts `epochs` finished in an earlier process (they take no time now)."""
        self.done += epochs

    def on_train_begin(self, logs=None):
        self._first = True

    def on_epoch_begin(self, epoch, logs=None):
        if self._first:  # a stage resumed past its first epoch
            self._first = False
            self.skip(epoch)
        self._epoch_start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self.record(time.time() - self._epoch_start)

    def record(self, seconds):
        """Counts one epoch of `seconds` and prints the run's ETA."""
        self.done, self.timed, self.seconds = self.done + 1, self.timed + 1, self.seconds + seconds
        left = max(self.epochs - self.done, 0)
        eta = seconds_text(self.seconds / self.timed * left)
        print(f"[lit_tf] run: epoch {self.done}/{self.epochs} done, ETA ~{eta}", flush=True)


def seconds_text(seconds):
    """`"42 s"`, `"7 min"` or `"3.5 h"`."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
