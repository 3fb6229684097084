"""LIT's losses: the intermediate-representation (IR) loss and the KD loss.

Every term is built from Keras loss objects, which already divide by the
number of replicas under a `tf.distribute` strategy, so a model that returns
these from `compute_loss` trains correctly under `MirroredStrategy`.

The KD loss follows the reference code of LIT (Koratana et al. 2019):

    KD = alpha * CE(labels, s) + (1 - alpha) * T^2 * KL(softmax(t/T) || softmax(s/T))

where `alpha` weights the *hard labels*. The reference writes the soft term
as a cross-entropy; the KL divergence used here (through
`keras.distillation.LogitsDistillation`) differs from it only by the
teacher's entropy, a constant, so the gradients are the same.

Example:

>>> import numpy as np
>>> from lit_tf.distillation import losses
>>> kd = losses.KDLoss(temperature=6.0, alpha=0.95)
>>> logits = np.array([[2.0, 0.0]], "float32")
>>> round(float(kd(np.array([0]), logits, logits)), 4)
0.1206
"""

import keras

from lit_tf import settings


def replica_count():
    """The number of replicas in sync under the current `tf.distribute` strategy; 1 on other backends."""
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def ir_loss(teacher_activation, student_activation):
    """Mean squared error between boundary activations (the IR loss)."""
    return keras.losses.MeanSquaredError()(teacher_activation, student_activation)


def logits_distillation(temperature):
    """`keras.distillation.LogitsDistillation` giving `T^2 * KL(softmax(t/T) || softmax(s/T))`.

    The KL loss is passed as an instance on purpose: in Keras 3.15 the default
    string `"kl_divergence"` resolves to a function that skips the softmax and
    the T^2 scaling, and the distillation loss is then KL on raw logits.
    """
    return keras.distillation.LogitsDistillation(
        temperature=temperature, loss=keras.losses.KLDivergence()
    )


class KDLoss:
    """Hinton knowledge distillation with the reference's weighting.

    Args:
        temperature: float > 0, softens both distributions.
        alpha: float in [0, 1], the weight of the hard-label cross-entropy.
    """

    def __init__(self, temperature=settings.KD.temperature, alpha=settings.KD.alpha):
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1]. Received: alpha={alpha}")
        self.temperature = temperature
        self.alpha = alpha
        self.soft = logits_distillation(temperature)
        self.hard = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def __call__(self, labels, teacher_logits, student_logits):
        soft = self.soft.compute_loss(teacher_logits, student_logits)
        if self.alpha == 0.0:
            return soft
        hard = self.hard(labels, student_logits)
        return self.alpha * hard + (1.0 - self.alpha) * soft


def l2_penalty(variables, weight_decay):
    """`weight_decay / 2 * sum ||w||^2`, scaled for the replicas in sync.

    Its gradient is `weight_decay * w`: the coupled weight decay of the
    reference's PyTorch SGD, which Keras' decoupled `weight_decay` is not.
    """
    if not weight_decay or not variables:
        return 0.0
    total = keras.ops.sum(
        keras.ops.stack([keras.ops.sum(keras.ops.square(v)) for v in variables])
    )
    return 0.5 * weight_decay * total / replica_count()


def logged_weight_decay(model):
    """The L2 term of `model.optimizer`'s coupled weight decay, to log with the loss; no gradient.

    The decay is the optimizer's (`lit_tf.training.optimizers.CoupledWeightDecay` adds `wd·w` to each
    gradient). A distiller adds this `l2_penalty` of its trained weights to its training loss
    under `stop_gradient`, so its logged `loss` is the objective its steps minimise, as Keras
    logs a `kernel_regularizer`'s penalty with the loss.
    """
    decay = getattr(getattr(model, "optimizer", None), "coupled_weight_decay", 0.0)
    return keras.ops.stop_gradient(l2_penalty(model.trainable_weights, decay)) if decay else 0.0
