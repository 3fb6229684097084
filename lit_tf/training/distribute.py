"""`get_strategy(name)`: the `tf.distribute.Strategy` a trainer runs under.

- `default`: one device (TensorFlow's default strategy);
- `mirrored`: `MirroredStrategy` over `num_gpus` GPUs (all CPUs' logical
  devices when there is no GPU);
- `multi_worker`: `MultiWorkerMirroredStrategy`, cluster from `TF_CONFIG`;
- `tpu`: `TPUStrategy` on the TPU named by `tpu_address` (or the environment's).

Build models and optimizers inside `strategy.scope()`, and use
`BatchNormalization(synchronized=True)` when `num_replicas_in_sync > 1`. Under `multi_worker`,
train through `lit_tf.training.fit_stage`, which works around a Keras 3.15 bug there (or call
`lit_tf._compat.let_fit_run_under_multi_worker(model)` before your own `fit`).

Example:

>>> from lit_tf.training import distribute
>>> distribute.get_strategy("default").num_replicas_in_sync
1
"""

import os

import tensorflow as tf

from lit_tf.options import STRATEGIES
from lit_tf.options import check_choice


def get_strategy(name="default", num_gpus=0, tpu_address=None):
    """Returns the strategy `name`; see the module docstring."""
    check_choice("strategy", name, STRATEGIES)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        if num_gpus > len(gpus):
            raise ValueError(f"num_gpus={num_gpus} but this machine has {len(gpus)} GPU(s).")
        devices = [d.name for d in gpus[:num_gpus]] if num_gpus else None
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError(
                "strategy='multi_worker' reads the cluster from the TF_CONFIG environment variable, "
                'which is not set. Example: TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", '
                '"host2:12345"]}, "task": {"type": "worker", "index": 0}}\''
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu_address or "")
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def _this_task():
    """`(task_type, task_id, cluster jobs)` from `TF_CONFIG`, as TensorFlow's resolver reads it."""
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    return resolver.task_type, resolver.task_id, resolver.cluster_spec().jobs


def task_name():
    """`worker_1`-style name of this multi-worker task, `chief` when there is no cluster."""
    task_type, task_id, _ = _this_task()
    return f"{task_type}_{task_id}" if task_type else "chief"


def is_chief():
    """Whether this process writes results: always, except non-chief multi-worker tasks."""
    task_type, task_id, jobs = _this_task()
    if not task_type:
        return True
    if "chief" in jobs:
        return task_type == "chief"
    return task_type == "worker" and task_id == 0
