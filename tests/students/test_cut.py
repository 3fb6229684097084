"""Tests for lit_tf.structure.blocks and lit_tf.students: blocks found in the graph, students cut from teachers."""

import keras
import numpy as np
import pytest
from keras import layers

from lit_tf import LITDistiller
from lit_tf import models
from lit_tf import structure
from lit_tf import students
from lit_tf.structure import blocks
from lit_tf.structure import sections
from tests import test_case


def two_branch_net(blocks_per_stage=3, image_size=16, filters=8):
    """A hand-written functional net: blocks of two convolution branches joined, then a residual sum."""
    inputs = keras.Input((image_size, image_size, 3), name="pixels")
    x = layers.Conv2D(filters, 3, padding="same", name="entry")(inputs)
    for stage, strides in ((1, 1), (2, 2)):
        for b in range(blocks_per_stage):
            step = strides if b == 0 else 1
            left = layers.Conv2D(filters, 3, strides=step, padding="same", name=f"st{stage}_b{b}_left")(x)
            right = layers.Conv2D(filters, 1, strides=step, name=f"st{stage}_b{b}_right1")(x)
            right = layers.Conv2D(filters, 3, padding="same", name=f"st{stage}_b{b}_right2")(right)
            y = layers.Conv2D(filters, 1, name=f"st{stage}_b{b}_mix")(layers.Concatenate()([left, right]))
            shortcut = x if step == 1 else layers.AveragePooling2D(step, name=f"st{stage}_b{b}_pool")(x)
            x = layers.Activation("relu", name=f"st{stage}_b{b}_out")(layers.Add()([shortcut, y]))
    outputs = layers.Dense(4, name="logits")(layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, outputs, name="two_branch")


TEACHERS = {  # name: (builder, image size, the boundaries find_boundaries should propose)
    "cifar_resnet": (lambda: models.CifarResNet(depth=20, image_shape=(16, 16, 3), filters=(8, 8, 16)), 16,
                     ["stem", "section_1", "section_2", "section_3"]),
    "cifar_resnext": (lambda: models.CifarResNeXt(depth=20, image_shape=(16, 16, 3), filters=(16, 16, 32),
                                                  cardinality=2, group_width=2, stem_filters=16), 16,
                      ["stem", "section_1", "section_2", "section_3"]),
    "mobilenet_v2": (lambda: keras.applications.MobileNetV2(
        input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=4, classifier_activation=None), 32,
        ["block_1_project_BN", "block_2_add", "block_5_add", "block_9_add", "block_12_add", "block_15_add"]),
    "resnet50_v2": (lambda: keras.applications.ResNet50V2(
        input_shape=(32, 32, 3), weights=None, classes=4, classifier_activation=None), 32,
        ["conv2_block1_preact_relu", "conv2_block2_out", "conv3_block3_out", "conv4_block5_out", "conv5_block3_out"]),
    "two_branch": (two_branch_net, 16, ["entry", "st1_b2_out", "st2_b2_out"]),
}


def _params(layer_names, model):
    return sum(model.get_layer(name).count_params() for name in layer_names)


KERAS_APPLICATIONS = ("mobilenet_v2", "resnet50_v2")  # slow: half a minute each (test_targets.py cuts MobileNetV2)


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name in KERAS_APPLICATIONS else name
                                  for name in TEACHERS])
def test_found_boundaries_blocks_and_a_shallower_student_that_takes_a_lit_step(name):
    build, size, expected_boundaries = TEACHERS[name]
    keras.utils.set_random_seed(0)
    teacher = build()
    boundaries = structure.find_boundaries(teacher)
    assert boundaries == expected_boundaries
    found = structure.find_blocks(teacher, boundaries)
    assert all(found) and all(any(block.removable for block in section) for section in found)
    x = np.random.default_rng(0).normal(size=(2, size, size, 3)).astype("float32")

    same = students.shallower(teacher, keep=[len(section) for section in found])
    assert same.count_params() == teacher.count_params()
    np.testing.assert_allclose(same(x, training=False), teacher(x, training=False), atol=1e-6)

    keep = [sum(not block.removable for block in section) or 1 for section in found]
    student = students.shallower(teacher, keep=keep)
    removed = [block for section, k in zip(found, keep)
               for block in section if block.index not in students.kept_blocks([section], [k], ["s"])[0]]
    dropped = sum(_params(block.layers, teacher) for block in removed)
    assert removed and student.count_params() == teacher.count_params() - dropped
    assert [len(section) for section in structure.find_blocks(student, boundaries)] == keep

    distiller = LITDistiller(teacher, student, boundaries)
    distiller.compile(keras.optimizers.SGD(0.01), metrics=["accuracy"])
    cut = sections.Sections(student, boundaries)
    before = [w.numpy().copy() for section in cut.sections for w in section.trainable_weights]
    logs = distiller.fit(x, np.array([0, 1]), epochs=1, batch_size=2, verbose=0).history
    assert np.isfinite(logs["loss"][0]) and np.isfinite(logs["ir_loss"][0])
    after = [w.numpy() for section in cut.sections for w in section.trainable_weights]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))


