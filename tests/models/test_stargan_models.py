"""Tests for lit_tf.models.stargan: published sizes, shapes, LIT sections, config, bad input."""

import keras
import numpy as np
import pytest

from lit_tf.models import stargan
from lit_tf.structure import sections
from tests import test_case

TINY = {"image_size": 16, "num_domains": 3, "conv_dim": 8}


def _inputs(n=2, image_size=16, num_domains=3):
    rng = np.random.default_rng(0)
    image = rng.uniform(-1, 1, (n, image_size, image_size, 3)).astype("float32")
    label = rng.integers(0, 2, (n, num_domains)).astype("float32")
    return image, label


def test_parameter_counts_match_the_reference_at_128_px():
    # The reference prints 8,430,528 for G (6 blocks, c_dim 5); D is 44,762,048 by the same layer table.
    assert stargan.Generator().count_params() == 8_430_528
    assert stargan.Discriminator().count_params() == 44_762_048


def test_generator_maps_image_and_label_to_an_image_in_tanh_range():
    image, label = _inputs()
    generator = stargan.Generator(residual_blocks=2, sections=2, **TINY)
    out = np.asarray(generator([image, label]))
    assert out.shape == (2, 16, 16, 3) and np.all(np.abs(out) <= 1.0)
    other = np.asarray(generator([image, 1.0 - label]))
    assert not np.allclose(out, other)  # the target domain changes the output


def test_discriminator_gives_a_patch_map_and_domain_logits():
    image, _ = _inputs()
    source, domains = stargan.Discriminator(strided_layers=2, **TINY)(image)
    assert tuple(source.shape) == (2, 4, 4, 1) and tuple(domains.shape) == (2, 3)


def test_six_and_two_block_generators_are_lit_compatible_with_teacher_fed_sections():
    teacher = stargan.Generator(residual_blocks=6, sections=2, **TINY)
    student = stargan.Generator(residual_blocks=2, sections=2, **TINY)
    assert teacher.boundaries == student.boundaries == ["stem", "section_1", "section_2"]
    sections.check_compatible(teacher, student, teacher.boundaries, student.boundaries)
    *features, _ = sections.boundary_model(teacher, teacher.boundaries)(list(_inputs()))
    assert [tuple(f.shape) for f in features] == [(2, 4, 4, 32)] * 3
    for k, section in enumerate(sections.cut(student, student.boundaries)):
        assert tuple(section(features[k]).shape) == (2, 4, 4, 32)  # fed the teacher's activation
    assert teacher.count_params() / student.count_params() > 1.5


def test_a_student_of_another_width_is_refused_naming_the_stem():
    teacher = stargan.Generator(residual_blocks=6, sections=2, **TINY)
    student = stargan.Generator(residual_blocks=2, sections=2, **{**TINY, "conv_dim": 16})
    with pytest.raises(ValueError, match=r"The stem ends in shape \(4, 4, 32\) in the teacher but \(4, 4, 64\)"):
        sections.check_compatible(teacher, student, teacher.boundaries, student.boundaries)


@pytest.mark.parametrize("build, message", [
    (lambda: stargan.Generator(image_size=18), "image_size must be a positive multiple of 4"),
    (lambda: stargan.Generator(residual_blocks=6, sections=4), "residual_blocks must be a positive multiple"),
    (lambda: stargan.Discriminator(image_size=16, strided_layers=6), "multiple of 64"),
])
def test_bad_sizes_say_what_is_valid(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_config_round_trips_and_a_saved_generator_reloads(tmp_path):
    generator = stargan.Generator(residual_blocks=2, sections=1, **TINY)
    test_case.assert_config_round_trip(generator)
    test_case.assert_config_round_trip(stargan.Discriminator(strided_layers=2, **TINY))
    generator.save(tmp_path / "g.keras")
    inputs = list(_inputs())
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "g.keras")(inputs), generator(inputs), atol=1e-6)


def test_strided_and_transposed_convolutions_pad_as_pytorchs_padding_one():
    """StarGAN's 4x4 stride-2 layers with Keras "same" pad 1 on every side, as PyTorch's padding=1."""
    import tensorflow as tf

    image, label = _inputs()
    generator = stargan.Generator(residual_blocks=2, sections=2, **TINY)
    probe = keras.Model(generator.inputs, [generator.get_layer(name).input for name in ("down1_conv", "up1_conv")]
                        + [generator.get_layer(name).output for name in ("down1_conv", "up1_conv")])
    down_in, up_in, down_out, up_out = probe([image, label])
    down, up = generator.get_layer("down1_conv").kernel.numpy(), generator.get_layer("up1_conv").kernel.numpy()
    padded = tf.pad(down_in, [[0, 0], [1, 1], [1, 1], [0, 0]])
    np.testing.assert_allclose(down_out, tf.nn.conv2d(padded, down, 2, "VALID"), atol=1e-5)
    # PyTorch's ConvTranspose2d(4, 2, padding=1): the full transposed convolution, one row/column off each side.
    n, h, w, _ = up_in.shape
    full = tf.nn.conv2d_transpose(up_in, up, [n, 2 * h + 2, 2 * w + 2, up.shape[2]], 2, "VALID")
    np.testing.assert_allclose(up_out, full[:, 1:-1, 1:-1], atol=1e-5)
