"""Tests for lit_tf.experiments.workdir: one configuration per run folder."""

import json
import os

import keras
import pytest

from lit_tf.experiments import workdir


def test_a_new_folder_is_claimed_and_the_same_config_resumes(tmp_path):
    folder = tmp_path / "run"
    workdir.claim(str(folder), {"lr": 0.1, "milestones": (10, 20)})
    assert json.loads((folder / "config.json").read_text()) == {"lr": 0.1, "milestones": [10, 20]}
    workdir.claim(str(folder), {"lr": 0.1, "milestones": (10, 20)})  # tuples equal their JSON lists


def test_another_config_is_refused_naming_every_difference(tmp_path):
    workdir.claim(str(tmp_path), {"lr": 0.1, "mode": "all"})
    with pytest.raises(ValueError) as error:
        workdir.claim(str(tmp_path), {"lr": 0.2, "mode": "all", "seed": 1})
    assert str(error.value) == (
        f"Workdir {tmp_path} holds a run with another configuration (lr: 0.1 there, 0.2 now, "
        "seed: None there, 1 now). Use a new --workdir, or delete this one to start over."
    )


def test_a_folder_of_something_else_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty and holds no config.json.*notes.txt"):
        workdir.claim(str(tmp_path), {"lr": 0.1})
    assert not (tmp_path / "config.json").exists()


def test_a_very_different_config_names_three_differences_and_counts_the_rest(tmp_path):
    workdir.claim(str(tmp_path), {k: 0 for k in "abcde"})
    with pytest.raises(ValueError, match="\\(a: 0 there, 1 now, b: 0 there, 1 now, c: 0 there, 1 now, and 2 more\\)"):
        workdir.claim(str(tmp_path), {k: 1 for k in "abcde"})


def test_a_setting_added_since_a_run_began_compares_as_the_value_that_run_used(tmp_path):
    workdir.claim(str(tmp_path), {"lr": 0.1})
    workdir.claim(str(tmp_path), {"lr": 0.1, "bn": "both"}, assumed={"bn": "both"})
    with pytest.raises(ValueError, match="bn: 'both' there, 'one' now"):
        workdir.claim(str(tmp_path), {"lr": 0.1, "bn": "one"}, assumed={"bn": "both"})


def test_history_keeps_the_last_row_of_an_epoch_run_twice(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss\n0,3.0\n1,2.0\n1,1.5\n2,1.0\n")
    history = workdir.history_from_csv(str(path))
    assert history.epoch == [0, 1, 2] and history.history["loss"] == [3.0, 1.5, 1.0]
    assert workdir.history_from_csv(str(tmp_path / "missing.csv")).epoch == []


def test_json_and_weights_are_written_whole(tmp_path):
    workdir.write_json_atomically(str(tmp_path / "r.json"), {"a": 1})
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    workdir.save_weights_atomically(model, str(tmp_path / "m.weights.h5"))
    assert sorted(os.listdir(tmp_path)) == ["m.weights.h5", "r.json"]


