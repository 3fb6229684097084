"""lit_tf.stargan.distill: LIT and the L2 baseline train a 2-block StarGAN generator from a 6-block one."""

import keras
import numpy as np
import pytest

from lit_tf.models import stargan
from lit_tf.stargan.distill import GeneratorDistiller
from lit_tf.structure import weight_copy
from tests import test_case

TINY = {"image_size": 16, "num_domains": 3, "conv_dim": 8}


def _pair():
    keras.utils.set_random_seed(0)
    teacher = stargan.Generator(residual_blocks=6, sections=2, **TINY)
    student = stargan.Generator(residual_blocks=2, sections=2, **TINY)
    weight_copy.copy_stem_and_head(teacher, student, teacher.boundaries)
    return teacher, student


def _data(n=16):
    rng = np.random.default_rng(0)
    image = rng.uniform(-1, 1, (n, 16, 16, 3)).astype("float32")
    label = rng.integers(0, 2, (n, 3)).astype("float32")
    return image, label, label[::-1].copy()


def _adam():
    return keras.optimizers.Adam(1e-3, beta_1=0.5, beta_2=0.999)


def test_lit_lowers_each_trunk_ir_loss_and_moves_only_the_student_trunk():
    teacher, student = _pair()
    outside = [layer for layer in student.layers if not layer.name.startswith("res")]
    trunk = [layer for layer in student.layers if layer.name.startswith("res")]
    before, teacher_before = test_case.weights_by_name(outside), test_case.weights_by_name(teacher.layers)
    trunk_before = test_case.weights_by_name(trunk)
    distiller = GeneratorDistiller(teacher, student)  # the reference: IR loss only, no discriminator
    distiller.compile(_adam())
    history = distiller.fit(_data(), batch_size=4, epochs=4, verbose=0).history
    for k in (1, 2):
        assert history[f"ir_loss_{k}"][-1] < 0.8 * history[f"ir_loss_{k}"][0]
    np.testing.assert_allclose(history["loss"], history["ir_loss"], rtol=1e-5)  # the reference's: IR alone
    after = test_case.weights_by_name(outside)
    assert all(np.array_equal(before[name], after[name]) for name in before)  # stem and up-sampling frozen
    teacher_after = test_case.weights_by_name(teacher.layers)
    assert all(np.array_equal(teacher_before[name], teacher_after[name]) for name in teacher_before)
    trunk_after = test_case.weights_by_name(trunk)
    assert all(not np.array_equal(trunk_before[name], trunk_after[name]) for name in trunk_before)
    assert all(layer.trainable for layer in student.layers)  # only the sections trained; no flag was set


def test_the_l2_baseline_brings_the_student_image_towards_the_teacher_image():
    teacher, student = _pair()
    image, label, target = _data()
    teacher_image = teacher.predict([image, target], verbose=0)
    gap_before = np.mean((student.predict([image, target], verbose=0) - teacher_image) ** 2)
    distiller = GeneratorDistiller(teacher, student, method="l2")
    distiller.compile(_adam())
    history = distiller.fit((image, label, target), batch_size=4, epochs=4, verbose=0).history
    gap_after = np.mean((student.predict([image, target], verbose=0) - teacher_image) ** 2)
    assert history["l2_loss"][-1] < history["l2_loss"][0] and gap_after < gap_before
    assert sorted(history) == ["l2_loss", "loss"]


@pytest.mark.parametrize("method, distillation", [("lit", "ir_loss"),
                                                  pytest.param("l2", "l2_loss", marks=pytest.mark.slow)])
def test_with_beta_the_stargan_loss_joins_and_the_discriminator_trains(method, distillation):
    teacher, student = _pair()
    discriminator = stargan.Discriminator(strided_layers=2, **TINY)
    distiller = GeneratorDistiller(teacher, student, discriminator, method=method, beta=0.5, n_critic=1)
    distiller.compile(_adam(), _adam())
    d_before = test_case.weights_by_name(discriminator.layers)
    logs = distiller.train_on_batch(_data(4), return_dict=True)
    assert {"loss", distillation, "g_loss", "g_reconstruction", "d_loss", "d_gradient_penalty"} <= set(logs)
    assert logs["loss"] == pytest.approx((0.5 * logs["g_loss"] + 0.5 * logs[distillation]) / 2, rel=1e-4)
    d_after = test_case.weights_by_name(discriminator.layers)
    assert any(not np.array_equal(d_before[k], d_after[k]) for k in d_before)


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "pixels"}, "method must be one of"),
    ({"beta": 0.5}, "needs a discriminator"),
    ({"beta": 2.0}, "beta must be in"),
])
def test_bad_arguments_are_refused(kwargs, message):
    teacher, student = _pair()
    with pytest.raises(ValueError, match=message):
        GeneratorDistiller(teacher, student, **kwargs)


def test_a_student_whose_trunk_sections_do_not_match_is_refused():
    teacher = stargan.Generator(residual_blocks=6, sections=2, **TINY)
    one_section = stargan.Generator(residual_blocks=2, sections=1, **TINY)
    with pytest.raises(ValueError, match="same number of sections"):
        GeneratorDistiller(teacher, one_section)
    narrower = stargan.Generator(residual_blocks=2, sections=2, image_size=16, num_domains=3, conv_dim=4)
    with pytest.raises(ValueError, match=r"The stem ends in shape \(4, 4, 32\) in the teacher but \(4, 4, 16\)"):
        GeneratorDistiller(teacher, narrower)
