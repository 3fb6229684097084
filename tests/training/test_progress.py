"""Tests for lit_tf.training.progress.RunProgress: the run's ETA over stages, restarts included."""

import keras
import numpy as np

from lit_tf import training
from lit_tf.experiments import cifar as experiment
from lit_tf.experiments.cifar_config import ExperimentConfig
from lit_tf.training import progress


def _model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_the_run_eta_counts_every_stage_and_the_stages_finished_before_a_restart(tmp_path, capsys):
    x, y = np.random.rand(8, 4), np.random.randint(0, 3, 8)
    stage = dict(epochs=2, learning_rate=0.1, checkpoint_dir=str(tmp_path), batch_size=8, verbose=0)
    training.fit_stage(_model(), (x, y), stage="first", **stage)
    capsys.readouterr()

    run = progress.RunProgress(epochs=4)  # a restart: "first" is done, "second" runs
    training.fit_stage(_model(), (x, y), stage="first", callbacks=[run], **stage)
    training.fit_stage(_model(), (x, y), stage="second", callbacks=[run], **stage)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == ["[lit_tf] run: epoch 3/4 done", "[lit_tf] run: epoch 4/4 done"]
    assert lines[-1].endswith("ETA ~0 s") and run.timed == 2


def test_seconds_read_as_seconds_minutes_or_hours():
    assert [progress.seconds_text(s) for s in (42, 420, 12600)] == ["42 s", "7 min", "3.5 h"]


def test_a_run_plans_the_teachers_epochs_and_two_stages_a_student(tmp_path):
    config = ExperimentConfig(mode="all", teacher_epochs=3, lit_epochs=2, finetune_epochs=1)
    assert experiment.planned_epochs(config) == 3 + 4 * (2 + 1)
    weights = tmp_path / "teacher.keras"
    weights.write_bytes(b"")
    adapted = ExperimentConfig(mode="lit", teacher_weights=str(weights), adapt_epochs=1, lit_epochs=2,
                                          finetune_epochs=1)
    assert experiment.planned_epochs(adapted) == 1 + 2 + 1


def test_the_run_line_follows_the_epoch_line(capsys):
    x, y = np.random.rand(8, 4), np.random.randint(0, 3, 8)
    training.fit_stage(_model(), (x, y), epochs=1, learning_rate=0.1, stage="only", batch_size=8, verbose="lines",
                       callbacks=[progress.RunProgress(epochs=1)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[only] epoch 1/1 ") and lines[1].startswith("[lit_tf] run: epoch 1/1 done")
