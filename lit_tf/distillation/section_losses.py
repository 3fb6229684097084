"""LIT's IR losses: a student's sections fed the frozen teacher's boundary activations.

Shared by `lit_tf.distillation.lit.LITDistiller` (CIFAR) and `lit_tf.stargan.distill.GeneratorDistiller`
(StarGAN). Each model is cut once, here, and the distillers reuse the cuts.

Example:

>>> import numpy as np
>>> from lit_tf import models
>>> from lit_tf.distillation.section_losses import SectionLosses
>>> teacher, student = models.get("resnet20"), models.get("resnet8")
>>> ir_losses, teacher_logits = SectionLosses(teacher, student, teacher.boundaries)(np.zeros((2, 32, 32, 3)))
>>> len(ir_losses), tuple(teacher_logits.shape)  # one IR loss a section
(3, (2, 10))
"""

import keras

from lit_tf.distillation import losses
from lit_tf.options import SECTION_BN_UPDATES
from lit_tf.options import check_choice
from lit_tf.structure import sections
from lit_tf.structure import trainability


class SectionLosses(keras.layers.Layer):
    """LIT's IR losses: the student's sections fed the frozen teacher's boundary activations.

    Called on a model input, it runs the teacher once for its boundary
    activations f0..fK and output, feeds f(k-1) (plus optional Gaussian noise
    while training) to student section k and compares the result with f(k).
    The teacher is frozen here.

    Args:
        teacher, student: functional `keras.Model`s.
        boundaries: list of str, the teacher's K+1 boundary layer names.
        student_boundaries: list of str, or `None` for the same names.
        noise_stddev: float >= 0. seed: int or `None`, for the noise.
        section_bn_updates: "full_pass" (default): the teacher-fed section calls
            normalise with their batch statistics, as in training, but leave the
            BatchNorm moving statistics to the student's own full pass, so the
            evaluated student uses statistics of what it computes on images;
            "both_passes": they update them too, as the LIT reference code does.
            The gradients are the same either way.

    Call returns `(ir_losses, teacher_output)`: a list of K scalars and the
    teacher's output, both without gradient to the teacher.
    """

    def __init__(self, teacher, student, boundaries, student_boundaries=None, noise_stddev=0.0, seed=None,
                 section_bn_updates="full_pass", **kwargs):
        super().__init__(**kwargs)
        if noise_stddev < 0:
            raise ValueError(f"noise_stddev must be >= 0. Received: noise_stddev={noise_stddev}")
        check_choice("section_bn_updates", section_bn_updates, SECTION_BN_UPDATES)
        self.section_bn_updates = section_bn_updates
        self.boundaries = list(boundaries)
        self.student_boundaries = list(student_boundaries or boundaries)
        self.teacher_cut = sections.Sections.of(teacher, self.boundaries)
        try:
            self.student_cut = sections.Sections.of(student, self.student_boundaries)
        except ValueError as error:
            if student_boundaries is not None or "has no layer" not in str(error):
                raise
            raise ValueError(f"{error} The student is cut at the teacher's boundary names; if its layers are "
                             "named otherwise, pass student_boundaries=[...] (its own K+1 names).") from None
        self.teacher_cut.check_compatible(self.student_cut)
        trainability.freeze(teacher)
        self.noise_stddev = noise_stddev
        self.teacher_boundaries = self.teacher_cut.features
        self.student_sections = self.student_cut.sections
        self._noise_seed = keras.random.SeedGenerator(seed)

    def _section_input(self, activation, training):
        if not (training and self.noise_stddev):
            return activation
        noise = keras.random.normal(
            keras.ops.shape(activation), stddev=self.noise_stddev, seed=self._noise_seed
        )
        return activation + noise

    def _run_section(self, section, inputs, training):
        if not training or self.section_bn_updates == "both_passes":
            return section(inputs, training=training)
        # The same computation, with the new moving statistics it returns dropped.
        outputs, _ = section.stateless_call([v.value for v in section.trainable_variables],
                                            [v.value for v in section.non_trainable_variables],
                                            inputs, training=True)
        return outputs

    def teacher_features(self, inputs):
        """The teacher's boundary activations `[f0, ..., fK]` and output, without gradient."""
        *features, teacher_output = self.teacher_boundaries(inputs, training=False)
        return [keras.ops.stop_gradient(f) for f in features], keras.ops.stop_gradient(teacher_output)

    def ir_losses(self, features, training, first=0):
        """The IR losses of sections `first`..K-1 (from 0): section k fed f(k), compared with f(k+1)."""
        return [losses.ir_loss(features[k + 1], self._run_section(self.student_sections[k],
                                                                  self._section_input(features[k], training),
                                                                  training))
                for k in range(first, len(self.student_sections))]

    def call(self, inputs, training=None):
        features, teacher_output = self.teacher_features(inputs)
        return self.ir_losses(features, training), teacher_output
