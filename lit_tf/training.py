"""One training stage, resumable: schedule, NaN guard, best epoch, backup, history.

Every stage of every method (teacher, LIT, KD, FitNets, scratch) goes through
`fit_stage`, so they share the same schedule, model selection on validation
data and crash recovery. With a `checkpoint_dir`, a stage killed at any point
(even `kill -9`) continues from its last completed epoch when run again, and a
finished stage is not run twice.

Example:

>>> import keras, numpy as np, tempfile
>>> from lit_tf import training
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
>>> model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
>>> x, y = np.random.rand(16, 4), np.random.randint(0, 3, 16)
>>> folder = tempfile.mkdtemp()
>>> history = training.fit_stage(model, (x, y), (x, y), epochs=2, learning_rate=0.1,
...                              stage="demo", checkpoint_dir=folder, batch_size=8, verbose=0)
>>> history.epoch, training.is_done(folder, "demo")
([0, 1], True)
"""

import csv
import json
import math
import os
import shutil

import keras
import numpy as np

from lit_tf.optimizers import piecewise_schedule
from lit_tf.progress import EpochLine
from lit_tf.progress import RunProgress


class RaiseOnNaN(keras.callbacks.Callback):
    """Stops training with one clear error when an epoch's loss is not finite.

    Args:
        stage: str, named in the error.
        monitors: the logged losses checked (a GAN logs `g_loss` and `d_loss`).
    """

    def __init__(self, stage, monitors=("loss",)):
        super().__init__()
        self.stage = stage
        self.monitors = tuple(monitors)

    def on_epoch_end(self, epoch, logs=None):
        bad = [(name, (logs or {})[name]) for name in self.monitors
               if (logs or {}).get(name) is not None and not math.isfinite((logs or {})[name])]
        if bad:
            name, loss = bad[0]
            raise FloatingPointError(
                f"The {self.stage!r} stage {name.replace('_', ' ')} became {loss} in epoch {epoch + 1}. Lower the "
                "learning rate, check the inputs for NaN/inf, or check that the "
                "teacher gives finite logits."
            )


