"""The LIT distiller: the first stage of LIT (Koratana et al. 2019).

Each step, the frozen teacher gives its boundary activations f0..fK and its
logits in one forward pass. Student section k is fed the teacher's f(k-1) and
pulled to f(k) by the IR loss; the full student also runs on the input and
gets the KD loss. The total is `(beta * KD + (1 - beta) * sum_k IR_k) / 2`,
and only the student's section weights train: its stem and head keep their
weights and run in inference mode (BatchNorm on moving statistics), as the
reference code's `student.eval()` then `sections.train()`. The student's own
`trainable` flags are left as they were: the stem and head are frozen only
while the training step is traced. When the student's stem is a copy of the
teacher's, section 1 runs once for both losses (`shares_first_section`).

Example:

>>> import keras, numpy as np
>>> from lit_tf import LITDistiller
>>> def mlp(blocks):
...     inputs = keras.Input((8,))
...     x = keras.layers.Dense(8, name="stem")(inputs)
...     for i in range(blocks):
...         x = keras.layers.Dense(8, name=f"section_1_{i}")(x)
...     x = keras.layers.Identity(name="section_1")(x)
...     return keras.Model(inputs, keras.layers.Dense(3, name="head")(x))
>>> distiller = LITDistiller(mlp(4), mlp(1), boundaries=["stem", "section_1"])
>>> distiller.compile(optimizer="sgd", metrics=["accuracy"])
>>> x, y = np.random.rand(16, 8), np.random.randint(0, 3, 16)
>>> history = distiller.fit(x, y, epochs=1, verbose=0)
>>> sorted(history.history)
['accuracy', 'ir_loss', 'ir_loss_1', 'kd_loss', 'loss']
"""

import contextlib

import keras

from lit_tf import losses
from lit_tf import sections
from lit_tf import settings
from lit_tf.choices import check_choice

SECTION_BN_UPDATES = ("full_pass", "both_passes")


