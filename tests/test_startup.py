"""Tests for lit_tf.startup: the tools start TensorFlow with oneDNN on unless told otherwise."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = ("from lit_tf import startup; startup.import_tensorflow([]); "
         "from tensorflow.python.util import _pywrap_util_port; "
         "print(_pywrap_util_port.IsMklEnabled())")


@pytest.mark.parametrize("setting, enabled", [(None, "True"), ("0", "False")])
def test_onednn_is_on_unless_the_environment_turns_it_off(setting, enabled):
    env = {key: value for key, value in os.environ.items() if key != "TF_ENABLE_ONEDNN_OPTS"}
    if setting is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = setting
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=dict(env, PYTHONPATH=ROOT), text=True,
                         capture_output=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == enabled
