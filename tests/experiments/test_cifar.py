"""Tests for lit_tf.experiments.cifar: a whole run on bundled digits, and every bad input refused up front."""

import dataclasses
import json
import os
import pickle

import numpy as np
import pytest

from lit_tf import models
from lit_tf import students
from lit_tf.experiments import cifar as experiment
from lit_tf.experiments import workdir as workdirs
from lit_tf.experiments.cifar_config import ExperimentConfig

TINY = dict(dataset="digits", teacher_arch="resnet8", student_arch="resnet8", teacher_epochs=1,
            lit_epochs=1, finetune_epochs=1, batch_size=256)


@pytest.fixture(scope="module")
def all_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("all"))
    config = ExperimentConfig(mode="all", **TINY)
    return config, workdir, experiment.run(config, workdir)


@pytest.mark.slow  # nine training stages: 2 to 4 minutes
def test_mode_all_trains_every_row_and_writes_result_models_logs_and_export(all_run):
    _, workdir, result = all_run
    assert json.loads(open(os.path.join(workdir, "result.json")).read()) == result
    assert sorted(result["students"]) == ["fitnets", "kd", "lit", "scratch"]
    assert result["student"] == result["students"]["lit"]
    for summary in [result["teacher"], *result["students"].values()]:
        assert set(summary) == {"arch", "accuracy", "params", "flops"} and 0 <= summary["accuracy"] <= 1
    assert result["epochs"] == {"teacher": 1, "teacher_adaptation": 0, "stage1": 1, "stage2": 1}
    stages = ["teacher", "lit", "finetune", "kd_stage1", "kd_stage2", "fitnets_hints", "fitnets_kd",
              "scratch_stage1", "scratch_stage2"]
    for stage in stages:
        assert os.path.exists(os.path.join(workdir, stage, "done.weights.h5")), stage
        assert os.listdir(os.path.join(workdir, stage, "logs")), stage
    lit_history = open(os.path.join(workdir, "lit", "history.csv")).readline()
    assert all(f"ir_loss_{k}" in lit_history for k in (1, 2, 3))  # per-section IR losses are logged
    assert sorted(os.listdir(os.path.join(workdir, "models"))) == [
        "fitnets.keras", "kd.keras", "lit.keras", "scratch.keras", "teacher.keras"]
    assert result["export"]["student.tflite"]["max_abs_diff"] < 1e-4
    assert os.path.isdir(os.path.join(workdir, "export", "student_savedmodel"))


@pytest.mark.slow  # needs the nine-stage run above
def test_a_finished_run_started_again_reports_the_same_result(all_run):
    config, workdir, result = all_run
    again = experiment.run(config, workdir)
    for name in ("teacher", "students", "epochs", "mode"):
        assert again[name] == result[name], name


def test_a_saved_teacher_is_loaded_once_and_a_finished_run_started_again_says_so(tmp_path, monkeypatch, capsys):
    teacher_path = str(tmp_path / "teacher.keras")
    models.get("resnet8").save(teacher_path)  # untrained will do: only where the teacher comes from is tested
    config = ExperimentConfig(mode="teacher", teacher_weights=teacher_path, export=False, **TINY)
    loads, load = [], experiment._load_teacher
    monkeypatch.setattr(experiment, "_load_teacher", lambda *args: loads.append(args) or load(*args))
    workdir = str(tmp_path / "run")
    first = experiment.run(config, workdir)
    assert len(loads) == 1
    assert first["teacher"]["params"] == 75_770 and first["epochs"]["teacher"] == 0
    assert first["training_seconds"] == 0.0  # nothing trained
    assert not os.path.exists(tmp_path / "run" / "teacher") and first["students"] == {}

    written = open(os.path.join(workdir, "result.json")).read()
    capsys.readouterr()
    assert experiment.run(config, workdir) == first
    out = capsys.readouterr().out
    assert out == f"[lit_tf] {workdir} holds this run, finished: result.json is left as it is (delete it to " \
                  "evaluate and export again).\n"
    assert open(os.path.join(workdir, "result.json")).read() == written


def _refused(tmp_path, error, match, **changes):
    workdir = tmp_path / "run"
    with pytest.raises(error, match=match):
        experiment.run(ExperimentConfig(**dict(TINY, mode="lit", train_teacher=True, **changes)),
                       str(workdir))
    assert not workdir.exists()  # nothing claimed, nothing half-written


def test_unknown_architecture(tmp_path):
    _refused(tmp_path, ValueError, "Unknown architecture 'vgg16'", student_arch="vgg16")


def test_student_whose_sections_do_not_fit_the_teacher(tmp_path):
    _refused(tmp_path, ValueError,
             "The stem ends in shape \\(32, 32, 16\\) in the teacher but \\(32, 32, 64\\) in the student",
             student_arch="resnext11")


