"""Tests for lit_tf.training.callbacks: the NaN stop and the best epoch kept across restarts."""

import os

import keras
import numpy as np
import pytest

from lit_tf.training import callbacks


def _model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def test_keep_best_epoch_restores_the_best_weights_even_after_a_restart(tmp_path):
    model = _model()
    keeper = callbacks.KeepBestEpoch(model, str(tmp_path))
    keeper.set_model(model)  # as fit does
    keeper.on_train_begin()
    model.layers[0].kernel.assign(np.ones((4, 3)))
    keeper.on_epoch_end(0, {"val_accuracy": 0.9})
    model.layers[0].kernel.assign(np.zeros((4, 3)))
    keeper.on_epoch_end(1, {"val_accuracy": 0.5})

    restarted = callbacks.KeepBestEpoch(model, str(tmp_path))  # a new process after a crash
    restarted.set_model(model)
    restarted.on_train_begin()
    restarted.on_epoch_end(2, {"val_accuracy": 0.7})  # still worse than the epoch before the crash
    restarted.on_train_end()
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), np.ones((4, 3)))
    assert (restarted.best, restarted.best_epoch) == (0.9, 0)


def test_keep_best_epoch_saves_the_target_inside_the_fitted_model_and_cleans_its_temporary_folder():
    target = _model()
    outer = keras.Sequential([target])  # as a distiller holds the student
    outer.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    keeper = callbacks.KeepBestEpoch(target)
    snapshots = []
    log = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: snapshots.append((logs["val_accuracy"], target.get_weights())))
    x, y = np.random.default_rng(0).random((32, 4)), np.arange(32) % 3
    outer.fit(x, y, validation_data=(x, y), epochs=4, verbose=0, callbacks=[log, keeper])
    best = max(range(4), key=lambda i: (snapshots[i][0], -i))
    assert keeper.best_epoch == best
    for kept, now in zip(snapshots[best][1], target.get_weights()):
        np.testing.assert_array_equal(kept, now)
    assert not os.path.exists(keeper.folder)


def test_a_nan_loss_stops_with_one_clear_error():
    with pytest.raises(FloatingPointError, match="The 'lit' stage loss became nan in epoch 3\\. "):
        callbacks.RaiseOnNaN("lit").on_epoch_end(2, {"loss": float("nan")})
