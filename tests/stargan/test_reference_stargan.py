"""lit_tf's StarGAN LIT against the LIT reference code itself (lit-code's `stargan/`), on a fixed batch.

`../shared/reference/lit_code_stargan.npz` holds lit-code's 6-block teacher generator and 2-block
student (its names, and the teacher again under the official StarGAN names), a batch, and what
lit-code computed: f0 and f1, the teacher's image, the student's trunk output, the IR loss, its
gradients and the trunk after two PyTorch Adam steps (its README gives the settings). Each is
reproduced here in float32 within the README's tolerances (`max|ours - ref| / max|ref|`), the
two steps through `GeneratorDistiller` with `TorchAdam`.
"""

import os

import keras
import numpy as np
import pytest

from lit_tf.models import load_torch_weights
from lit_tf.models import stargan
from lit_tf.models import torch_state_dict
from lit_tf.models.torch_weights import torch_layout
from lit_tf.stargan.distill import GeneratorDistiller
from lit_tf.structure import sections
from lit_tf.training.optimizers import TorchAdam
from tests.distillation.test_reference import _error  # max|ours - ref| / max|ref|, as the fixtures' READMEs define it
from tests.distillation.test_reference import _state

REFERENCE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "reference", "lit_code_stargan.npz")
pytestmark = pytest.mark.skipif(not os.path.exists(REFERENCE) and not os.environ.get("CI"),
                                reason="needs ../shared/reference (CI fails instead)")
FORWARD, GRADIENT, PARAMETERS = 1e-5, 1e-4, 1e-5  # the fixture README's float32 tolerances
BOUNDARIES = ["stem", "section_1"]  # the reference's one section: the whole trunk


@pytest.fixture(scope="module")
def ref():
    with np.load(REFERENCE) as archive:
        return {name: archive[name] for name in archive.files}


def _nhwc(array):
    return np.asarray(array).transpose(0, 2, 3, 1)


def _generator(blocks):
    return stargan.Generator(image_size=32, num_domains=5, conv_dim=8, residual_blocks=blocks, sections=1)


def _models(ref):
    teacher, student = _generator(6), _generator(2)
    load_torch_weights(teacher, _state(ref, "teacher/"))
    load_torch_weights(student, _state(ref, "student/"))
    return teacher, student


def _batch(ref):
    return _nhwc(ref["x_nchw"]).astype("float32"), ref["c_trg"].astype("float32")


def test_both_namings_load_the_same_teacher_and_save_back_to_them(ref):
    lit_code, official = _generator(6), _generator(6)
    load_torch_weights(lit_code, _state(ref, "teacher/"))
    load_torch_weights(official, _state(ref, "teacher_official/"))
    for a, b in zip(lit_code.get_weights(), official.get_weights()):
        np.testing.assert_array_equal(a, b)
    saved = torch_state_dict(official)
    expected = {k: v for k, v in _state(ref, "teacher_official/").items() if not k.endswith(("running_mean",
                                                                                            "running_var"))}
    assert sorted(saved) == sorted(expected)
    assert max(_error(saved[name], expected[name]) for name in saved) < 1e-7  # float32 of float64


def test_teacher_image_boundaries_student_trunk_and_ir_loss(ref):
    teacher, student = _models(ref)
    x, c = _batch(ref)
    f0, f1, image = sections.Sections(teacher, BOUNDARIES).features([x, c], training=True)
    assert _error(f0, _nhwc(ref["f0"])) < FORWARD
    assert _error(f1, _nhwc(ref["f1"])) < FORWARD
    assert _error(image, _nhwc(ref["teacher_image"])) < FORWARD
    (trunk,) = sections.cut(student, BOUNDARIES)
    out = trunk(keras.ops.convert_to_tensor(_nhwc(ref["f0"]).astype("float32")), training=True)
    assert _error(out, _nhwc(ref["student_trunk_out"])) < FORWARD
    assert _error(np.mean(np.square(np.asarray(out) - _nhwc(ref["f1"]))), ref["ir_loss"]) < FORWARD


def test_two_torch_adam_steps_of_the_generator_distiller_give_the_reference_trunk(ref):
    import tensorflow as tf

    teacher, student = _models(ref)
    x, c = _batch(ref)
    layout = torch_layout(student, "lit_code")
    trunk = {name: variable for name, (variable, _) in layout.items() if name.startswith("bottleneck_section1.")}
    distiller = GeneratorDistiller(teacher, student, boundaries=BOUNDARIES)
    with tf.GradientTape() as tape:
        ir_losses, _ = distiller.section_losses([x, c], training=True)
    gradients = dict(zip(trunk, tape.gradient(ir_losses[0], list(trunk.values()))))
    assert max(_error(_to_torch(gradients[name]), ref[f"grad/{name}"]) for name in trunk) < GRADIENT

    distiller = GeneratorDistiller(*_models(ref), boundaries=BOUNDARIES)
    distiller.compile(TorchAdam(1e-4, 0.5, 0.999))
    layout = torch_layout(distiller.student, "lit_code")
    for step in (1, 2):
        logs = distiller.train_on_batch((x, c, c), return_dict=True)
        if step == 1:
            assert _error(logs["ir_loss"], ref["ir_loss"]) < FORWARD and logs["loss"] == logs["ir_loss"]
        errors = {name: _error(_to_torch(variable), ref[f"after_step{step}/{name}"])
                  for name, (variable, _) in layout.items() if name.startswith("bottleneck_section1.")}
        assert max(errors.values()) < PARAMETERS, (step, max(errors, key=errors.get))
    image = distiller.student([x, c], training=True)
    assert _error(image, _nhwc(ref["student_image_after_step2"])) < FORWARD


def _to_torch(value):
    value = np.asarray(value)
    return value.transpose(3, 2, 0, 1) if value.ndim == 4 else value
