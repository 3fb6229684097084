"""Tests for trainers/cifar.py as a user runs it: flagfiles, errors, and kill -9 then resume."""

import csv
import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from absl import flags

from lit_tf.experiments.cifar_config import ExperimentConfig
from lit_tf.training import optimizers
from tests import test_case
from trainers import cifar
from trainers import entry

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["--mode=scratch", "--dataset=digits", "--student_arch=resnet8", "--lit_epochs=3",
        "--finetune_epochs=1", "--batch_size=128", "--export=false"]


def _trainer(*args, **popen):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.Popen([sys.executable, "-m", "trainers.cifar", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


CIFAR_FLAGFILES = sorted(f for f in glob.glob(os.path.join(ROOT, "trainers", "configs", "*.flags"))
                         if not os.path.basename(f).startswith("stargan_"))


@pytest.mark.parametrize("flagfile", [
    pytest.param(f, marks=test_case.needs_shared(*test_case.shared_paths(f))) for f in CIFAR_FLAGFILES])
def test_every_flagfile_parses_into_a_valid_configuration(flagfile):
    try:
        flags.FLAGS(["cifar", f"--flagfile={flagfile}", "--workdir=/tmp/unused"])
        config = cifar.config_from_flags()
    finally:
        flags.FLAGS.unparse_flags()
    assert config.mode == "all" and config.lit_epochs > 0 and config.finetune_epochs > 0
    if "resnet110" in flagfile or "resnext110" in flagfile:  # the reference's hyper-parameters
        assert (config.batch_size, config.lit_learning_rate, config.lit_milestones, config.finetune_milestones,
                config.beta, config.temperature, config.alpha) == (32, 0.1, (100,), (55,), 0.75, 6.0, 0.95)
        assert (config.lit_epochs, config.finetune_epochs) == (175, 125)


def test_without_flags_the_configuration_is_the_configs_own_defaults():
    try:
        flags.FLAGS(["cifar", "--workdir=/tmp/unused"])
        config = cifar.config_from_flags()
    finally:
        flags.FLAGS.unparse_flags()
    assert config == ExperimentConfig()  # every default written once, in the config


@pytest.mark.parametrize("dataset, normalization", [("image_folder", "imagenet"), ("cifar10", "cifar")])
def test_without_normalization_flag_image_folders_get_imagenets_statistics_and_cifar_its_own(dataset, normalization,
                                                                                              tmp_path):
    try:
        flags.FLAGS(["cifar", f"--dataset={dataset}", f"--image_dir={tmp_path}", "--workdir=/tmp/unused"])
        config = cifar.config_from_flags()
    finally:
        flags.FLAGS.unparse_flags()
    assert config.normalization == normalization


REFERENCE_FLAGFILES = [f for f in CIFAR_FLAGFILES if "110_to_" in f]


@pytest.mark.parametrize("flagfile", REFERENCE_FLAGFILES)
def test_reference_flagfiles_give_the_reference_arithmetic_and_per_epoch_rates(flagfile):
    try:
        flags.FLAGS(["cifar", f"--flagfile={flagfile}", "--workdir=/tmp/unused"])
        config = cifar.config_from_flags()
    finally:
        flags.FLAGS.unparse_flags()
    assert (config.optimizer, config.normalization, config.crop_padding, config.finetune_stem_and_head,
            config.section_bn_updates) == ("torch_sgd", "imagenet", "zeros", False, "both_passes")
    # lit-code's scheduler.step() before each epoch: 99 epochs at 0.1, then 76; 54 at 0.01, then 71.
    for stage, counts in ((config.lit_schedule, [(0.1, 99), (0.01, 76)]),
                          (config.finetune_schedule, [(0.01, 54), (0.001, 71)])):
        schedule = optimizers.piecewise_schedule(stage.learning_rate, stage.milestones, convention=stage.convention)
        rates = [round(schedule(epoch), 6) for epoch in range(stage.epochs)]
        assert [(rate, rates.count(rate)) for rate in sorted(set(rates), reverse=True)] == counts


def _history_epochs(path):
    with open(path, newline="") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


@pytest.mark.slow  # two trainer processes; in-process resume: tests/training/test_stage.py
def test_killed_with_sigkill_mid_epoch_it_resumes_and_finishes(tmp_path):
    history = tmp_path / "scratch_stage1" / "history.csv"
    first = _trainer(*TINY, f"--workdir={tmp_path}")
    deadline = time.time() + 240
    while not (history.exists() and len(_history_epochs(history)) >= 1):  # epoch 1 done and backed up
        assert first.poll() is None and time.time() < deadline, first.communicate()[1][-2000:]
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)  # now somewhere in epoch 2
    first.communicate()
    assert not (tmp_path / "result.json").exists()

    second = _trainer(*TINY, f"--workdir={tmp_path}")
    stdout, stderr = second.communicate(timeout=300)
    assert second.returncode == 0, stderr[-3000:]
    assert "[scratch_stage1] epoch 1/3" not in stdout  # not trained again
    assert "[scratch_stage1] epoch 3/3" in stdout and "[scratch_stage2] epoch 1/1" in stdout
    assert _history_epochs(history)[0] == 0 and _history_epochs(history).count(0) == 1
    assert sorted(set(_history_epochs(history))) == [0, 1, 2]
    result = json.loads((tmp_path / "result.json").read_text())
    assert set(result) == {"mode", "dataset", "students", "student", "epochs", "wall_seconds", "training_seconds"}
    with open(tmp_path / "scratch_stage1" / "epoch_seconds.csv", newline="") as f:
        timed = [int(row["epoch"]) for row in csv.DictReader(f)]
    assert timed[0] == 0 and {1, 2} <= set(timed)  # epoch 0 timed by the killed process, the rest by the second
    # scratch trains no teacher
    assert result["epochs"] == {"teacher": 0, "teacher_adaptation": 0, "stage1": 3, "stage2": 1}


def test_help_exits_0_and_shows_the_flagfile_the_required_workdir_and_a_correct_example(capsys):
    assert entry.main(cifar.COMMAND, ["cifar", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--flagfile: read flags from FILE" in out and "--workdir: Required." in out and "--teacher_weights" in out
    assert out.count("--workdir:") == 1 and "__main__:" not in out and "trainers.cifar:" not in out
    assert "resnet110_to_resnet20.flags \\\n        --workdir=" in out  # the continuation survives
    assert "quickstart.flags --workdir=" in out


def test_without_a_workdir_the_trainer_says_so_in_one_line(capsys):
    try:
        assert entry.main(cifar.COMMAND, ["cifar", "--mode=scratch"]) == 1
    finally:
        flags.FLAGS.unparse_flags()
    assert capsys.readouterr().err == "error: --workdir is required: the folder for this run's checkpoints, logs " \
                                      "and results.\n"


@pytest.mark.parametrize("args, line", [
    (["--workdir=W", "--mode=distil"], "error: flag --mode=distil: value should be one of <teacher|lit|kd|"),
    (["--workdir=W", "--teacher_weights=/nowhere/t.keras", "--mode=kd"],
     "error: --teacher_weights='/nowhere/t.keras' does not exist."),
    (["--workdir=W", "--dataset=image_folder", "--image_dir=/nowhere"],
     "error: --image_dir='/nowhere' is not a folder."),
    (["--workdir=W", "--flagfile=cifar10_subset", "--cifar_dir=/nowhere"],
     "error: --cifar_dir='/nowhere' is not a folder."),
])
def test_bad_flags_and_paths_are_one_line_before_tensorflow_starts(args, line, tmp_path):
    """In a fresh process: the error comes before TensorFlow is imported (within about 2 s here, 8 s before)."""
    code = ("import sys; from trainers import cifar, entry; status = entry.main(cifar.COMMAND, sys.argv); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; sys.exit(status)")
    args = [a.replace("W", str(tmp_path / "run"), 1) if a.startswith("--workdir") else a for a in args]
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr.startswith(line) and len(done.stderr.splitlines()) == 1, done.stderr
    assert not (tmp_path / "run").exists()


def test_ctrl_c_and_sigterm_end_with_one_line_naming_the_epochs_and_the_resume_command(capsys, tmp_path):
    from absl import flags as absl_flags

    values = absl_flags.FlagValues()
    absl_flags.DEFINE_string("workdir", None, "", flag_values=values)
    stage = tmp_path / "lit"
    stage.mkdir()
    (stage / "epoch_seconds.csv").write_text("epoch,seconds\n0,1.5\n1,1.5\n")

    def stopped_by(signal_exception):
        def execute(config, flag_values):
            raise signal_exception()
        return entry.Command("lit-demo", "trainers.demo", "", values, lambda v: None, execute,
                             progress=lambda config, v: (2, 10))

    argv = ["/venv/bin/lit-demo", f"--workdir={tmp_path}"]
    assert entry.main(stopped_by(KeyboardInterrupt), argv) == 130
    assert entry.main(stopped_by(entry.Stopped), ["/src/trainers/demo.py", f"--workdir={tmp_path}"]) == 143
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"[lit_tf] stopped after 2 of 10 epochs; the workdir keeps every finished epoch. Resume with: lit-demo "
        f"--workdir={tmp_path}",
        f"[lit_tf] stopped after 2 of 10 epochs; the workdir keeps every finished epoch. Resume with: python -m "
        f"trainers.demo --workdir={tmp_path}"]


@pytest.mark.slow  # two trainer processes
def test_a_run_stopped_by_sigint_resumes_quietly_and_sigterm_exits_143(tmp_path):
    args = [*TINY, "--lit_epochs=30", f"--workdir={tmp_path}"]
    history = tmp_path / "scratch_stage1" / "history.csv"
    for sent, status in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        before = len(_history_epochs(history)) if history.exists() else 0
        run = _trainer(*args)
        deadline = time.time() + 240
        while not (history.exists() and len(_history_epochs(history)) >= before + 1):  # an epoch more
            assert run.poll() is None and time.time() < deadline, run.communicate()[1][-2000:]
            time.sleep(0.2)
        run.send_signal(sent)
        stdout, stderr = run.communicate(timeout=120)
        assert run.returncode == status, stderr[-2000:]
        assert stderr.splitlines()[-1].startswith("[lit_tf] stopped after ") and "Traceback" not in stderr
        assert f"Resume with: python -m trainers.cifar {' '.join(args)}" in stderr
        assert "Skipping variable loading" not in stdout + stderr  # the resumed run restores its optimizer quietly
