"""The Keras and TensorFlow internals lit_tf._compat reads exist and behave as written for (Keras 3.15).

A new Keras that changes one fails here, naming it, before anything that uses it goes wrong.
"""

import inspect
import os

import keras
import numpy as np
import pytest

from lit_tf import _compat


def _functional():
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, name="hidden")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, name="out")(hidden))


def test_the_installed_keras_is_the_one_written_for():
    assert keras.version().startswith(_compat.WRITTEN_FOR["keras"] + "."), (
        f"lit_tf._compat is written for Keras {_compat.WRITTEN_FOR['keras']}: check each function against "
        f"Keras {keras.version()}, then raise the bound in pyproject.toml")


def test_a_functional_graph_is_read_by_depth_and_a_call_replays_on_other_tensors():
    model = _functional()
    by_depth = _compat.nodes_by_depth(model)
    names = sorted(node.operation.name for nodes in by_depth.values() for node in nodes)
    assert names == sorted(["hidden", "out", model.inputs[0]._keras_history.operation.name])
    (node,) = [n for nodes in by_depth.values() for n in nodes if n.operation.name == "out"]
    value = np.ones((1, 3), "float32")
    args, kwargs = _compat.fill_in(node, {id(node.input_tensors[0]): value})
    assert args[0] is value and kwargs == {}


def test_a_plain_layers_sublayers_are_listed():
    class Pair(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.first, self.second = keras.layers.Dense(2), keras.layers.Dense(2)

    pair = Pair()
    assert _compat.sublayers(pair) == [pair.first, pair.second]


def test_backup_and_restore_still_sets_the_initial_epoch_it_is_cleared_from():
    source = inspect.getsource(keras.callbacks.BackupAndRestore)
    assert "_initial_epoch" in source
    model = _functional()
    model._initial_epoch = 3
    _compat.reset_starting_epoch(model)
    assert model._initial_epoch is None


def test_the_distillers_private_members_exist_and_route_the_teacher_pass():
    distiller = keras.distillation.Distiller
    assert callable(getattr(distiller, "_extract_all_teacher_features", None))
    assert "_teacher_feature_extractor" in inspect.getsource(distiller)
    assert "_student_loss_for_serialization" in inspect.getsource(distiller)

    class Routed(_compat.TeacherOutputs, keras.distillation.Distiller):
        def teacher_outputs(self, x):
            return {"final_output": "ours"}

    teacher, student = _functional(), _functional()
    routed = Routed(teacher, student, keras.distillation.LogitsDistillation(temperature=2.0))
    assert routed._extract_all_teacher_features(np.ones((1, 4), "float32")) == {"final_output": "ours"}


def test_the_frozen_graph_profiler_counts_a_dense_layer():
    import tensorflow as tf

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, use_bias=False)])
    function = tf.function(lambda x: model(x)).get_concrete_function(tf.TensorSpec((1, 8), tf.float32))
    assert _compat.frozen_graph_float_operations(function) == 64


LIBRARY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lit_tf")
MODULES = sorted(os.path.relpath(os.path.join(folder, name), LIBRARY) for folder, _, names in os.walk(LIBRARY)
                 for name in names if name.endswith(".py") and name != "_compat.py")


@pytest.mark.parametrize("module", MODULES)
def test_no_other_module_reads_keras_or_tensorflow_internals(module):
    import io
    import re
    import tokenize

    source = open(os.path.join(LIBRARY, module)).read()
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)  # the code, without comments and strings
    source = " ".join(token.string for token in tokens if token.type not in (tokenize.COMMENT, tokenize.STRING))
    assert not re.search(r"keras\.src|tensorflow\.python|\._nodes_by_depth|\._flatten_layers|\.arguments\.fill_in|"
                         r"_initial_epoch|_extract_all_teacher_features|_student_loss_for_serialization|"
                         r"_symbolic_build", source)


def test_the_multi_worker_fix_replaces_what_keras_calls_and_leaves_other_models_alone():
    from keras.src.backend.tensorflow import trainer

    signature = list(inspect.signature(trainer.TensorFlowTrainer._maybe_symbolic_build).parameters)
    assert signature == ["self", "iterator", "data_batch"]
    assert 'strategy.reduce("MEAN", v, axis=0)' in inspect.getsource(trainer.reduce_per_replica)  # the bug
    model = _functional()
    _compat.let_fit_run_under_multi_worker(model)  # the default strategy: nothing set
    assert "train_step" not in vars(model) and "_maybe_symbolic_build" not in vars(model)
