"""Tests for lit_tf.startup: the tools start TensorFlow with oneDNN on unless told otherwise."""

import os
import subprocess
import sys

import pytest
from tensorflow.python.util import _pywrap_util_port

from lit_tf import startup

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = ("from lit_tf import startup; startup.import_tensorflow([]); "
         "from tensorflow.python.util import _pywrap_util_port; "
         "print(_pywrap_util_port.IsMklEnabled())")


def test_onednn_is_on_in_a_process_that_started_tensorflow_through_startup():
    # conftest.py starts TensorFlow as the tools do; on this project's AVX2 machines TensorFlow alone keeps it off.
    assert _pywrap_util_port.IsMklEnabled() == (os.environ.get(startup.ONEDNN, "1") != "0")


@pytest.mark.slow  # a fresh process that imports TensorFlow
def test_an_explicit_zero_in_the_environment_turns_onednn_off():
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", PYTHONPATH=ROOT)
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, text=True, capture_output=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "False"
