"""`get_strategy(name)`: the `tf.distribute.Strategy` a trainer runs under.

- `default`: one device (TensorFlow's default strategy);
- `mirrored`: `MirroredStrategy` over `num_gpus` GPUs (all CPUs' logical
  devices when there is no GPU);
- `multi_worker`: `MultiWorkerMirroredStrategy`, cluster from `TF_CONFIG`;
- `tpu`: `TPUStrategy` on the TPU named by `tpu_address` (or the environment's).

Build models and optimizers inside `strategy.scope()`, and use
`BatchNormalization(synchronized=True)` when `num_replicas_in_sync > 1`.

Example:

>>> from lit_tf.training import distribute
>>> distribute.get_strategy("default").num_replicas_in_sync
1
"""

import inspect
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
        _let_keras_fit_run_under_multi_worker()
        return tf.distribute.MultiWorkerMirroredStrategy()
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu_address or "")
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def _let_keras_fit_run_under_multi_worker():
    """Works around keras-team/keras#20585: Keras 3's `fit` fails under `MultiWorkerMirroredStrategy`.

    Two places in Keras' TensorFlow trainer (3.15) hand `CollectiveAllReduce`
    what it cannot take:
    - before training, one whole `(x, y)` batch goes to a single
      `strategy.reduce` to learn input shapes ("Attempt to convert a value
      (PerReplica...)"); only shapes and dtypes are needed, so the first local
      replica's batch is used instead;
    - each step's logs (scalars) are averaged with `axis=0` ("Invalid
      reduction dimension 0 for input with 0 dimensions"); scalars are now
      averaged across replicas without an axis.
    Installed when a multi-worker strategy is made, and acting only for models under one: every
    other model (default, mirrored, TPU) runs Keras' own code, unchanged. Training math is untouched.
    """
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer

    if getattr(trainer, "_lit_tf_multi_worker_patched", False):
        return
    written_for = {trainer.TensorFlowTrainer._maybe_symbolic_build: ["self", "iterator", "data_batch"],
                   trainer.reduce_per_replica: ["values", "strategy", "reduction"]}
    if any(list(inspect.signature(f).parameters) != names for f, names in written_for.items()):
        import keras

        raise RuntimeError(
            f"strategy='multi_worker' works around keras-team/keras#20585 in the trainer of Keras 3.15, which "
            f"Keras {keras.version()} has changed. Use strategy='mirrored' or 'default', or Keras 3.15.")

    def first_local(value, strategy):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    keras_maybe_symbolic_build = trainer.TensorFlowTrainer._maybe_symbolic_build

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        if not _multi_worker(self._distribute_strategy):
            return keras_maybe_symbolic_build(self, iterator=iterator, data_batch=data_batch)
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tree.map_structure(lambda v: first_local(v, self.distribute_strategy), next(batches))
                break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    keras_reduce_per_replica = trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if not _multi_worker(strategy) or reduction not in ("auto", "mean"):
            return keras_reduce_per_replica(values, strategy, reduction)

        def reduce(value):
            axis = 0 if first_local(value, strategy).shape.rank else None
            return strategy.reduce("MEAN", value, axis=axis)

        return tree.map_structure(reduce, values)

    trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
    trainer.reduce_per_replica = reduce_per_replica
    trainer._lit_tf_multi_worker_patched = True


def _multi_worker(strategy):
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


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