class SectionLosses(keras.layers.Layer):
    """LIT's IR losses: the student's sections fed the frozen teacher's boundary activations.

    Called on a model input, it runs the teacher once for its boundary
    activations f0..fK and output, feeds f(k-1) (plus optional Gaussian noise
    while training) to student section k and compares the result with f(k).
    The teacher is frozen here. Shared by `LITDistiller` and the StarGAN
    generator distiller.

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
        # Each model is cut once, here; LITDistiller and `compress` use these cuts.
        self.teacher_cut = sections.Sections(teacher, self.boundaries)
        try:
            self.student_cut = sections.Sections(student, self.student_boundaries)
        except ValueError as error:
            if student_boundaries is not None or "has no layer" not in str(error):
                raise
            raise ValueError(f"{error} The student is cut at the teacher's boundary names; if its layers are "
                             "named otherwise, pass student_boundaries=[...] (its own K+1 names).") from None
        self.teacher_cut.check_compatible(self.student_cut)
        sections.freeze(teacher)
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

    def ir_loss(self, features, k, training):
        """Section k's IR loss (from 0): fed the teacher's f(k), compared with f(k+1)."""
        section = self.student_sections[k]
        return losses.ir_loss(features[k + 1],
                              self._run_section(section, self._section_input(features[k], training), training))

    def call(self, inputs, training=None):
        features, teacher_output = self.teacher_features(inputs)
        ir_losses = [self.ir_loss(features, k, training) for k in range(len(self.student_sections))]
        return ir_losses, teacher_output


@keras.saving.register_keras_serializable(package="lit_tf")
class LITDistiller(keras.Model):
    """Trains a student's sections on the teacher's intermediate representations.

    `call()` is the student; `compile(optimizer, metrics=...)`, `fit` and
    `evaluate` work as for any Keras model. Logs `loss`, `kd_loss`, `ir_loss`
    and `ir_loss_1` .. `ir_loss_K`.

    Args:
        teacher: `keras.Model`, functional, trained; frozen here.
        student: `keras.Model`, functional; its stem and head are frozen here.
        boundaries: list of str, the teacher's K+1 boundary layer names.
        student_boundaries: list of str, or `None` for the same names.
        beta: float in [0, 1], the weight of the KD loss against the IR loss.
        temperature: float > 0, the KD temperature.
        alpha: float in [0, 1], the weight of the hard labels within KD.
        noise_stddev: float >= 0, Gaussian noise added to the teacher
            activations fed to the student's sections while training.
        section_bn_updates: "full_pass" or "both_passes" (the reference's); which
            passes update the sections' BatchNorm moving statistics (see `SectionLosses`).
        weight_decay: float >= 0, coupled L2 on the trained weights (the reference's 1e-4).
        seed: int or `None`, for the noise.
    """

    def __init__(
        self,
        teacher,
        student,
        boundaries,
        student_boundaries=None,
        beta=settings.LIT.beta,
        temperature=settings.KD.temperature,
        alpha=settings.KD.alpha,
        noise_stddev=settings.LIT.noise_stddev,
        weight_decay=settings.SGD.weight_decay,
        seed=None,
        section_bn_updates="full_pass",
        name="lit_distiller",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"beta must be in [0, 1]. Received: beta={beta}")
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0. Received: temperature={temperature}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0. Received: weight_decay={weight_decay}")
        self.section_losses = SectionLosses(teacher, student, boundaries, student_boundaries, noise_stddev, seed,
                                            section_bn_updates)
        boundaries, student_boundaries = self.section_losses.boundaries, self.section_losses.student_boundaries

        self.teacher = teacher
        self.student = student
        self.boundaries = boundaries
        self.student_boundaries = student_boundaries
        self.beta = beta
        self.temperature = temperature
        self.alpha = alpha
        self.noise_stddev = noise_stddev
        self.weight_decay = weight_decay
        self.seed = seed
        self.section_bn_updates = section_bn_updates

        student_cut = self.section_losses.student_cut
        self._stem_and_head = student_cut.stem_layers + student_cut.head_layers
        try:
            self._student_head = student_cut.head
        except ValueError:
            self._student_head = None  # the head needs more than the last boundary: no shared pass
        self._shared_first_section = False  # decided when the training function is made
        self._in_train_step = False
        self._step_losses = None  # (logits, (ir_losses, teacher_logits)) of the step's shared pass
        self._kd_loss = losses.KDLoss(temperature, alpha)

        self.kd_loss_tracker = keras.metrics.Mean(name="kd_loss")
        self.ir_loss_tracker = keras.metrics.Mean(name="ir_loss")
        self.ir_loss_trackers = [
            keras.metrics.Mean(name=f"ir_loss_{k + 1}")
            for k in range(len(boundaries) - 1)
        ]
        self.built = True  # teacher and student are built functional models

    def get_config(self):
        return {
            **super().get_config(),
            "teacher": keras.saving.serialize_keras_object(self.teacher),
            "student": keras.saving.serialize_keras_object(self.student),
            "boundaries": list(self.boundaries),  # plain lists: Keras tracks the attributes
            "student_boundaries": list(self.student_boundaries),
            "beta": self.beta,
            "temperature": self.temperature,
            "alpha": self.alpha,
            "noise_stddev": self.noise_stddev,
            "weight_decay": self.weight_decay,
            "seed": self.seed,
            "section_bn_updates": self.section_bn_updates,
        }

    @classmethod
    def from_config(cls, config):
        return sections.distiller_from_config(cls, config)

    def build(self, input_shape=None):
        # Teacher and student are functional models, built when made: nothing to create here
        # (without this method Keras warns that build() "was called" on unbuilt state).
        self.built = True

    @property
    def trainable_weights(self):
        """The student's section weights: all that the LIT stage trains."""
        seen, weights = set(), []
        for section in self.section_losses.student_sections:
            for weight in section.trainable_weights:
                if id(weight) not in seen:
                    seen.add(id(weight))
                    weights.append(weight)
        return weights

    @property
    def trainable_variables(self):
        return self.trainable_weights

    def _not_trained(self, variables):
        trained = {id(weight) for weight in self.trainable_weights}
        return [variable for variable in variables if id(variable) not in trained]

    @property
    def non_trainable_weights(self):
        """Every other weight (teacher, student stem and head, statistics), whatever the flags.

        Keeps the split fixed while `stem_and_head_frozen` flips the flags inside a step: the
        JAX trainer passes the variables in as two lists made before the step.
        """
        return self._not_trained(self.weights)

    @property
    def non_trainable_variables(self):
        return self._not_trained(self.variables)

    @contextlib.contextmanager
    def stem_and_head_frozen(self):
        """Within it, the student's stem and head are frozen (BatchNorm in inference mode), as
        in a LIT step; the user's `trainable` flags come back after. `train_step` uses it while
        it is traced, so the student is left as it was.
        """
        flags = [layer.trainable for layer in self._stem_and_head]
        for layer in self._stem_and_head:
            sections.set_trainable(layer, False)
        try:
            yield
        finally:
            for layer, flag in zip(self._stem_and_head, flags):
                sections.set_trainable(layer, flag)

    def shares_first_section(self):
        """Whether a training step can run the student's first section once for both losses.

        In a LIT step the student's stem is frozen, so when it is a copy of the teacher's
        (`Sections.same_stem`) its output *is* the teacher's f0: the teacher-fed pass of
        section 1 and the full pass compute the same tensor. The step then computes it once
        and both the IR loss and the rest of the student flow through it: the same loss and
        gradients, one of the 2K section passes fewer. It needs no noise on the teacher's
        activations, `section_bn_updates="full_pass"` (the reference's "both_passes" moves the
        BatchNorm statistics twice) and a head cut at the last boundary. Checked each time the
        training function is made (`fit`, `train_on_batch`), from the weights then.
        """
        return (self.noise_stddev == 0 and self.section_bn_updates == "full_pass"
                and self._student_head is not None
                and self.section_losses.student_cut.same_stem(self.section_losses.teacher_cut))

    def make_train_function(self, force=False):
        shared = self.shares_first_section()
        if shared != self._shared_first_section:
            self._shared_first_section, force = shared, True
        return super().make_train_function(force=force)

    def train_step(self, *args):
        # `(data)` on TensorFlow and torch, `(state, data)` on JAX.
        with self.stem_and_head_frozen():
            self._in_train_step = True
            try:
                return super().train_step(*args)
            finally:
                self._in_train_step = False

    def call(self, inputs, training=None):
        if training and self._in_train_step and self._shared_first_section:
            logits, step_losses = self._shared_pass(inputs)
            self._step_losses = (logits, step_losses)
            return logits
        return self.student(inputs, training=training)

    def _shared_pass(self, inputs):
        """The student's logits and `(ir_losses, teacher_logits)`, section 1 computed once.

        The student runs from the teacher's f0 (equal to its own stem's output, see
        `shares_first_section`); its section 1 output serves the first IR loss as well.
        """
        features, teacher_logits = self.section_losses.teacher_features(inputs)
        first = self.section_losses.student_sections[0](features[0], training=True)
        ir_losses = [losses.ir_loss(features[1], first)]
        ir_losses += [self.section_losses.ir_loss(features, k, True)
                      for k in range(1, len(self.section_losses.student_sections))]
        outputs = first
        for section in self.section_losses.student_sections[1:]:
            outputs = section(outputs, training=True)
        return self._student_head(outputs, training=True), (ir_losses, teacher_logits)

    def compile(self, optimizer="sgd", loss=None, metrics=None, **kwargs):
        """Keras' `compile`; LIT's loss is its own, so `loss` (and `loss_weights`) are refused."""
        if loss is not None or kwargs.get("loss_weights") is not None:
            raise ValueError(
                "LITDistiller computes its own loss, (beta * KD + (1 - beta) * sum of IR losses) / 2: set beta, "
                "temperature and alpha when you build it, and compile with an optimizer and metrics only. "
                f"Received: loss={loss!r}, loss_weights={kwargs.get('loss_weights')!r}")
        super().compile(optimizer=optimizer, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        # Keras 3.15 skips compiling a loaded model whose class overrides compile(); this one can.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:  # so the file's optimizer state has variables to load into
            self.optimizer.build(self.trainable_variables)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if sample_weight is not None:
            raise ValueError("LITDistiller weighs every sample the same: fit without sample_weight or "
                             "class_weight (or drop the third element of (x, y, sample_weight) batches).")
        if y_pred is None:
            y_pred = self(x, training=training)
        shared, self._step_losses = self._step_losses, None
        if training and shared is not None and shared[0] is y_pred:
            ir_losses, teacher_logits = shared[1]  # from this step's shared pass (`call`)
        else:
            ir_losses, teacher_logits = self.section_losses(x, training=training)
        ir_loss = keras.ops.sum(keras.ops.stack(ir_losses))
        kd_loss = 0.0
        if self.beta > 0:
            if y is None and self.alpha > 0:
                raise ValueError(
                    f"LITDistiller needs labels for the hard-label part of the KD "
                    f"loss (alpha={self.alpha}): pass (x, y), or set alpha=0."
                )
            kd_loss = self._kd_loss(y, teacher_logits, y_pred)
        total = (self.beta * kd_loss + (1.0 - self.beta) * ir_loss) / 2.0
        if training:
            total = total + losses.l2_penalty(self.trainable_weights, self.weight_decay)

        # The Keras losses above are divided by the replica count; log them whole.
        replicas = losses.replica_count()
        self.kd_loss_tracker.update_state(kd_loss * replicas)
        self.ir_loss_tracker.update_state(ir_loss * replicas)
        for tracker, value in zip(self.ir_loss_trackers, ir_losses):
            tracker.update_state(value * replicas)
        return total
