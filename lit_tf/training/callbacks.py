"""The callbacks every training stage gets: a clear stop on NaN, the best epoch kept, the time logged.

Example:

>>> from lit_tf.training import callbacks
>>> callbacks.RaiseOnNaN("lit").on_train_batch_end(41, {"loss": float("nan")})
Traceback (most recent call last):
...
FloatingPointError: The 'lit' stage loss became nan in epoch 1, step 42. Lower the learning rate, ...

`KeepBestEpoch` is in every stage `lit_tf.training.fit_stage` runs with validation data, and
`StageBackup` and `EpochSeconds` in every stage it runs in a workdir (`<stage>/epoch_seconds.csv`);
`TestAccuracyCurve` where it is given `report_data` (`<stage>/test_accuracy.csv`).
"""

import math
import os
import shutil
import tempfile
import time

import keras

from lit_tf import _compat
from lit_tf.experiments.reporting import accuracies
from lit_tf.experiments.reporting import logits_function
from lit_tf.experiments.workdir import read_json
from lit_tf.experiments.workdir import write_json_atomically


class StageBackup(keras.callbacks.BackupAndRestore):
    """Keras' `BackupAndRestore`, whose resumed epoch ends with the `fit` that resumed.

    On resuming, Keras' callback sets the model's starting epoch (`_initial_epoch`) and never
    clears it (Keras 3.15), so the next `fit` of the same model, the next stage of a resumed
    run, would start at that epoch and skip as many of its own. Cleared when training ends.
    """

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        _compat.reset_starting_epoch(self.model)


