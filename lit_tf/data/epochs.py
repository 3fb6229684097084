"""The epoch a run is in, so a training dataset's order follows the run, not the process.

`tf.data`'s `shuffle(..., reshuffle_each_iteration=True)` orders epoch k by how many times *this
process* has iterated the dataset, so a run killed in epoch 3 and resumed sees epoch 0's order
again and ends elsewhere than the run that never stopped. lit_tf's training datasets draw their
order and augmentation from `(seed, epoch)` instead, and read the epoch here when an epoch's
iteration starts:

- `lit_tf.training.fit_stage` sets it at the start of every epoch (`FollowEpochs`), so a resumed
  stage sees exactly the batches the uninterrupted one would;
- anywhere else (your own `fit`, a loop over the dataset) each new iteration takes the next
  epoch, so the data still reshuffles on every pass.

The epoch is one number for the process: one `fit` at a time follows it.

Example:

>>> import tensorflow as tf
>>> from lit_tf.data import epochs
>>> epochs.set_epoch(4)
>>> dataset = epochs.epoch_dataset()
>>> [int(e) for e in dataset], [int(e) for e in dataset]  # each iteration takes the next epoch
([4], [5])
>>> epochs.FollowEpochs().on_epoch_begin(2)
>>> int(next(iter(dataset)))
2
"""

import threading

import keras
import tensorflow as tf

_lock = threading.Lock()
_next_epoch = 0


def set_epoch(epoch):
    """The next iteration of a training dataset is epoch `epoch` (0-based)."""
    global _next_epoch
    with _lock:
        _next_epoch = int(epoch)


def take_epoch():
    """Returns the epoch an iteration starting now is, and moves on to the next."""
    global _next_epoch
    with _lock:
        epoch, _next_epoch = _next_epoch, _next_epoch + 1
    return epoch


def epoch_dataset():
    """A dataset of one int64 scalar: the epoch, read when an iteration of it starts."""

    def read(_):
        epoch = tf.py_function(lambda: tf.constant(take_epoch(), tf.int64), [], tf.int64)
        return tf.ensure_shape(epoch, [])

    return tf.data.Dataset.from_tensors(0).map(read)


class FollowEpochs(keras.callbacks.Callback):
    """Sets the epoch at the start of each of `fit`'s epochs (resumed ones included)."""

    def on_epoch_begin(self, epoch, logs=None):
        set_epoch(epoch)