def test_missing_cifar_dir(tmp_path):
    _refused(tmp_path, FileNotFoundError, "cifar_dir='.*nowhere' is not a folder",
             dataset="cifar10", cifar_dir=str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    _refused(tmp_path, FileNotFoundError, "No CIFAR-10 python archive in cifar_dir=.*Extract cifar-10-python.tar.gz",
             dataset="cifar10", cifar_dir=str(tmp_path / "empty"))


def test_corrupt_batch_file(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    batch = {b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 2, 3]}
    for name in ("data_batch_1", "test_batch"):
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "data_batch_2").write_bytes(b"\x80\x04truncated")
    _refused(tmp_path, ValueError, "data_batch_2 is not a CIFAR-10 python-archive batch.*Re-extract",
             dataset="cifar10", cifar_dir=str(folder))


def test_workdir_of_another_configuration(tmp_path):
    workdir = tmp_path / "run"
    workdir.mkdir()
    (workdir / "config.json").write_text(json.dumps({"mode": "all"}))
    with pytest.raises(ValueError, match="holds a run with another configuration .*Use a new --workdir"):
        experiment.run(ExperimentConfig(**dict(TINY, mode="scratch")), str(workdir))
    assert os.listdir(workdir) == ["config.json"]


@pytest.mark.parametrize("changes, match", [
    (dict(batch_size=0), "batch_size must be > 0. Received: batch_size=0"),
    (dict(mode="distill"), "mode must be one of .*Received: mode='distill'"),
    (dict(mode="lit"), "mode='lit' distils from a trained teacher, and none was given. Pass teacher_weights=PATH"),
    (dict(dataset="imagenet"), "dataset must be one of"),
    (dict(quantize="int4"), "quantize must be one of"),
    (dict(normalization="torch"), "normalization must be one of"),
    (dict(crop_padding="edge"), "crop_padding must be one of"),
    (dict(optimizer="adam"), "optimizer must be one of"),
    (dict(schedule="pytorch"), "schedule must be one of"),
    (dict(adapt_epochs=2), "adapt_epochs=2 fine-tunes a given teacher: pass teacher_weights=PATH, or train one "
                           "with teacher_epochs=N"),
    (dict(adapt_epochs=-1), "adapt_epochs must be >= 0"),
    (dict(student_init="warm"), "student_init must be one of \\('random', 'teacher_blocks'\\)"),
    (dict(student_blocks=(0, 1)), "student_blocks picks the teacher's blocks .* needs student_init='teacher_blocks'"),
    (dict(target_params=0.5), "target_params cuts the student out of the teacher: it needs student_init='teacher_"),
    (dict(student_choose="importance"), "student_choose picks the teacher's blocks .* needs student_init="),
    (dict(student_init="teacher_blocks", target_params=0.5, target_flops=0.5, teacher_weights=None, mode="all"),
     "Give one target"),
    (dict(student_init="teacher_blocks", target_params=0.5, student_blocks=(0,), mode="all"),
     "Give one target .* not with student_blocks or student_choose"),
    (dict(mode="scratch", student_init="teacher_blocks"),
     "mode='scratch' with student_init='teacher_blocks' starts from a trained teacher, and none was given"),
])
def test_bad_configurations_are_refused_before_any_work(changes, match):
    with pytest.raises(ValueError, match=match) as refused:
        ExperimentConfig(**dict(TINY, **changes))
    assert "--" not in str(refused.value)  # a Python caller's words; the trainer prints flags


@pytest.mark.slow  # a whole experiment; the pieces have fast tests
def test_teacher_blocks_start_every_student_from_the_kept_blocks_and_report_the_start(tmp_path):
    from lit_tf import students
    from lit_tf.data import digits
    from lit_tf.experiments import reporting

    teacher_path = str(tmp_path / "teacher.keras")
    keras_teacher = models.get("resnet20")
    keras_teacher.save(teacher_path)
    config = ExperimentConfig(**dict(
        TINY, mode="scratch", teacher_arch="resnet20", student_arch="resnet14", teacher_weights=teacher_path,
        student_init="teacher_blocks", student_blocks=(0, 1), export=False))
    result = experiment.run(config, str(tmp_path / "run"))
    start = students.shallower(keras_teacher, keep=[[0, 1]] * 3)  # not the default spread, blocks 0 and 2
    assert result["student_start"].pop("kept_blocks") == [[0, 1]] * 3
    assert result["student_start"] == reporting.model_summary(start, digits.provide_dataset("test", 256), "resnet14")
    assert result["students"]["scratch"]["params"] == result["student_start"]["params"] == 173_434
    with pytest.raises(ValueError, match=r"student_blocks keeps 1 blocks a section, but resnet14 has \[2, 2, 2\]"):
        experiment.run(dataclasses.replace(config, student_blocks=(0,)), str(tmp_path / "other"))
    assert not (tmp_path / "other").exists()