class RaiseOnNaN(keras.callbacks.Callback):
    """Stops training at the first step whose loss is not finite, with one clear error.

    Checked after every training step (as Keras' `TerminateOnNaN`, which stops without saying
    why), so a long epoch does not run on NaN; the step's epoch is never completed, so a workdir
    keeps its last good epoch. Checked again on the epoch's logs.

    Args:
        stage: str, named in the error.
        monitors: the logged losses checked (a GAN logs `g_loss` and `d_loss`).
    """

    def __init__(self, stage, monitors=("loss",)):
        super().__init__()
        self.stage = stage
        self.monitors = tuple(monitors)
        self._epoch = 0

    def _check(self, logs, where):
        for name in self.monitors:
            value = (logs or {}).get(name)
            if value is not None and not math.isfinite(float(value)):
                raise FloatingPointError(
                    f"The {self.stage!r} stage {name.replace('_', ' ')} became {float(value)} in {where}. Lower "
                    "the learning rate, check the inputs for NaN/inf, or check that the teacher gives finite "
                    "logits. The workdir keeps the last completed epoch."
                )

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._check(logs, f"epoch {self._epoch + 1}, step {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs, f"epoch {epoch + 1}")


class EpochSeconds(keras.callbacks.Callback):
    """Appends each epoch's wall time (training and validation) to a CSV file: `epoch,seconds`.

    Appended, so the file holds every process's epochs of a stage that was restarted;
    `lit_tf.experiments.workdir.training_seconds` sums a workdir's. (A separate file rather than a
    `history.csv` column: `CSVLogger` appending to an older file keeps no column order.)

    Example:

    >>> import os, tempfile
    >>> from lit_tf.training.callbacks import EpochSeconds
    >>> timer = EpochSeconds(os.path.join(tempfile.mkdtemp(), "epoch_seconds.csv"))
    >>> for epoch in range(2):
    ...     timer.on_epoch_begin(epoch); timer.on_epoch_end(epoch)
    >>> open(timer.path).read().splitlines()[0], len(open(timer.path).read().splitlines())
    ('epoch,seconds', 3)
    """

    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.time() - self._start
        new = not os.path.exists(self.path)
        with open(self.path, "a") as f:
            f.write(("epoch,seconds\n" if new else "") + f"{epoch},{seconds:.2f}\n")


class TestAccuracyCurve(keras.callbacks.Callback):
    """Appends `target`'s accuracy on held-out data after every epoch to a CSV: `epoch,test_accuracy`.

    A report of how a model learns (a learning curve), kept apart from the validation metrics
    that choose the kept epoch: it is written to its own file, never into the epoch's logs, so no
    callback that selects (`KeepBestEpoch`, `EarlyStopping`) can see it. One inference pass
    of `data` an epoch. A restarted stage appends; a repeated epoch's last row is the one
    that counts (`lit_tf.experiments.workdir.read_curve`).

    Args:
        target: `keras.Model` evaluated (the student inside a distiller).
        data: `tf.data.Dataset` of `(x, y)` batches, integer labels.
        path: str, the CSV file.

    Example:

    >>> import os, tempfile, numpy as np, keras, tensorflow as tf
    >>> from lit_tf.training.callbacks import TestAccuracyCurve
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    >>> data = tf.data.Dataset.from_tensor_slices((np.eye(2, dtype="float32"), [0, 1])).batch(2)
    >>> curve = TestAccuracyCurve(model, data, os.path.join(tempfile.mkdtemp(), "test_accuracy.csv"))
    >>> curve.on_epoch_end(0)
    >>> open(curve.path).read().splitlines()[0]
    'epoch,test_accuracy'
    """

    def __init__(self, target, data, path):
        super().__init__()
        self.target, self.data, self.path = target, data, path
        self.logits = logits_function([target])  # traced once for the whole stage

    def on_epoch_end(self, epoch, logs=None):
        value = accuracies([self.target], self.data, self.logits)[0]
        new = not os.path.exists(self.path)
        with open(self.path, "a") as f:
            f.write(("epoch,test_accuracy\n" if new else "") + f"{epoch},{value:.4f}\n")


class KeepBestEpoch(keras.callbacks.ModelCheckpoint):
    """Keeps `target`'s weights of the epoch with the best `monitor` and restores them at the end.

    Keras' `ModelCheckpoint(save_best_only=True, save_weights_only=True)`, saving `target`
    (the student inside a distiller) rather than the model being fit, with two additions:
    the best value and epoch are written next to the weights (`best.json`) and come back as
    `initial_value_threshold` after a restart, and `target` gets the best weights back when
    training ends. The weights file is replaced whole, so a kill leaves the last best.

    Args:
        target: `keras.Model` whose weights are kept (e.g. the student inside a distiller).
        folder: str, where `best.weights.h5` and `best.json` live; `None` for a temporary
            folder removed at the end.
        monitor: str, a validation metric where higher is better.
    """

    def __init__(self, target, folder=None, monitor="val_accuracy"):
        self._temporary = folder is None
        self.folder = tempfile.mkdtemp(prefix="lit_tf_best_") if folder is None else folder
        state = read_json(self._state_path) or {}
        super().__init__(os.path.join(self.folder, "best.tmp.weights.h5"), monitor=monitor, mode="max",
                         save_best_only=True, save_weights_only=True, initial_value_threshold=state.get("best"))
        self.target = target
        self.best_epoch = state.get("epoch")

    @property
    def _state_path(self):
        return os.path.join(self.folder, "best.json")

    @property
    def _weights_path(self):
        return os.path.join(self.folder, "best.weights.h5")

    def set_model(self, model):
        super().set_model(self.target)  # what is saved is the target, not the distiller around it

    def on_epoch_end(self, epoch, logs=None):
        before = self.best
        super().on_epoch_end(epoch, logs)
        if self.best is not None and self.best != before:  # saved to the temporary file just now
            os.replace(self.filepath, self._weights_path)
            self.best_epoch = epoch
            write_json_atomically(self._state_path, {"best": float(self.best), "epoch": epoch})

    def on_train_end(self, logs=None):
        if os.path.exists(self._weights_path):
            self.target.load_weights(self._weights_path)
        if self._temporary:
            shutil.rmtree(self.folder, ignore_errors=True)
