"""The Keras and TensorFlow internals lit_tf._compat reads exist and behave as written for (Keras 3.15).

A new Keras that changes one fails here, naming it, before anything that uses it goes wrong.
"""

import inspect

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


@pytest.mark.parametrize("module", [
    "structure.graph", "structure.sections", "structure.blocks", "structure.folding", "distillation.finetune",
    "distillation.lit", "training.callbacks", "training.stage", "training.optimizers", "export.flops", "students.cut",
    "students.importance"])
def test_no_other_module_reads_keras_or_tensorflow_internals(module):
    import importlib
    import io
    import re
    import tokenize

    source = inspect.getsource(importlib.import_module(f"lit_tf.{module}"))
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)  # the code, without comments and strings
    source = " ".join(token.string for token in tokens if token.type not in (tokenize.COMMENT, tokenize.STRING))
    assert not re.search(r"keras\.src|tensorflow\.python|\._nodes_by_depth|\._flatten_layers|\.arguments\.fill_in|"
                         r"_initial_epoch|_extract_all_teacher_features|_student_loss_for_serialization", source)