class KeepBestEpoch(keras.callbacks.Callback):
    """Restores `target`'s weights of the epoch with the best `monitor` at the end.

    Unlike `EarlyStopping(restore_best_weights=True)` the best value and
    weights survive a restart when `folder` is given.

    Args:
        target: `keras.Model` whose weights are kept (e.g. the student inside a distiller).
        folder: str or `None` (keep in memory only).
        monitor: str, a validation metric where higher is better.
    """

    def __init__(self, target, folder=None, monitor="val_accuracy"):
        super().__init__()
        self.target, self.folder, self.monitor = target, folder, monitor
        self.best, self.best_epoch, self._weights = -math.inf, None, None

    def _paths(self):
        return os.path.join(self.folder, "best.json"), os.path.join(self.folder, "best.weights.h5")

    def on_train_begin(self, logs=None):
        if self.folder and os.path.exists(self._paths()[0]):
            with open(self._paths()[0]) as f:
                state = json.load(f)
            self.best, self.best_epoch = state["best"], state["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not value > self.best:
            return
        self.best, self.best_epoch = float(value), epoch
        if not self.folder:
            self._weights = self.target.get_weights()
            return
        state_path, weights_path = self._paths()
        os.makedirs(self.folder, exist_ok=True)
        save_weights_atomically(self.target, weights_path)
        write_json_atomically(state_path, {"best": self.best, "epoch": epoch})

    def on_train_end(self, logs=None):
        if self._weights is not None:
            self.target.set_weights(self._weights)
        elif self.folder and os.path.exists(self._paths()[1]):
            self.target.load_weights(self._paths()[1])


def accuracy(model, dataset):
    """Top-1 accuracy of `model`'s logits over a dataset of `(x, y)` batches, in inference mode."""
    correct = total = 0
    for images, labels in dataset:
        # predict_on_batch runs one traced function; calling the model eagerly took minutes on 10,000 images.
        predictions = np.argmax(model.predict_on_batch(images), axis=-1)
        correct += int(np.sum(predictions == np.asarray(labels)))
        total += len(predictions)
    return correct / total


def write_json_atomically(path, value):
    """Writes JSON so a reader (or a restart after `kill -9`) never sees half a file."""
    with open(path + ".tmp", "w") as f:
        json.dump(value, f, indent=2)
    os.replace(path + ".tmp", path)


def save_weights_atomically(model, path):
    """`model.save_weights(path)` through a temporary file and `os.replace`."""
    temporary = path[: -len(".weights.h5")] + ".tmp.weights.h5"
    model.save_weights(temporary)
    os.replace(temporary, path)


def history_from_csv(path):
    """A `keras.callbacks.History` rebuilt from a `CSVLogger` file (all runs of a stage).

    Columns `CSVLogger` filled with "NA" throughout (the `val_*` names it adds when
    a stage has no validation data) are left out.
    """
    history = keras.callbacks.History()
    history.history = {}
    if os.path.exists(path):
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        by_epoch = {int(row["epoch"]): row for row in rows}  # a resumed epoch replaces the killed one
        history.epoch = sorted(by_epoch)
        for key in rows[0] if rows else []:
            values = [by_epoch[e][key] for e in history.epoch]
            if key != "epoch" and any(value != "NA" for value in values):
                history.history[key] = [float("nan") if value == "NA" else float(value) for value in values]
    else:
        history.epoch = []
    return history


def _done_path(checkpoint_dir, stage):
    return os.path.join(checkpoint_dir, stage, "done.weights.h5")


def is_done(checkpoint_dir, stage):
    """Whether `stage` finished in `checkpoint_dir` (its final weights are written)."""
    return os.path.exists(_done_path(checkpoint_dir, stage))


def fit_stage(
    model,
    train_data,
    val_data=None,
    *,
    epochs,
    learning_rate,
    milestones=(),
    schedule="milestones",
    stage,
    target=None,
    keep_best=None,
    checkpoint_dir=None,
    callbacks=None,
    batch_size=None,
    steps_per_epoch=None,
    nan_monitors=("loss",),
    verbose="auto",
):
    """Fits a compiled `model` for one stage with a piecewise learning rate.

    Args:
        model: compiled `keras.Model` (a plain model or a distiller).
        train_data, val_data: `tf.data.Dataset` of `(x, y)` batches or `(x, y)` arrays.
        epochs: int. learning_rate: float, or `None` to leave the optimizer's rate (or
            schedule) alone. milestones: epochs where the rate drops 10x.
        schedule: "milestones" (the drop at epoch m) or "reference" (one epoch earlier,
            as the LIT reference code); see `lit_tf.optimizers.piecewise_schedule`.
        stage: str, names the stage in messages and under `checkpoint_dir`.
        target: `keras.Model` whose weights are the stage's result (the student
            inside a distiller); defaults to `model`.
        keep_best: bool; keep `target`'s best epoch by `val_accuracy`. Defaults to
            whether `val_data` is given.
        checkpoint_dir: str or `None`. When set: `BackupAndRestore` every epoch,
            the history in `<stage>/history.csv`, TensorBoard logs in `<stage>/logs`,
            and a finished stage only reloads its weights.
        callbacks: extra callbacks. batch_size: for array inputs.
        steps_per_epoch: int or `None` (for an endless `train_data`).
        nan_monitors: logged losses that stop the stage when not finite.
        verbose: passed to `fit`, or "lines" for one `EpochLine` an epoch.

    Returns:
        `keras.callbacks.History` (every epoch of the stage, across restarts).
    """
    target = target or model
    keep_best = val_data is not None if keep_best is None else keep_best
    folder = os.path.join(checkpoint_dir, stage) if checkpoint_dir else None
    if folder and is_done(checkpoint_dir, stage):
        target.load_weights(_done_path(checkpoint_dir, stage))
        for callback in callbacks or []:
            if isinstance(callback, RunProgress):
                callback.skip(epochs)
        return history_from_csv(os.path.join(folder, "history.csv"))

    callbacks = [
        *([keras.callbacks.LearningRateScheduler(
            piecewise_schedule(learning_rate, milestones, convention=schedule))]
          if learning_rate is not None else []),
        RaiseOnNaN(stage, nan_monitors),
        # The epoch's line first, then what the caller's callbacks print (the run's ETA).
        *([EpochLine(stage, epochs, batch_size=_batch_size(train_data, batch_size))] if verbose == "lines" else []),
        *(callbacks or []),
    ]
    if verbose == "lines":
        verbose = 0
    if keep_best:
        callbacks.append(KeepBestEpoch(target, folder and os.path.join(folder, "best")))
    if folder:
        os.makedirs(folder, exist_ok=True)
        callbacks += [
            keras.callbacks.BackupAndRestore(os.path.join(folder, "backup"), delete_checkpoint=False),
            keras.callbacks.CSVLogger(os.path.join(folder, "history.csv"), append=True),
            keras.callbacks.TensorBoard(os.path.join(folder, "logs"), write_graph=False),
        ]
    x, y = train_data if isinstance(train_data, tuple) else (train_data, None)
    _build(model, x)
    history = model.fit(
        x, y, validation_data=val_data, epochs=epochs, callbacks=callbacks,
        batch_size=batch_size, verbose=verbose, shuffle=isinstance(x, np.ndarray),  # datasets shuffle themselves
        steps_per_epoch=steps_per_epoch,
    )
    if not folder:
        return history
    save_weights_atomically(target, _done_path(checkpoint_dir, stage))
    shutil.rmtree(os.path.join(folder, "backup"), ignore_errors=True)
    return history_from_csv(os.path.join(folder, "history.csv"))


def _batch_size(train_data, batch_size):
    """Images a step: `batch_size` for arrays, the first batch's length for a dataset."""
    if batch_size or isinstance(train_data, tuple):
        return batch_size or 32  # Keras' default for arrays
    try:
        return int(next(iter(train_data))[0].shape[0])
    except (StopIteration, TypeError, IndexError):
        return None


def _build(model, x):
    """`BackupAndRestore` needs a built model before `fit`; build it on one batch."""
    if not model.built:
        model(x[:1] if isinstance(x, np.ndarray) else next(iter(x))[0][:1], training=False)
