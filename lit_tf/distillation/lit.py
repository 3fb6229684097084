"""The LIT distiller: the first stage of LIT (Koratana et al. 2019).

Each step, the frozen teacher gives its boundary activations f0..fK and its
logits in one forward pass. Student section k is fed the teacher's f(k-1) and
pulled to f(k) by the IR loss; the full student also runs on the input and
gets the KD loss. The total is `(beta * KD + (1 - beta) * sum_k IR_k) / 2`,
and only the student's section weights train: its stem and head keep their
weights and are called with `training=False` (BatchNorm on moving statistics),
as the reference code's `student.eval()` then `sections.train()`. As in Keras'
own `Distiller`, `call()` is the student (its logits, always) and the teacher's
pass and the IR losses are computed where the loss is, in `compute_loss`; no
step changes a `trainable` flag. When the student's stem is a copy of the
teacher's, section 1 runs once for both losses (`shares_first_section`: a tenth
of a LIT step, measured): `call` keeps its output beside the logits it returns,
and `compute_loss` takes it for the first IR loss when given those logits.

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

from lit_tf.distillation import losses
from lit_tf.distillation.base import DistillerBase
from lit_tf.distillation.section_losses import SectionLosses
from lit_tf.structure import trainability
from lit_tf.training import optimizers


@keras.saving.register_keras_serializable(package="lit_tf")
class LITDistiller(DistillerBase, keras.Model):
    """Trains a student's sections on the teacher's intermediate representations.

    `call()` is the student; `compile(optimizer, metrics=...)`, `fit` and
    `evaluate` work as for any Keras model. Logs `loss`, `kd_loss`, `ir_loss`
    and `ir_loss_1` .. `ir_loss_K`.

    A training step is Keras' own: `call(x, training=True)` runs the student (its
    stem and head with `training=False`, its sections training) and gives its
    logits; `compute_loss` runs the teacher (boundaries and logits) and the
    teacher-fed sections, and combines the IR and KD losses; metrics see the logits.

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
        self._shared_first_section = False  # decided when the training function is made, from the stems then
        self._keep_first_section(None, None)
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
        The distiller's own step never needs it: `call` runs them with `training=False`.
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
        (`fit`, `train_on_batch`), from the weights then. Worth it: ResNet-110 -> ResNet-20 at batch 128,
        a LIT step takes 0.88x the time of one without it (KD's and the student's steps 1.01x and 0.99x:
        `python -m bench.step_time --pairs=resnet110:resnet20 --before=<a tree where this returns False>`).
        """
        return (self.noise_stddev == 0 and self.section_bn_updates == "full_pass"
                and self.section_losses.student_cut.same_stem(self.section_losses.teacher_cut))

    def make_train_function(self, force=False):
        shared = self.shares_first_section()
        if shared != self._shared_first_section:
            self._shared_first_section, force = shared, True
        return super().make_train_function(force=force)

    def call(self, inputs, training=None):
        """The student's logits; in training its stem and head run with `training=False`, its sections train."""
        if not training:
            return self.student(inputs, training=training)
        first = self.section_losses.student_sections[0](self._student_stem(inputs, training=False), training=True)
        outputs = first
        for section in self.section_losses.student_sections[1:]:
            outputs = section(outputs, training=True)
        logits = self._student_head(outputs, training=False)
        self._keep_first_section(logits, first if self._shared_first_section else None)
        return logits

    def _keep_first_section(self, logits, first_section):
        # Past Keras' attribute tracking: a tensor of this trace, not state of the model.
        object.__setattr__(self, "_first_section_of", (logits, first_section))

    def _first_section_for(self, logits):
        """Section 1's output from the `call` that gave `logits`, when it serves the first IR loss; else None."""
        kept_logits, first_section = self._first_section_of
        self._keep_first_section(None, None)
        return first_section if kept_logits is logits else None

    def _ir_losses_and_teacher_logits(self, x, logits, training):
        """The teacher's pass and the K IR losses; section 1's output taken from the student's pass when shared.

        Without sharing the student's pass has run first, as the reference's `lit_epoch` (the order
        matters to "both_passes" statistics).
        """
        first_section = self._first_section_for(logits)
        if first_section is None:
            return self.section_losses(x, training=training)
        features, teacher_logits = self.section_losses.teacher_features(x)
        ir_losses = [losses.ir_loss(features[1], first_section),
                     *self.section_losses.ir_losses(features, True, first=1)]
        return ir_losses, teacher_logits

    def compile(self, optimizer="sgd", loss=None, metrics=None, **kwargs):
        """Keras' `compile`; LIT's loss is its own, so `loss` (and `loss_weights`) are refused."""
        if loss is not None or kwargs.get("loss_weights") is not None:
            raise ValueError(
                "LITDistiller computes its own loss, (beta * KD + (1 - beta) * sum of IR losses) / 2: set beta, "
                "temperature and alpha when you build it, and compile with an optimizer and metrics only. "
                f"Received: loss={loss!r}, loss_weights={kwargs.get('loss_weights')!r}")
        optimizer = optimizers.with_coupled_weight_decay(optimizer, self.weight_decay, "LITDistiller")
        super().compile(optimizer=optimizer, metrics=metrics, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """LIT's loss: the teacher's pass and the teacher-fed sections here, the student's logits `y_pred`."""
        if sample_weight is not None:
            raise ValueError("LITDistiller weighs every sample the same: fit without sample_weight or "
                             "class_weight (or drop the third element of (x, y, sample_weight) batches).")
        if y_pred is None:
            y_pred = self(x, training=training)
        ir_losses, teacher_logits = self._ir_losses_and_teacher_logits(x, y_pred, training)
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
            total = total + losses.logged_weight_decay(self)

        # The Keras losses above are divided by the replica count; log them whole.
        replicas = losses.replica_count()
        self.kd_loss_tracker.update_state(kd_loss * replicas)
        self.ir_loss_tracker.update_state(ir_loss * replicas)
        for tracker, value in zip(self.ir_loss_trackers, ir_losses):
            tracker.update_state(value * replicas)
        return total
