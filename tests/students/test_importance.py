"""Block importance on the teacher's own activations, and the kept set judged jointly."""

import itertools

import numpy as np
import pytest

from lit_tf import models
from lit_tf import structure
from lit_tf import students
from lit_tf.students import importance

IDENTITY = {"section_1_block2_bn2": (0, 1), "section_2_block3_bn2": (1, 2), "section_3_block2_bn2": (2, 1)}


def _teacher_with_identity_blocks():
    """A ResNet-20 (3 blocks a stage) whose blocks in IDENTITY compute exactly the identity: their branch's
    last BatchNorm has gamma = beta = 0, so the block is relu(0 + x) = x on the previous ReLU's output."""
    teacher = models.CifarResNet(depth=20, image_shape=(16, 16, 3), filters=(8, 16, 16))
    rng = np.random.default_rng(0)
    for layer in teacher.layers:  # BatchNorms that are not the identity's: some spread, so blocks differ
        if "bn" in layer.name and layer.weights and layer.name not in IDENTITY:
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape).astype("float32"),
                               rng.normal(0, 0.2, beta.shape).astype("float32"), mean, var])
    for name in IDENTITY:
        gamma, beta, mean, var = teacher.get_layer(name).get_weights()
        teacher.get_layer(name).set_weights([np.zeros_like(gamma), np.zeros_like(beta), mean, var])
    return teacher


def _images(n=16, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 16, 16, 3)).astype("float32")


@pytest.mark.parametrize("measure", importance.MEASURES)
def test_exact_identity_blocks_rank_lowest_in_their_section(measure):
    teacher = _teacher_with_identity_blocks()
    scores = importance.block_importance(teacher, _images(), measure=measure)
    assert [len(s) for s in scores] == [3, 3, 3]
    assert scores[1][0] is None and scores[2][0] is None  # the stride-2 blocks cannot go
    for section, index in IDENTITY.values():
        assert scores[section][index] == pytest.approx(0.0, abs=1e-6)
        others = [s for i, s in enumerate(scores[section]) if i != index and s is not None]
        assert others and min(others) > 1e-3


@pytest.mark.parametrize("choose", ["importance", "single", "block_influence"])
def test_choosing_by_importance_drops_the_identity_blocks_and_reproduces_the_teacher(choose):
    teacher, x = _teacher_with_identity_blocks(), _images()
    student = students.shallower(teacher, keep=2, choose=choose, data=x)
    assert student.count_params() < teacher.count_params()
    kept = [[block.layers[-1] for block in section] for section in structure.find_blocks(student)]
    assert not any(name.startswith(("section_1_block2", "section_2_block3", "section_3_block2"))
                   for section in kept for name in section)
    np.testing.assert_allclose(student(_images(8, seed=1)), teacher(_images(8, seed=1)), atol=1e-5)
    spread = students.shallower(teacher, keep=2)  # blocks 0 and 2: not the teacher
    assert np.abs(np.asarray(spread(x)) - np.asarray(teacher(x))).max() > 1e-3


def test_the_joint_choice_is_the_best_of_every_combination_and_greedy_when_they_are_many():
    teacher = models.CifarResNet(depth=32, image_shape=(16, 16, 3), filters=(8, 8, 8))  # 5 blocks a stage
    probe = importance.section_probes(teacher, _images())[0]
    kept, ir = probe.best_kept(3)
    every = {combination: probe.ir(combination) for combination in itertools.combinations(range(5), 3)}
    assert ir == min(every.values()) and every[tuple(kept)] == ir
    greedy, greedy_ir = probe.best_kept(3, max_combinations=1)
    assert greedy == probe.greedy_ladder()[3][0] and greedy_ir >= ir
    assert probe.ir(range(5)) == pytest.approx(0.0, abs=1e-10)  # every block: the teacher's own section


def test_block_importance_takes_datasets_and_refuses_empty_data():
    import tensorflow as tf

    teacher = models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8))
    x = _images(12)
    dataset = tf.data.Dataset.from_tensor_slices((x, np.zeros(12, "int64"))).batch(5)
    np.testing.assert_allclose(importance.block_importance(teacher, dataset)[0][1],
                               importance.block_importance(teacher, x)[0][1], rtol=1e-4)
    with pytest.raises(ValueError, match="the data given is empty"):
        importance.block_importance(teacher, dataset.take(0))
    with pytest.raises(ValueError, match=r"measure must be one of \('ir', 'block_influence'\)"):
        importance.block_importance(teacher, x, measure="cosine")
    with pytest.raises(ValueError, match=r"choose='importance' weighs .* pass data="):
        students.shallower(teacher, keep=1, choose="importance")
