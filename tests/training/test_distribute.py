"""Tests for lit_tf.training.distribute: choosing a strategy, and two real workers on 127.0.0.1."""

import json
import os
import socket
import subprocess
import sys

import h5py
import numpy as np
import pytest

from lit_tf.training import distribute

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_unknown_names_and_missing_cluster_are_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="strategy must be one of .*Received: strategy='gpu'"):
        distribute.get_strategy("gpu")
    with pytest.raises(ValueError, match="num_gpus=4 but this machine has 0 GPU"):
        distribute.get_strategy("mirrored", num_gpus=4)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG environment variable, which is not set"):
        distribute.get_strategy("multi_worker")


@pytest.mark.parametrize("cluster, task, chief, name", [
    (None, None, True, "chief"),
    ({"worker": ["a:1", "b:1"]}, {"type": "worker", "index": 0}, True, "worker_0"),
    ({"worker": ["a:1", "b:1"]}, {"type": "worker", "index": 1}, False, "worker_1"),
    ({"chief": ["a:1"], "worker": ["b:1"]}, {"type": "worker", "index": 0}, False, "worker_0"),
])
def test_only_the_chief_writes_results(monkeypatch, cluster, task, chief, name):
    if task:
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": task}))
    else:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    assert (distribute.is_chief(), distribute.task_name()) == (chief, name)


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _weights(path):
    values = {}
    with h5py.File(path) as f:
        f.visititems(lambda name, item: values.update({name: item[()]}) if isinstance(item, h5py.Dataset) else None)
    return values


# A small rate: at the flagfiles' 0.1, one epoch of a fresh ResNet amplifies float rounding so much
# that one worker with oneDNN on and off (only the order of the sums differs, as between one worker
# and two) already ends with some BatchNorm offsets 3% apart (measured, 20 steps).
RUN = ["--mode=scratch", "--dataset=digits", "--student_arch=resnet8", "--lit_epochs=1", "--finetune_epochs=1",
       "--batch_size=64", "--lit_learning_rate=0.001", "--export=false"]


def _trainer(workdir, *args, env=None):
    return subprocess.Popen([sys.executable, "-m", "trainers.cifar", *RUN, *args, f"--workdir={workdir}"], cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=ROOT, **(env or {})), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _student(path=None):
    """ResNet-8's trainable weights as one vector: as the run starts it (seed 0), or loaded from `path`."""
    import keras

    from lit_tf import models

    keras.utils.set_random_seed(0)
    model = models.get("resnet8", num_classes=10, image_shape=(32, 32, 3))
    if path:
        model.load_weights(path)
    return np.concatenate([np.ravel(w) for w in model.trainable_weights])


@pytest.mark.slow  # three TensorFlow processes, two of them on a ring: about 2 minutes
def test_two_workers_train_as_one_worker_on_the_same_global_batch(tmp_path):
    one = _trainer(tmp_path / "one")
    assert one.wait(timeout=300) == 0, one.communicate()[0][-3000:]
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = [_trainer(tmp_path / "two", "--strategy=multi_worker", env={"TF_CONFIG": json.dumps(
        {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})}) for index in range(2)]
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    for p, output in zip(processes, outputs):
        assert p.returncode == 0, output[-3000:]
        assert "[scratch_stage1] epoch 1/1" in output
    chief = _weights(tmp_path / "two" / "scratch_stage1" / "done.weights.h5")
    other = _weights(tmp_path / "two" / "workers" / "worker_1" / "scratch_stage1" / "done.weights.h5")
    assert chief.keys() == other.keys() and len(chief) > 10
    for name in chief:
        np.testing.assert_array_equal(chief[name], other[name], err_msg=name)  # the workers agree exactly
    assert json.loads((tmp_path / "two" / "result.json").read_text())["mode"] == "scratch"
    assert not (tmp_path / "two" / "workers" / "worker_1" / "result.json").exists()

    # ... and train what one worker trains on the same 64 images a step: the gradients' and the
    # synchronized BatchNorm statistics' sums only run in another order. Gradients scaled wrongly
    # (halved, doubled) would put them a good share of the epoch's way apart.
    start = _student()
    alone, two = (_student(folder / "scratch_stage1" / "done.weights.h5") for folder in (tmp_path / "one",
                                                                                        tmp_path / "two"))
    moved = np.linalg.norm(alone - start)
    assert moved > 0.1  # measured: 0.24
    assert np.linalg.norm(two - alone) < 0.02 * moved  # measured: 0.003 of it


DEFAULT_STRATEGY_FIT = """
import json, os, socket, sys
import keras, numpy as np
from lit_tf import _compat
from lit_tf.training import distribute

def fit(strategy):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    with strategy.scope():
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    _compat.let_fit_run_under_multi_worker(model)
    model.fit(x, np.argmax(x[:, :3], axis=1), batch_size=16, epochs=2, verbose=0)
    return model.get_weights()

if sys.argv[2] == "after_multi_worker":  # first, as TensorFlow requires: a multi-worker run in this process
    port = socket.socket(); port.bind(("127.0.0.1", 0))
    os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"127.0.0.1:{port.getsockname()[1]}"]},
                                          "task": {"type": "worker", "index": 0}})
    port.close()
    fit(distribute.get_strategy("multi_worker"))
np.savez(sys.argv[1], *fit(distribute.get_strategy("default")))
"""


@pytest.mark.slow  # two TensorFlow processes: about 25 s
def test_a_default_strategy_model_trains_the_same_after_a_multi_worker_run_in_the_process(tmp_path):
    weights = {}
    for order in ("alone", "after_multi_worker"):
        path = tmp_path / f"{order}.npz"
        ran = subprocess.run([sys.executable, "-c", DEFAULT_STRATEGY_FIT, str(path), order], cwd=ROOT, text=True,
                             capture_output=True, env=dict(os.environ, PYTHONPATH=ROOT), timeout=300)
        assert ran.returncode == 0, ran.stderr[-3000:]
        weights[order] = list(np.load(path).values())
    for alone, after in zip(weights["alone"], weights["after_multi_worker"]):
        np.testing.assert_array_equal(alone, after)
