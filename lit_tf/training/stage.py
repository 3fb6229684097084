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

import os
import shutil

import keras
import numpy as np

from lit_tf import _compat
from lit_tf import settings
from lit_tf.data.epochs import FollowEpochs
from lit_tf.experiments.workdir import EPOCH_SECONDS_FILE
from lit_tf.experiments.workdir import TEST_ACCURACY_FILE
from lit_tf.experiments.workdir import check_stage_files
from lit_tf.experiments.workdir import history_from_csv
from lit_tf.experiments.workdir import save_weights_atomically
from lit_tf.training.callbacks import EpochSeconds
from lit_tf.training.callbacks import KeepBestEpoch
from lit_tf.training.callbacks import RaiseOnNaN
from lit_tf.training.callbacks import StageBackup
from lit_tf.training.callbacks import TestAccuracyCurve
from lit_tf.training.optimizers import piecewise_schedule
from lit_tf.training.progress import EpochLine
from lit_tf.training.progress import RunProgress


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
    stage,
    schedule=None,
    epochs=None,
    learning_rate=None,
    milestones=(),
    target=None,
    keep_best=None,
    checkpoint_dir=None,
    callbacks=None,
    batch_size=None,
    steps_per_epoch=None,
    nan_monitors=("loss",),
    report_data=None,
    verbose="auto",
):
    """Fits a compiled `model` for one stage with a piecewise learning rate.

    Args:
        model: compiled `keras.Model` (a plain model or a distiller).
        train_data, val_data: `tf.data.Dataset` of `(x, y)` batches or `(x, y)` arrays.
        stage: str, names the stage in messages and under `checkpoint_dir`.
        schedule: `lit_tf.settings.Schedule`, the stage's epochs and learning rates;
            `learning_rate=None` in it leaves the optimizer's rate (or schedule) alone.
        epochs, learning_rate, milestones: instead of `schedule`, the same in short
            (`Schedule(epochs, learning_rate, milestones)`, drops at the milestones).
        target: `keras.Model` whose weights are the stage's result (the student
            inside a distiller); defaults to `model`.
        keep_best: bool; keep `target`'s best epoch by `val_accuracy`. Defaults to
            whether `val_data` is given.
        checkpoint_dir: str or `None`. When set: `BackupAndRestore` every epoch,
            the history in `<stage>/history.csv`, each epoch's wall time in
            `<stage>/epoch_seconds.csv`, TensorBoard logs in `<stage>/logs`, and a
            finished stage only reloads its weights.
        callbacks: extra callbacks. batch_size: for array inputs.
        steps_per_epoch: int or `None` (for an endless `train_data`).
        nan_monitors: logged losses that stop the stage when not finite.
        report_data: `tf.data.Dataset` of `(x, y)` batches or `None`. With it (and a
            `checkpoint_dir`), `target`'s accuracy on it after every epoch goes to
            `<stage>/test_accuracy.csv`: a learning curve, never used to choose an epoch.
        verbose: passed to `fit`, or "lines" for one `EpochLine` an epoch.

    Returns:
        `keras.callbacks.History` (every epoch of the stage, across restarts).
    """
    schedule = settings.stage_schedule(schedule, epochs, learning_rate, milestones)
    epochs = schedule.epochs
    target = target or model
    if report_data is not None and not checkpoint_dir:
        raise ValueError("report_data is recorded to <checkpoint_dir>/<stage>/test_accuracy.csv: pass "
                         "checkpoint_dir too, or leave report_data out.")
    keep_best = val_data is not None if keep_best is None else keep_best
    folder = os.path.join(checkpoint_dir, stage) if checkpoint_dir else None
    if folder:
        check_stage_files(folder)  # a damaged checkpoint is one clear error, not a traceback or a silent restart
    if folder and is_done(checkpoint_dir, stage):
        return _reload_finished(target, checkpoint_dir, stage, epochs, callbacks)
    line_batch = _batch_size(train_data, batch_size) if verbose == "lines" else None  # the epoch line's images/s
    callbacks, verbose = _stage_callbacks(stage, schedule, target, folder, callbacks, keep_best=keep_best,
                                          report_data=report_data, nan_monitors=nan_monitors, verbose=verbose,
                                          batch_size=line_batch)
    x, y = train_data if isinstance(train_data, tuple) else (train_data, None)
    _compat.let_fit_run_under_multi_worker(model)  # nothing for any other strategy
    _build_on_one_batch(model, x)
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


def _reload_finished(target, checkpoint_dir, stage, epochs, callbacks):
    """A finished stage: `target` gets its final weights, the run's progress skips its epochs; its history."""
    target.load_weights(_done_path(checkpoint_dir, stage))
    for callback in callbacks or []:
        if isinstance(callback, RunProgress):
            callback.skip(epochs)
    return history_from_csv(os.path.join(checkpoint_dir, stage, "history.csv"))


def _stage_callbacks(stage, schedule, target, folder, callbacks, *, keep_best, report_data, nan_monitors, verbose,
                     batch_size):
    """The stage's callbacks (rate, NaN stop, epoch order, its line, the caller's, best epoch, files) and
    `verbose` for `fit` ("lines" prints through `EpochLine`, so `fit` itself prints nothing)."""
    callbacks = [
        *([keras.callbacks.LearningRateScheduler(
            piecewise_schedule(schedule.learning_rate, schedule.milestones, convention=schedule.convention))]
          if schedule.learning_rate is not None else []),
        RaiseOnNaN(stage, nan_monitors),
        FollowEpochs(),  # the training data's order follows the epoch, resumed or not
        # The epoch's line first, then what the caller's callbacks print (the run's ETA).
        *([EpochLine(stage, schedule.epochs, batch_size=batch_size)] if verbose == "lines" else []),
        *(callbacks or []),
    ]
    if keep_best:
        callbacks.append(KeepBestEpoch(target, folder and os.path.join(folder, "best")))
    if folder:
        os.makedirs(folder, exist_ok=True)
        callbacks += [
            StageBackup(os.path.join(folder, "backup"), delete_checkpoint=False),
            keras.callbacks.CSVLogger(os.path.join(folder, "history.csv"), append=True),
            EpochSeconds(os.path.join(folder, EPOCH_SECONDS_FILE)),
            # After EpochSeconds: the curve's inference pass is not training time.
            *([TestAccuracyCurve(target, report_data, os.path.join(folder, TEST_ACCURACY_FILE))]
              if report_data is not None else []),
            keras.callbacks.TensorBoard(os.path.join(folder, "logs"), write_graph=False),
        ]
    return callbacks, 0 if verbose == "lines" else verbose


def _batch_size(train_data, batch_size):
    """Images a step: `batch_size` for arrays, the first batch's length for a dataset."""
    if batch_size or isinstance(train_data, tuple):
        return batch_size or 32  # Keras' default for arrays
    try:
        return int(next(iter(train_data))[0].shape[0])
    except (StopIteration, TypeError, IndexError):
        return None


def _build_on_one_batch(model, x):
    """`BackupAndRestore` needs a built model before `fit`; build it on one batch."""
    if not model.built:
        model(x[:1] if isinstance(x, np.ndarray) else next(iter(x))[0][:1], training=False)
