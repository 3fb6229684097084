"""Distil a StarGAN generator into a shallower one: LIT on the trunk sections, or the L2 baseline.

`GeneratorDistiller(teacher, student)` trains the student generator from a frozen teacher
generator, as the paper's StarGAN experiment (Koratana et al. 2019, section 5.3):

- `method="lit"`: the student's trunk sections are fed the teacher's trunk activations and
  pulled to the next ones (`lit_tf.distillation.section_losses.SectionLosses`, the IR losses of the CIFAR
  distiller); the student's stem (down-sampling) and head (up-sampling), copies of the
  teacher's, keep their weights (only the sections train; the student's flags are left as they were).
- `method="l2"`: the paper's L2 baseline, only the final image is matched,
  `mean((G_s(x, c) - G_t(x, c))^2)`; the whole student trains.

`beta = 0` (the reference) trains on the distillation loss alone, as the reference's
`lit_train` backpropagates its IR loss (`tests/stargan/test_reference_stargan.py`), and needs no
discriminator: every step trains the student. With `beta > 0` StarGAN's own generator loss
(adversarial, domain classification, reconstruction) on the full student is added,
`(beta * G + (1 - beta) * distillation) / 2` as LIT weighs KD against the IR losses, and the
discriminator trains every step as in `StarGAN`.

Example: a LIT step on tiny generators (6 blocks -> 2, two sections):

>>> import keras, numpy as np
>>> from lit_tf.stargan.distill import GeneratorDistiller
>>> from lit_tf.models import stargan
>>> teacher = stargan.Generator(16, 3, 8, residual_blocks=6, sections=2)
>>> student = stargan.Generator(16, 3, 8, residual_blocks=2, sections=2)
>>> distiller = GeneratorDistiller(teacher, student)
>>> distiller.compile(keras.optimizers.Adam(1e-4, 0.5, 0.999))
>>> rng = np.random.default_rng(0)
>>> image = rng.uniform(-1, 1, (4, 16, 16, 3)).astype("float32")
>>> label = rng.integers(0, 2, (4, 3)).astype("float32")
>>> sorted(distiller.train_on_batch((image, label, label[::-1]), return_dict=True))
['ir_loss', 'ir_loss_1', 'ir_loss_2', 'loss']
"""

import keras

from lit_tf.distillation.section_losses import SectionLosses
from lit_tf.options import check_choice
from lit_tf.stargan.stargan_training import StarGAN
from lit_tf.structure import trainability

METHODS = ("lit", "l2")


class GeneratorDistiller(StarGAN):
    """Trains a student StarGAN generator from a frozen teacher generator.

    `call()` is the student. `compile(g_optimizer, d_optimizer=None)`; fitted on
    `(image, label, target)` batches like `StarGAN`. Logs `loss` (the generator
    objective), `ir_loss` and `ir_loss_1..K` (lit) or `l2_loss` (l2), and with
    `beta > 0` StarGAN's `g_*` and `d_*` losses.

    Args:
        teacher: trained `keras.Model` `[image, label] -> image`; frozen here.
        student: `keras.Model` of the same signature, e.g. fewer residual blocks.
        discriminator: `keras.Model` or `None`; required when `beta > 0`.
        method: "lit" or "l2".
        boundaries: the teacher's boundary layer names (default `teacher.boundaries`).
        student_boundaries: the student's (default `student.boundaries`, else `boundaries`).
        beta: float in [0, 1], the weight of StarGAN's generator loss (0 in the reference).
        noise_stddev: float >= 0, Gaussian noise on the teacher activations fed to sections.
        n_critic: discriminator steps per generator step when `beta > 0`.
        seed: int or `None`, for the noise.
    """

    def __init__(self, teacher, student, discriminator=None, method="lit", boundaries=None,
                 student_boundaries=None, beta=0.0, noise_stddev=0.0, n_critic=5, seed=None, **kwargs):
        check_choice("method", method, METHODS)
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"beta must be in [0, 1]. Received: beta={beta}")
        if beta > 0 and discriminator is None:
            raise ValueError(f"beta={beta} adds StarGAN's generator loss, which needs a discriminator: pass one "
                             "(e.g. the teacher's), or set beta=0 to distil alone.")
        boundaries = list(boundaries or getattr(teacher, "boundaries", None) or [])
        student_boundaries = list(student_boundaries or getattr(student, "boundaries", None) or boundaries)
        distill_logs = (["ir_loss"] + [f"ir_loss_{k + 1}" for k in range(len(boundaries) - 1)]
                        if method == "lit" else ["l2_loss"])
        self.generator_logs = ("loss", *distill_logs, *(StarGAN.generator_logs if beta > 0 else ()))
        super().__init__(student, discriminator if beta > 0 else None, n_critic=n_critic, **kwargs)
        self.teacher = teacher
        self.method = method
        self.beta = beta
        if method == "lit":
            self.section_losses = SectionLosses(teacher, student, boundaries, student_boundaries, noise_stddev, seed)
        else:
            trainability.freeze(teacher)
            teacher_shape, student_shape = tuple(teacher.outputs[0].shape), tuple(student.outputs[0].shape)
            if teacher_shape != student_shape:
                raise ValueError(f"The L2 student must output the teacher's image shape {teacher_shape}. "
                                 f"Received: student output shape {student_shape}")

    @property
    def student(self):
        return self.generator

    @property
    def trained_generator_weights(self):
        """LIT trains the student's sections (its stem and head keep the teacher's weights); L2 all of it."""
        if self.method != "lit":
            return self.generator.trainable_variables
        return self.section_losses.student_cut.trainable_section_weights

    def _distillation_loss(self, image, target, fake):
        inputs = [image, target]
        if self.method == "lit":
            ir_losses, _ = self.section_losses(inputs, training=True)
            ir_loss = keras.ops.sum(keras.ops.stack(ir_losses))
            return ir_loss, {"ir_loss": ir_loss, **{f"ir_loss_{k + 1}": v for k, v in enumerate(ir_losses)}}
        teacher_image = keras.ops.stop_gradient(self.teacher(inputs, training=False))
        l2_loss = keras.ops.mean(keras.ops.square(fake - teacher_image))
        return l2_loss, {"l2_loss": l2_loss}

    def generator_objective(self, image, label, target):
        # The student's image, computed once for the L2 loss and StarGAN's (LIT alone needs none).
        needs_image = self.method == "l2" or self.beta > 0
        fake = self.generator([image, target], training=True) if needs_image else None
        distillation, parts = self._distillation_loss(image, target, fake)
        if self.beta == 0:  # the reference's objective: the IR loss itself
            return distillation, {"loss": distillation, **parts}
        stargan_loss, stargan_parts = self.stargan_generator_loss(image, label, target, fake)
        total = (self.beta * stargan_loss + (1.0 - self.beta) * distillation) / 2.0
        return total, {"loss": total, **parts, **stargan_parts}
