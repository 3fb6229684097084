"""Every use lit_tf makes of Keras' or TensorFlow's private API, in one place, with what it was written for.

Keras 3.15 and TensorFlow 2.21 (`keras<3.16` in pyproject.toml). Each function names the
internal it reads and why nothing public does the job; `tests/test_compat.py` checks every one
of them on the installed versions, so a Keras that changes one fails there, loudly, first.
`let_fit_run_under_multi_worker(model)` works around a Keras bug for one model at a time (no
process-wide patch).

Example:

>>> import keras
>>> from lit_tf import _compat
>>> inputs = keras.Input((4,))
>>> model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
>>> sorted(_compat.nodes_by_depth(model))
[0, 1]
"""

WRITTEN_FOR = {"keras": "3.15", "tensorflow": "2.21"}


def nodes_by_depth(functional):
    """`Functional._nodes_by_depth`: the graph's nodes by depth, the one view of which layer call consumes
    which tensor (Keras 3.15; nothing public lists a functional model's calls)."""
    return functional._nodes_by_depth


def fill_in(node, tensors):
    """`Node.arguments.fill_in`: a recorded call's `(args, kwargs)` with each input tensor replaced by
    `tensors[id(tensor)]`, so a call can be replayed on other tensors (Keras 3.15)."""
    return node.arguments.fill_in(tensors)


def sublayers(layer):
    """`Layer._flatten_layers(include_self=False, recursive=False)`: a plain layer's own sublayers
    (Keras 3.15; `Model.layers` covers models only)."""
    return list(layer._flatten_layers(include_self=False, recursive=False))


def reset_starting_epoch(model):
    """Resets `Model._initial_epoch`, which `BackupAndRestore` sets when it restores and never clears
    (Keras 3.15), so the next `fit` of the same model starts at epoch 0 again."""
    model._initial_epoch = None


class TeacherOutputs:
    """Mixin for a `keras.distillation.Distiller` whose teacher pass is its own `teacher_outputs(x)`.

    Keras 3.15's `Distiller` takes the teacher's outputs from its private
    `_extract_all_teacher_features` (nothing public gives them); this routes that to the subclass's
    `teacher_outputs(x)` (returning `{"final_output": logits}`) while no distillation loss needs
    intermediate features (`_teacher_feature_extractor` is `None`), and to Keras' own pass otherwise.
    """

    def _extract_all_teacher_features(self, x):
        import keras

        if self._teacher_feature_extractor is not None:
            return keras.distillation.Distiller._extract_all_teacher_features(self, x)
        return self.teacher_outputs(x)


def distiller_student_loss(distiller):
    """`Distiller._student_loss_for_serialization`: the student loss `compile` keeps aside (it compiles
    the Model with `loss=None`), to save it with the model (Keras 3.15)."""
    return getattr(distiller, "_student_loss_for_serialization", None)


def frozen_graph_float_operations(function):
    """The float operations of a concrete function's graph with its variables frozen, through
    TensorFlow 2.21's `convert_variables_to_constants_v2` and its TF1 profiler (no public FLOPs count)."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    from tensorflow.python.profiler import model_analyzer
    from tensorflow.python.profiler import option_builder
    from tensorflow.python.util import deprecation

    frozen = convert_variables_to_constants_v2(function)
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    with deprecation.silence():  # the profiler is TF1 API and says so at every call
        return int(model_analyzer.profile(frozen.graph, options=options).total_float_ops)


def let_fit_run_under_multi_worker(model):
    """Works around keras-team/keras#20585 for `model` alone: Keras 3.15's `fit` fails under
    `MultiWorkerMirroredStrategy` in two places of its TensorFlow trainer.

    - Before training, `_maybe_symbolic_build` hands one whole `(x, y)` batch to a single
      `strategy.reduce` to learn input shapes ("Attempt to convert a value (PerReplica...)"); only
      shapes and dtypes are needed, so `model` builds on the first local replica's batch instead.
    - Each step's logs go through `reduce_per_replica`, which reduces them with `axis=0` ("Invalid
      reduction dimension 0 for input with 0 dimensions"): `model`'s `train_step` and `test_step`
      give each scalar log as a 1-element vector, whose `axis=0` mean across replicas is the scalar.
    Sets three attributes of a `model` built under a multi-worker strategy (once); does nothing to
    any other model, which runs Keras' own code. Training math is untouched.
    """
    import keras

    if keras.backend.backend() != "tensorflow" or getattr(model, "_lit_tf_multi_worker", False):
        return
    import tensorflow as tf
    from keras.src import tree

    strategy = model.distribute_strategy
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return

    def first_local(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def maybe_symbolic_build(iterator=None, data_batch=None):  # Keras 3.15's, without the reduce
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tree.map_structure(first_local, next(batches))
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    def with_vector_logs(step):
        def run(data):
            return tree.map_structure(lambda v: tf.reshape(v, [1]) if v.shape.rank == 0 else v, step(data))
        return run

    model._maybe_symbolic_build = maybe_symbolic_build
    model.train_step = with_vector_logs(model.train_step)
    model.test_step = with_vector_logs(model.test_step)
    model._lit_tf_multi_worker = True
