"""Tests for lit_tf.distribute: choosing a strategy, and two real workers on 127.0.0.1."""

import json
import os
import socket
import subprocess
import sys

import h5py
import numpy as np
import pytest

from lit_tf import distribute

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


@pytest.mark.slow  # two TensorFlow processes on a ring: about 90 s
def test_two_workers_finish_an_epoch_with_identical_weights(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    for index in range(2):
        env = dict(os.environ, PYTHONPATH=ROOT, TF_CONFIG=json.dumps(
            {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "trainers.cifar", "--mode=scratch", "--dataset=digits",
             "--student_arch=resnet8", "--lit_epochs=1", "--finetune_epochs=1", "--batch_size=64",
             "--export=false", "--strategy=multi_worker", f"--workdir={tmp_path}"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    for p, output in zip(processes, outputs):
        assert p.returncode == 0, output[-3000:]
        assert "[scratch_stage1] epoch 1/1" in output
    chief = _weights(tmp_path / "scratch_stage1" / "done.weights.h5")
    other = _weights(tmp_path / "workers" / "worker_1" / "scratch_stage1" / "done.weights.h5")
    assert chief.keys() == other.keys() and len(chief) > 10
    for name in chief:
        np.testing.assert_array_equal(chief[name], other[name], err_msg=name)
    assert json.loads((tmp_path / "result.json").read_text())["mode"] == "scratch"
    assert not (tmp_path / "workers" / "worker_1" / "result.json").exists()