@pytest.mark.slow  # a whole experiment; the pieces have fast tests
def test_a_target_decides_the_kept_blocks_prints_the_plan_and_an_unreachable_one_writes_nothing(tmp_path, capsys):
    teacher_path = str(tmp_path / "teacher.keras")
    models.get("resnet20").save(teacher_path)
    config = ExperimentConfig(**dict(
        TINY, mode="scratch", teacher_arch="resnet20", teacher_weights=teacher_path, student_init="teacher_blocks",
        target_params=0.5, export=False))
    result = experiment.run(config, str(tmp_path / "run"))
    assert "[lit_tf] plan for target_params=0.5" in capsys.readouterr().out
    kept = result["student_start"]["kept_blocks"]
    assert result["students"]["scratch"]["params"] == students.shallower(models.get("resnet20"), kept).count_params()
    assert result["students"]["scratch"]["params"] <= 0.5 * models.get("resnet20").count_params()
    with pytest.raises(ValueError, match=r"target_params=0.01 cannot be met: .* Ask for target_params >= 0\.\d+"):
        experiment.run(dataclasses.replace(config, target_params=0.01), str(tmp_path / "other"))
    assert not (tmp_path / "other").exists()


@pytest.mark.slow  # a whole experiment; the pieces have fast tests
def test_student_choose_importance_keeps_the_blocks_the_teacher_needs_most(tmp_path):
    teacher_path = str(tmp_path / "teacher.keras")
    models.get("resnet20").save(teacher_path)
    config = ExperimentConfig(**dict(
        TINY, mode="scratch", teacher_arch="resnet20", student_arch="resnet14", teacher_weights=teacher_path,
        student_init="teacher_blocks", student_choose="importance", export=False))
    result = experiment.run(config, str(tmp_path / "run"))
    kept = result["student_start"]["kept_blocks"]
    assert [len(section) for section in kept] == [2, 2, 2] and kept[1][0] == kept[2][0] == 0


def test_missing_teacher_weights_file():
    with pytest.raises(FileNotFoundError, match="teacher_weights='/nowhere/t.keras' does not exist"):
        ExperimentConfig(**dict(TINY, mode="kd", teacher_weights="/nowhere/t.keras"))


@pytest.mark.slow  # a whole experiment; the pieces have fast tests
def test_a_pytorch_teacher_is_adapted_on_an_image_folder_and_the_student_exports_on_pixels(tmp_path):
    from lit_tf import export
    from lit_tf.data import registry
    from tests.data.test_image_folder import make_folder

    root = make_folder(tmp_path / "images", size=32, per_class=6)
    teacher_path = str(tmp_path / "teacher.npz")
    np.savez(teacher_path, **models.torch_state_dict(models.CifarResNet(depth=8, num_classes=3)))
    config = ExperimentConfig(
        mode="lit", dataset="image_folder", image_dir=root, teacher_arch="resnet8", student_arch="resnet8",
        teacher_weights=teacher_path, adapt_epochs=1, lit_epochs=1, finetune_epochs=1, batch_size=6,
        validation_fraction=0.25, normalization="imagenet")
    workdir = str(tmp_path / "run")
    result = experiment.run(config, workdir)
    assert 0 <= result["teacher"]["accuracy_before_adaptation"] <= 1 and result["epochs"]["teacher_adaptation"] == 1
    assert os.path.exists(os.path.join(workdir, "teacher_adapt", "done.weights.h5"))
    assert result["training_seconds"] == workdirs.training_seconds(workdir) > 0  # adaptation, LIT and fine-tune
    # The exported student takes pixels in [0, 255]: the normalisation is inside it.
    student = models.get("resnet8", num_classes=3)
    student.load_weights(os.path.join(workdir, "finetune", "done.weights.h5"))
    pixels = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    mean, std = registry.normalization_stats("image_folder", "imagenet")
    expected = student((pixels - np.array(mean, "float32")) / np.array(std, "float32"), training=False)
    np.testing.assert_allclose(export.run_tflite(os.path.join(workdir, "export", "student.tflite"), pixels),
                               expected, atol=1e-4)


def test_teacher_weights_of_another_architecture_are_one_line_and_nothing_is_written(tmp_path):
    path = str(tmp_path / "resnet14.weights.h5")
    models.get("resnet14").save_weights(path)
    config = ExperimentConfig(**dict(TINY, mode="kd", teacher_arch="resnet20", teacher_weights=path))
    with pytest.raises(ValueError) as error:
        experiment.run(config, str(tmp_path / "run"))
    message = str(error.value)
    assert message.startswith(f"teacher_weights={path!r} does not fit teacher_arch='resnet20' (A total of 25 "
                              "objects could not be loaded): pass")  # whole words, never cut mid-sentence
    assert "\n" not in message and "pass the teacher_arch those weights were saved from" in message
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("dataset, resolved", [("image_folder", "imagenet"), ("cifar10", "cifar"), ("digits", "cifar")])
def test_the_default_normalization_is_imagenets_for_image_folders_and_cifars_for_cifar(dataset, resolved, tmp_path):
    config = ExperimentConfig(**dict(TINY, dataset=dataset, image_dir=str(tmp_path)))
    assert config.normalization == resolved  # recorded resolved in the workdir's config.json
    changed = ExperimentConfig(**dict(TINY, dataset=dataset, image_dir=str(tmp_path), normalization="cifar"))
    assert changed.normalization == "cifar"
