"""The LIT distiller: the first stage of LIT (Koratana et al. 2019).

Each step, the frozen teacher gives its boundary activations f0..fK and its
logits in one forward pass. Student section k is fed the teacher's f(k-1) and
pulled to f(k) by the IR loss; the full student also runs on the input and
gets the KD loss. The total is `(beta * KD + (1 - beta) * sum_k IR_k) / 2`,
and only the student's section weights train: its stem and head keep their
weights and are called with `training=False` (BatchNorm on moving statistics),
as the reference code's `student.eval()` then `sections.train()`. One function,
`LITDistiller.lit_pass`, computes all of a step's forward pass, and no step
changes a `trainable` flag (the student's are left as they were). When the
student's stem is a copy of the teacher's, section 1 runs once for both losses
(`shares_first_section`).

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

import collections
import contextlib

import keras

from lit_tf.distillation import distiller_config
from lit_tf.distillation import losses
from lit_tf.distillation.section_losses import SectionLosses
from lit_tf.structure import trainability
from lit_tf.training import optimizers

LITPass = collections.namedtuple("LITPass", ["logits", "ir_losses", "teacher_logits"])
LITPass.__doc__ = """A LIT step's forward pass: the student's logits, the K IR losses, the teacher's logits."""


@keras.saving.register_keras_serializable(package="lit_tf")
class LITDistiller(keras.Model):
    """Trains a student's sections on the teacher's intermediate representations.

    `call()` is the student; `compile(optimizer, metrics=...)`, `fit` and
    `evaluate` work as for any Keras model. Logs `loss`, `kd_loss`, `ir_loss`
    and `ir_loss_1` .. `ir_loss_K`.

    A training step is `lit_pass` (the teacher's boundaries and logits, the
    teacher-fed sections' IR losses, the student's logits with its stem and head
    called with `training=False`), then `compute_loss` on its result; metrics
    see the logits.

    Args:
        teacher: `keras.Model`, functional, trained; frozen here.
        student: `keras.Model`, functional; only its sections train here.
        boundaries: list of str, the teacher's K+1 boundary layer names.
        student_boundaries: list of str, or `None` for the same names.
        beta: float in [0, 1], the weight of the KD loss against the IR loss.
        temperature: float > 0, the KD temperature.
        alpha: float in [0, 1], the weight of the hard labels within KD.
        noise_stddev: float >= 0, Gaussian noise added to the teacher
            activations fed to the student's sections while training.
        section_bn_updates: "full_pass" or "both_passes" (the reference's); which
            passes update the sections' BatchNorm moving statistics (see `SectionLosses`).
        weight_decay: float >= 0, PyTorch's coupled weight decay of the trained weights (the
            reference's 1e-4), which `compile` sets on the optimizer (see
            `lit_tf.training.optimizers.with_coupled_weight_decay`); the logged `loss` includes its L2 term.
        seed: int or `None`, for the noise.
    """

    def __init__(
        self,
        teacher,
        student,
        boundaries,
        student_boundaries=None,
        beta=0.75,
        temperature=6.0,
        alpha=0.95,
        noise_stddev=0.0,
        weight_decay=1e-4,
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
        self._student_stem = student_cut.stem
        try:
            self._student_head = student_cut.head
        except ValueError as error:
            raise ValueError(f"{error} LIT runs the student's head, frozen, on its last section's output: "
                             "choose a last boundary that every path to the output passes through.") from None
        self._stem_and_head = student_cut.stem_layers + student_cut.head_layers
        self._shared_first_section = False  # decided when the training function is made
        self._tracing_train_step = False  # `call` gives the whole `LITPass` to Keras' train_step
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
        return distiller_config.from_config(cls, config)

    def build(self, input_shape=None):
        # Teacher and student are functional models, built when made: nothing to create here
        # (without this method Keras warns that build() "was called" on unbuilt state).
        self.built = True

    @property
    def trainable_weights(self):
        """The student's section weights: all that the LIT stage trains."""
        return self.section_losses.student_cut.trainable_section_weights

    @property
    def trainable_variables(self):
        return self.trainable_weights

    def _not_trained(self, variables):
        trained = {id(weight) for weight in self.trainable_weights}
        return [variable for variable in variables if id(variable) not in trained]

    @property
    def non_trainable_weights(self):
        """Every other weight (teacher, student stem and head, statistics), whatever the flags."""
        return self._not_trained(self.weights)

    @property
    def non_trainable_variables(self):
        return self._not_trained(self.variables)

    @contextlib.contextmanager
    def stem_and_head_frozen(self):
        """Within it, the student's own graph runs its stem and head as a LIT step does.

        For code that calls `distiller.student` itself: the stem and head layers are frozen
        (BatchNorm on moving statistics) and the user's `trainable` flags come back after.
        The distiller's own step never needs it: `lit_pass` calls them with `training=False`.
        """
        flags = [layer.trainable for layer in self._stem_and_head]
        for layer in self._stem_and_head:
            trainability.set_trainable(layer, False)
        try:
            yield
        finally:
            for layer, flag in zip(self._stem_and_head, flags):
                trainability.set_trainable(layer, flag)

    def shares_first_section(self):
        """Whether a training step can run the student's first section once for both losses.

        In a LIT step the student's stem is frozen, so when it is a copy of the teacher's
        (`Sections.same_stem`) its output *is* the teacher's f0: the teacher-fed pass of
        section 1 and the full pass compute the same tensor. The step then computes it once
        and both the IR loss and the rest of the student flow through it: the same loss and
        gradients, one of the 2K section passes fewer. It needs no noise on the teacher's
        activations and `section_bn_updates="full_pass"` (the reference's "both_passes" moves
        the BatchNorm statistics twice). Checked each time the training function is made
        (`fit`, `train_on_batch`), from the weights then.
        """
        return (self.noise_stddev == 0 and self.section_bn_updates == "full_pass"
                and self.section_losses.student_cut.same_stem(self.section_losses.teacher_cut))

    def make_train_function(self, force=False):
        shared = self.shares_first_section()
        if shared != self._shared_first_section:
            self._shared_first_section, force = shared, True
        return super().make_train_function(force=force)

    def train_step(self, *args):
        # Keras' own step (`(data)` on TensorFlow and torch, `(state, data)` on JAX); while it is
        # traced, `call(x, training=True)` returns the `LITPass` that `compute_loss` then reads.
        self._tracing_train_step = True
        try:
            return super().train_step(*args)
        finally:
            self._tracing_train_step = False

    def call(self, inputs, training=None):
        if not training:
            return self.student(inputs, training=training)
        if self._tracing_train_step:
            return self.lit_pass(inputs)
        return self._student_logits(inputs)

    def _student_logits(self, inputs, first=0):
        """The student as a LIT step runs it: stem and head frozen, sections `first`.. in training mode.

        `inputs` are the model's inputs when `first` is 0, else section `first`'s input.
        """
        outputs = self._student_stem(inputs, training=False) if first == 0 else inputs
        for section in self.section_losses.student_sections[first:]:
            outputs = section(outputs, training=True)
        return self._student_head(outputs, training=False)

    def lit_pass(self, inputs):
        """A LIT training step's forward pass on `inputs`, as a `LITPass`.

        The frozen teacher gives its boundaries f0..fK and logits; student section k, fed
        f(k-1), gives IR loss k; the student runs on the input, its stem and head with
        `training=False`. With `shares_first_section`, section 1's output on f0 serves both
        the first IR loss and the student's own pass. Otherwise the student's pass runs first,
        as the reference's `lit_epoch` (the order matters to "both_passes" statistics).
        """
        section_losses = self.section_losses
        if not self._shared_first_section:
            logits = self._student_logits(inputs)
            ir_losses, teacher_logits = section_losses(inputs, training=True)
            return LITPass(logits, ir_losses, teacher_logits)
        features, teacher_logits = section_losses.teacher_features(inputs)
        first = section_losses.student_sections[0](features[0], training=True)
        ir_losses = [losses.ir_loss(features[1], first), *section_losses.ir_losses(features, True, first=1)]
        return LITPass(self._student_logits(first, first=1), ir_losses, teacher_logits)

    def compile(self, optimizer="sgd", loss=None, metrics=None, **kwargs):
        """Keras' `compile`; LIT's loss is its own, so `loss` (and `loss_weights`) are refused."""
        if loss is not None or kwargs.get("loss_weights") is not None:
            raise ValueError(
                "LITDistiller computes its own loss, (beta * KD + (1 - beta) * sum of IR losses) / 2: set beta, "
                "temperature and alpha when you build it, and compile with an optimizer and metrics only. "
                f"Received: loss={loss!r}, loss_weights={kwargs.get('loss_weights')!r}")
        optimizer = optimizers.with_coupled_weight_decay(optimizer, self.weight_decay, "LITDistiller")
        super().compile(optimizer=optimizer, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        # Keras 3.15 skips compiling a loaded model whose class overrides compile(); this one can.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:  # so the file's optimizer state has variables to load into
            self.optimizer.build(self.trainable_variables)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Keras' `compute_metrics` on the student's logits (of a `LITPass` too)."""
        logits = y_pred.logits if isinstance(y_pred, LITPass) else y_pred
        return super().compute_metrics(x, y, logits, sample_weight=sample_weight)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """LIT's loss from a `LITPass` (a training step), or from the student's logits and `x`."""
        if sample_weight is not None:
            raise ValueError("LITDistiller weighs every sample the same: fit without sample_weight or "
                             "class_weight (or drop the third element of (x, y, sample_weight) batches).")
        if y_pred is None:
            y_pred = self(x, training=training)
        if not isinstance(y_pred, LITPass):  # evaluation, or a caller's own logits
            y_pred = LITPass(y_pred, *self.section_losses(x, training=training))
        ir_loss = keras.ops.sum(keras.ops.stack(y_pred.ir_losses))
        kd_loss = 0.0
        if self.beta > 0:
            if y is None and self.alpha > 0:
                raise ValueError(
                    f"LITDistiller needs labels for the hard-label part of the KD "
                    f"loss (alpha={self.alpha}): pass (x, y), or set alpha=0."
                )
            kd_loss = self._kd_loss(y, y_pred.teacher_logits, y_pred.logits)
        total = (self.beta * kd_loss + (1.0 - self.beta) * ir_loss) / 2.0
        if training:
            total = total + losses.logged_weight_decay(self)

        # The Keras losses above are divided by the replica count; log them whole.
        replicas = losses.replica_count()
        self.kd_loss_tracker.update_state(kd_loss * replicas)
        self.ir_loss_tracker.update_state(ir_loss * replicas)
        for tracker, value in zip(self.ir_loss_trackers, y_pred.ir_losses):
            tracker.update_state(value * replicas)
        return total
