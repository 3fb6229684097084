"""Tests for lit_tf.training: resumable stages, best-epoch selection, progress lines."""

import csv
import os

import keras
import numpy as np
import pytest

from lit_tf import training
from lit_tf.experiments import workdir
from lit_tf.training import progress


def _model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    return x, np.argmax(x[:, :3], axis=1)


class _EpochsSeen(keras.callbacks.Callback):
    def __init__(self, stop_before=None):
        super().__init__()
        self.epochs, self.stop_before = [], stop_before

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.stop_before:
            raise KeyboardInterrupt("killed")  # as a crash: nothing of this epoch is saved
        self.epochs.append(epoch)


def test_killed_stage_resumes_from_its_last_completed_epoch_and_both_processes_epochs_are_timed(tmp_path):
    data, folder = _data(), str(tmp_path)
    fit = dict(epochs=4, learning_rate=0.1, stage="demo", checkpoint_dir=folder, batch_size=8, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        training.fit_stage(_model(), data, data, callbacks=[_EpochsSeen(stop_before=2)], **fit)
    assert not training.is_done(folder, "demo")

    seen = _EpochsSeen()
    history = training.fit_stage(_model(), data, data, callbacks=[seen], **fit)
    assert seen.epochs == [2, 3]  # epochs 0 and 1 came back from the backup
    assert history.epoch == [0, 1, 2, 3] and len(history.history["val_accuracy"]) == 4
    assert training.is_done(folder, "demo")
    assert os.listdir(os.path.join(folder, "demo", "logs"))  # TensorBoard event files
    assert not os.path.exists(os.path.join(folder, "demo", "backup"))
    with open(os.path.join(folder, "demo", workdir.EPOCH_SECONDS_FILE), newline="") as f:
        timed = [(int(row["epoch"]), float(row["seconds"])) for row in csv.DictReader(f)]
    assert [epoch for epoch, _ in timed] == [0, 1, 2, 3]  # 0 and 1 by the killed process, 2 and 3 after
    assert workdir.training_seconds(folder) == round(sum(seconds for _, seconds in timed), 1) > 0


def test_after_a_resumed_stage_the_same_model_trains_every_epoch_of_the_next(tmp_path):
    # Keras' BackupAndRestore leaves the resumed epoch on the model; the next stage must not start there.
    data, folder = _data(), str(tmp_path)
    fit = dict(learning_rate=0.1, checkpoint_dir=folder, batch_size=8, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        training.fit_stage(_model(), data, data, epochs=3, stage="first", callbacks=[_EpochsSeen(stop_before=2)],
                           **fit)
    model = _model()  # as a new process builds it
    resumed, following, after = _EpochsSeen(), _EpochsSeen(), _EpochsSeen()
    training.fit_stage(model, data, data, epochs=3, stage="first", callbacks=[resumed], **fit)
    training.fit_stage(model, data, data, epochs=2, stage="second", callbacks=[following], **fit)
    model.fit(*data, epochs=1, callbacks=[after], verbose=0)
    assert (resumed.epochs, following.epochs, after.epochs) == ([2], [0, 1], [0])


@pytest.mark.parametrize("damaged", ["backup/latest.weights.h5", "best/best.json"])
def test_a_damaged_checkpoint_is_one_clear_error_naming_it_and_nothing_trains(tmp_path, damaged):
    data, folder = _data(), str(tmp_path)
    fit = dict(epochs=4, learning_rate=0.1, stage="demo", checkpoint_dir=folder, batch_size=8, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        training.fit_stage(_model(), data, data, callbacks=[_EpochsSeen(stop_before=2)], **fit)
    path = os.path.join(folder, "demo", damaged)
    with open(path, "rb") as f:
        content = f.read()
    with open(path, "wb") as f:  # cut short, as a full disk or an interrupted copy leaves it
        f.write(content[: len(content) // 2])
    seen = _EpochsSeen()
    with pytest.raises(ValueError, match=f"{path} is damaged .*Delete the folder {os.path.join(folder, 'demo')} to "
                                         "train the stage again from its start, or run in a new workdir"):
        training.fit_stage(_model(), data, data, callbacks=[seen], **fit)
    assert seen.epochs == []


def test_a_finished_stage_reloads_its_weights_instead_of_training(tmp_path):
    data, folder = _data(), str(tmp_path)
    fit = dict(epochs=2, learning_rate=0.1, stage="demo", checkpoint_dir=folder, batch_size=8, verbose=0)
    trained = _model()
    first = training.fit_stage(trained, data, data, **fit)
    again, seen = _model(), _EpochsSeen()
    second = training.fit_stage(again, data, data, callbacks=[seen], **fit)
    assert seen.epochs == []
    assert second.history["val_loss"] == pytest.approx(first.history["val_loss"])
    for a, b in zip(trained.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_epoch_line_names_stage_epoch_losses_and_eta(capsys):
    line = progress.EpochLine("lit", epochs=3)
    line.on_epoch_begin(0)
    line.on_epoch_end(0, {"loss": 0.5, "ir_loss_1": 0.25, "val_accuracy": 0.75, "val_ir_loss_1": 9.0})
    printed = capsys.readouterr().out
    assert printed.startswith("[lit] epoch 1/3 loss 0.5 ir_loss_1 0.25 val_accuracy 0.75 |")
    assert "val_ir_loss_1" not in printed and "s/epoch, ETA" in printed


def test_inside_a_long_epoch_a_progress_line_gives_images_per_second_and_the_epoch_eta(capsys, monkeypatch):
    clock = iter([100.0, 100.0, 130.0, 170.0, 200.0])
    monkeypatch.setattr(progress.time, "time", lambda: next(clock))
    line = progress.EpochLine("kd", epochs=2, batch_size=32, interval=60.0)
    line.set_params({"steps": 100})
    line.on_epoch_begin(0)            # t = 100
    line.on_train_batch_end(9)        # t = 130: under a minute since the epoch began, no line
    line.on_train_batch_end(19)       # t = 170: 20 steps in 70 s
    assert capsys.readouterr().out == "[kd] epoch 1/2 step 20/100 | 9 images/s, epoch ETA 280 s\n"
    line.on_train_batch_end(29)       # t = 200: 30 s since the last line, no line
    assert capsys.readouterr().out == ""


class _TestAccuracySeen(keras.callbacks.Callback):
    """What a selecting callback would see: the logged keys, and the model's accuracy each epoch."""

    def __init__(self, data):
        super().__init__()
        self.data, self.keys, self.accuracies = data, set(), []

    def on_epoch_end(self, epoch, logs=None):
        self.keys.update(logs or {})
        logits = self.model(self.data[0], training=False)
        self.accuracies.append(float(np.mean(np.argmax(logits, -1) == self.data[1])))


def test_report_data_records_each_epochs_test_accuracy_apart_from_the_selecting_metrics(tmp_path):
    import tensorflow as tf

    train, folder = _data(), str(tmp_path)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(24, 4)).astype("float32")
    test = (x, np.argmax(x[:, :3], axis=1))
    seen = _TestAccuracySeen(test)
    training.fit_stage(_model(), train, train, epochs=3, learning_rate=0.1, stage="demo", checkpoint_dir=folder,
                       batch_size=8, verbose=0, callbacks=[seen], keep_best=False,
                       report_data=tf.data.Dataset.from_tensor_slices(test).batch(10))
    curve = workdir.read_curve(os.path.join(folder, "demo"))
    assert [epoch for epoch, _, _ in curve] == [0, 1, 2]
    assert [value for _, _, value in curve] == pytest.approx(seen.accuracies, abs=1e-4)
    assert all(seconds > 0 for _, seconds, _ in curve)
    assert not any("test" in key for key in seen.keys)  # nothing that picks an epoch can see it
    with open(os.path.join(folder, "demo", "history.csv")) as f:
        assert not any("test" in column for column in next(csv.reader(f)))


def test_report_data_without_a_checkpoint_dir_is_refused_before_training():
    model = _model()
    with pytest.raises(ValueError, match="pass checkpoint_dir"):
        training.fit_stage(model, _data(), epochs=1, learning_rate=0.1, stage="demo", report_data=_data(),
                           verbose=0)
    assert not model.optimizer.iterations.numpy()


class _PoisonAt(keras.callbacks.Callback):
    """Makes the weights NaN before one step, as a diverging run would; counts the steps run."""

    def __init__(self, epoch, step):
        super().__init__()
        self.at, self.steps, self._epoch = (epoch, step), 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self.steps += 1
        if (self._epoch, batch) == self.at:
            kernel = self.model.layers[0].kernel
            kernel.assign(np.full(kernel.shape, np.nan, "float32"))


def test_a_nan_stops_the_stage_at_its_step_and_the_workdir_keeps_the_last_good_epoch(tmp_path):
    data, folder = _data(), str(tmp_path)  # 32 samples, batch 8: 4 steps an epoch
    poison = _PoisonAt(epoch=1, step=1)
    fit = dict(epochs=3, learning_rate=0.1, stage="demo", checkpoint_dir=folder, batch_size=8, verbose=0)
    with pytest.raises(FloatingPointError, match=r"The 'demo' stage loss became nan in epoch 2, step 2\. .*"
                                                 r"keeps the last completed epoch"):
        training.fit_stage(_model(), data, data, callbacks=[poison], **fit)
    assert poison.steps == 4 + 2  # stopped at the bad step, not at the end of its epoch
    seen = _EpochsSeen()
    history = training.fit_stage(_model(), data, data, callbacks=[seen], **fit)
    assert seen.epochs == [1, 2] and history.epoch == [0, 1, 2]  # resumed after the last good epoch
    assert all(np.isfinite(history.history["loss"]))
