"""Compress to a target: plans that meet it, on lit_tf's and keras.applications' models."""

import keras
import numpy as np
import pytest

import lit_tf
from lit_tf import models
from lit_tf import students
from lit_tf.export.flops import count_flops
from lit_tf.students import targets
from tests import test_case


def _mobilenet():
    return keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=4,
                                          classifier_activation=None)


def _images(n=8, size=32):
    return np.random.default_rng(0).normal(size=(n, size, size, 3)).astype("float32")


@pytest.mark.parametrize("target", [dict(target_params=0.9),
                                    pytest.param(dict(target_flops=0.9), marks=pytest.mark.slow)])
def test_targets_on_keras_applications_are_met_and_the_plan_is_the_student(target):
    teacher = _mobilenet()
    plan = targets.plan_student(teacher, _images(), **target)
    student = students.shallower(teacher, plan.keep)
    assert student.count_params() == plan.params
    assert count_flops(student) == plan.flops  # the blocks' costs add up to the student's
    fraction = (plan.params / plan.teacher_params if "target_params" in target else plan.flops / plan.teacher_flops)
    assert fraction <= list(target.values())[0]
    assert fraction > 0.85  # near the target, not the smallest student (0.80 of the params, 0.81 of the FLOPs)
    assert "blocks kept" in str(plan) and "section" in str(plan)


def test_a_params_target_can_keep_unequal_counts_where_blocks_cost_differently():
    teacher = models.CifarResNet(depth=20, image_shape=(16, 16, 3), filters=(8, 16, 32))
    plan = targets.plan_student(teacher, _images(size=16), target_params=0.6)
    assert plan.params <= 0.6 * plan.teacher_params
    assert len({len(kept) for kept in plan.keep}) > 1  # the cheap first stage keeps more
    assert targets.choose_keep(teacher, target_params=0.6, data=_images(size=16)) == plan.keep


@pytest.mark.parametrize("kwargs, match", [
    (dict(target_params=0.01), r"target_params=0.01 cannot be met: the smallest student .* 0\.\d{3} of the "
                               r"teacher's params\. Ask for target_params >= 0\.\d{3}"),
    (dict(target_params=0.5, target_flops=0.5), r"Give one target"),
    (dict(), r"Give one target, .* Received: none"),
    (dict(target_flops=1.5), r"target_flops is a fraction of the teacher's, in \(0, 1\]"),
])
def test_bad_targets_are_one_clear_error(kwargs, match):
    teacher = models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8))
    with pytest.raises(ValueError, match=match):
        targets.plan_student(teacher, _images(size=16), **kwargs)


def test_choose_keep_needs_data():
    with pytest.raises(ValueError, match="pass data="):
        targets.choose_keep(models.get("resnet8"), target_params=0.5)


@pytest.mark.slow  # README's one-call example compresses to a target in the default run
def test_compress_to_a_target_prints_the_plan_and_trains_that_student(capsys, tmp_path):
    x, y = test_case.tiny_data(32)
    teacher = models.CifarResNet(depth=20, image_shape=(16, 16, 3), filters=(8, 16, 16), num_classes=4)
    result = lit_tf.compress(teacher, target_params=0.6, train_data=(x, y), lit=1, finetune=1,
                             batch_size=8, checkpoint_dir=str(tmp_path / "run"))
    out = capsys.readouterr().out
    assert "[lit_tf] plan for target_params=0.6" in out
    assert out.index("[lit_tf] plan") < out.index("Stage 1/2")  # the plan comes before training
    assert result.student.count_params() <= 0.6 * teacher.count_params()


def test_an_unreachable_target_in_compress_writes_nothing(tmp_path):
    x, y = test_case.tiny_data(8)
    teacher = models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8), num_classes=4)
    with pytest.raises(ValueError, match="cannot be met"):
        lit_tf.compress(teacher, target_flops=0.01, train_data=(x, y), checkpoint_dir=str(tmp_path / "run"),
                        verbose=0)
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_a_latency_target_is_timed_on_the_chosen_student():
    teacher = models.CifarResNet(depth=32, image_shape=(32, 32, 3))
    plan = targets.plan_student(teacher, _images(), target_latency=0.7)
    assert plan.latency <= 0.7 * plan.teacher_latency
    assert "latency (TFLite, batch 1)" in str(plan)
    assert plan.flops < plan.teacher_flops
