"""Tests for lit_tf.quiet: a bad-input run of every command-line tool prints one line on stderr."""

import os
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
