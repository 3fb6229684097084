"""Tests for lit_tf.quiet: a bad-input run of every command-line tool prints one line on stderr."""

import os
import re
import subprocess
import sys

import pytest

from lit_tf import quiet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


BAD_BATCH = "error: batch_size must be > 0. Received: --batch_size=0"  # the library's words, as flags


@pytest.mark.parametrize("module, args, line", [
    ("trainers.cifar", ["--workdir=WORKDIR", "--batch_size=0"], BAD_BATCH),
    ("trainers.stargan", ["--workdir=WORKDIR", "--batch_size=0"], BAD_BATCH),
    ("trainers.convert", ["--arch=resnet8", "--torch_weights=/nowhere/r8.npz", "--out=WORKDIR.keras"],
     "error: No PyTorch weights at '/nowhere/r8.npz'."),
])
def test_a_bad_input_run_prints_exactly_one_line_on_stderr_and_writes_nothing(module, args, line, tmp_path):
    workdir = str(tmp_path / "run")
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run([sys.executable, "-m", module, *[a.replace("WORKDIR", workdir) for a in args]],
                         cwd=ROOT, env=dict(env, PYTHONPATH=ROOT), text=True, capture_output=True, timeout=300)
    assert run.returncode == 1
    assert run.stderr == line + "\n", run.stderr
    assert run.stdout == "" and os.listdir(tmp_path) == []


def test_verbosity_on_the_command_line_keeps_tensorflows_own_lines():
    assert quiet.verbose(["prog", "--verbosity=1"]) and quiet.verbose(["prog", "-v=2"])
    assert not quiet.verbose(["prog", "--verbosity=0"]) and not quiet.verbose(["prog", "--v=-1"])


def test_only_the_known_startup_lines_are_noise():
    assert quiet.is_noise("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR")
    assert quiet.is_noise("E0000 00:00:1 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error")
    assert not quiet.is_noise("error: batch_size must be > 0. Received: batch_size=0")
    assert not quiet.is_noise("W0000 some_kernel.cc:12] Out of memory while allocating")


SCRIPT = """
import os, sys
import keras, numpy as np, tensorflow as tf  # TensorFlow's own start-up lines: before lit_tf runs, they stay
import lit_tf
from lit_tf.data import image_folder

root = sys.argv[1] + "/images"
for split in ("train", "test"):  # class folders written by hand: no TensorFlow op before lit_tf's
    for k in range(3):
        os.makedirs(f"{root}/{split}/c{k}")
        for i in range(8):
            keras.utils.save_img(f"{root}/{split}/c{k}/{i}.png", np.full((16, 16, 3), 40 * k + i, "uint8"))
print("--- lit_tf from here", file=sys.stderr, flush=True)
train = image_folder.provide_dataset("train", 8, root, validation_fraction=0.25)
val = image_folder.provide_dataset("validation", 8, root, validation_fraction=0.25, augment=False)
teacher = lit_tf.models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8), num_classes=3)
result = lit_tf.compress(teacher, keep=1, train_data=train, val_data=val.take(1), lit=1, finetune=1)
lit_tf.export.to_tflite(result.student, sys.argv[1] + "/student.tflite")
"""


@pytest.mark.slow  # a whole compress and export in a new process
def test_a_script_using_the_library_prints_no_tensorflow_line_lit_tf_can_prevent(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=ROOT, env=dict(env, PYTHONPATH=ROOT),
                         text=True, capture_output=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    after = run.stderr.split("--- lit_tf from here\n")[1]
    tensorflow_lines = [line for line in after.splitlines() if re.match(r"[IWE]\d{4} |INFO: ", line)]
    assert tensorflow_lines == [], tensorflow_lines  # before: cuInit, grappler's sessions, ~25 converter lines
    assert "did not fully read the dataset being cached" not in after  # val.take(1) of an evaluation split
    assert (tmp_path / "student.tflite").exists() and "[lit_tf] student" in run.stdout