def test_keep_3_of_resnet56_is_resnet20_started_from_blocks_1_5_9_and_the_teacher_is_untouched():
    teacher = models.get("resnet56")
    teacher_weights = test_case.weights_by_name(teacher.layers)
    student = students.shallower(teacher, keep=3)
    assert student.count_params() == models.get("resnet20").count_params() == 271098
    assert len(student.layers) == len(models.get("resnet20").layers)
    kept = [block.output_layer for block in structure.find_blocks(student)[1]]
    assert kept == ["section_2_block1_out", "section_2_block5_out", "section_2"]
    for layer in ("section_2_block5_conv1", "section_2_block5_bn2", "section_3_block9_bn1", "stem_bn", "head"):
        for mine, theirs in zip(student.get_layer(layer).get_weights(), teacher.get_layer(layer).get_weights()):
            np.testing.assert_array_equal(mine, theirs)  # BatchNorm moving statistics included
    for name, value in test_case.weights_by_name(teacher.layers).items():
        np.testing.assert_array_equal(value, teacher_weights[name], err_msg=name)
    assert all(layer.trainable for layer in student.layers)


def test_random_init_copies_only_the_stem_and_head():
    teacher = models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8))
    student = students.shallower(teacher, keep=1, init="random")
    for layer in ("stem_conv", "stem_bn", "head"):
        for mine, theirs in zip(student.get_layer(layer).get_weights(), teacher.get_layer(layer).get_weights()):
            np.testing.assert_array_equal(mine, theirs)
    assert not np.array_equal(student.get_layer("section_1_block1_conv1").get_weights()[0],
                              teacher.get_layer("section_1_block1_conv1").get_weights()[0])


def test_a_section_whose_last_block_goes_keeps_its_boundary_name():
    teacher = models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8))
    student = students.shallower(teacher, keep=[[0], [0], [0]])
    boundaries = ["stem", "section_1", "section_2", "section_3"]
    assert [block.output_layer for section in structure.find_blocks(student, boundaries) for block in section] == \
        boundaries[1:]
    sections.check_compatible(teacher, student, boundaries, boundaries)
    assert student.count_params() == models.CifarResNet(depth=8, image_shape=(16, 16, 3), filters=(8, 8, 8)) \
        .count_params()


def _nested_encoder(dim, name):
    inputs = keras.Input((6, dim))
    attended = layers.MultiHeadAttention(2, 4)(inputs, inputs)
    return keras.Model(inputs, layers.LayerNormalization()(layers.Add()([inputs, attended])), name=name)


def test_nested_sub_models_that_keep_their_shape_are_blocks_and_gates_are_not():
    inputs = keras.Input((6, 8))
    x = layers.Dense(8, name="embed")(inputs)
    for k in range(3):
        x = _nested_encoder(8, f"encoder_{k}")(x)
    gate = layers.Dense(8, activation="sigmoid", name="gate")(x)
    x = layers.Multiply(name="gated")([x, gate])  # squeeze-and-excitation style: not a block
    outputs = layers.Dense(3, name="head")(layers.GlobalAveragePooling1D()(x))
    model = keras.Model(inputs, outputs)
    assert structure.find_boundaries(model) == ["embed", "encoder_2"]
    assert [str(block) for block in structure.find_blocks(model)[0]][1] == \
        "block 1: encoder_1, (6, 8) -> (6, 8), removable"
    student = students.shallower(model, keep=1)
    assert [layer.name for layer in student.layers if layer.name.startswith("encoder")] == ["encoder_2"]
    x = np.random.default_rng(0).normal(size=(2, 6, 8)).astype("float32")
    np.testing.assert_allclose(students.shallower(model, keep=3)(x), model(x), atol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    (dict(keep=4), r"Section 'section_1' has 2 blocks, so it keeps 1 to 2 of them\. Received: keep=4"),
    (dict(keep=[1, 1]), r"keep is an int for every section, or one entry per section \(3 here"),
    (dict(keep=[[1], [1], [1]]), r"Section 'section_2': block 0 changes shape .* include index 0"),
    (dict(keep=2, init="pretrained"), r"init must be one of \('teacher', 'random'\)\. Received: init='pretrained'"),
    (dict(keep=2, boundaries=["stem", "section_1", "sectoin_2"]), r"no layer 'sectoin_2'"),
])
def test_bad_input_is_one_clear_error(kwargs, match):
    teacher = models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8))
    with pytest.raises(ValueError, match=match):
        students.shallower(teacher, **kwargs)


def test_a_model_without_blocks_says_what_a_block_is():
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, name="conv")(inputs)
    model = keras.Model(inputs, layers.Dense(2)(layers.Flatten()(x)), name="plain")
    for call in (lambda: structure.find_boundaries(model), lambda: students.shallower(model, keep=1)):
        with pytest.raises(ValueError, match=r"Model 'plain' has no block\. A block is a region .* forks and joins"):
            call()
    with pytest.raises(ValueError, match="has no block"):
        blocks.find_blocks(model, ["conv", "flatten"])


def test_a_boundary_that_a_skip_connection_crosses_is_refused_by_find_blocks():
    model = two_branch_net()
    with pytest.raises(ValueError, match=r"Boundary 'st1_b1_left' of model 'two_branch' is not a clean cut"):
        blocks.find_blocks(model, ["entry", "st1_b1_left", "st2_b2_out"])
