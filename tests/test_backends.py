"""LIT's core (sections, losses, LITDistiller, KDDistiller, the CIFAR models) runs on JAX too.

The same teacher and student, the same batch: the JAX backend, in a subprocess, gives the losses
TensorFlow gives here, and its LIT stage trains the sections alone, as on TensorFlow.
"""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lit_tf import models
from lit_tf.structure import weight_copy
from tests import test_case
from tests.backends import lit_on_backend


def _run_on(backend, *paths):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # XLA's quickest compile: these models are tiny, and compiling is most of the run.
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=root, TF_CPP_MIN_LOG_LEVEL="3",
               XLA_FLAGS="--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true")
    done = subprocess.run([sys.executable, lit_on_backend.__file__, *paths], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # a JAX process and a TensorFlow one
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed (pip install '.[test]')")
def test_jax_gives_tensorflows_losses_and_trains_only_the_sections(tmp_path):
    teacher = models.get("resnet8", num_classes=4, image_shape=(8, 8, 3))  # the smallest pair: compiling is the cost
    student = models.get("resnet8", num_classes=4, image_shape=(8, 8, 3))
    weight_copy.copy_stem_and_head(teacher, student, teacher.boundaries)
    x, y = test_case.tiny_data(n=32, image_size=8)
    arrays = str(tmp_path / "arrays.npz")
    lit_on_backend.save_arrays(arrays, teacher, student, x, y)

    on_jax = _run_on("jax", arrays)
    on_tf = lit_on_backend.measure(teacher, student, x, y)

    assert (on_tf["backend"], on_jax["backend"]) == ("tensorflow", "jax")
    assert sorted(on_jax["lit_history"]) == ["ir_loss", "ir_loss_1", "ir_loss_2", "ir_loss_3", "kd_loss", "loss"]
    for key, values in on_tf["lit_history"].items():
        np.testing.assert_allclose(on_jax["lit_history"][key], values, rtol=1e-3, err_msg=key)
    np.testing.assert_allclose(on_jax["kd_history"]["kd_loss"], on_tf["kd_history"]["kd_loss"], rtol=1e-3)
    assert on_jax["lit_history"]["ir_loss"][-1] < on_jax["lit_history"]["ir_loss"][0]
    assert on_jax["sections_moved"] and not on_jax["stem_and_head_moved"]
    assert on_jax["finetune_moved"]
