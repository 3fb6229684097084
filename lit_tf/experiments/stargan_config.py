"""What defines a StarGAN run: `StarGANConfig`, the trainer's flags as a frozen dataclass.

`config.json` in a StarGAN workdir is this, as a dict; `lit_tf.experiments.stargan.run` runs it. It
imports nothing that starts TensorFlow, so the trainer checks its flags first.

Example:

>>> from lit_tf.experiments.stargan_config import StarGANConfig
>>> StarGANConfig(mode="lit")  # doctest: +ELLIPSIS
Traceback (most recent call last):
ValueError: mode='lit' distils a trained teacher generator: pass teacher_weights=PATH ...
"""

import dataclasses
import os

from lit_tf.options import CELEBA_ATTRIBUTES
from lit_tf.options import GAN_MODES as MODES
from lit_tf.options import GAN_OPTIMIZERS as OPTIMIZERS
from lit_tf.options import LR_DECAYS
from lit_tf.options import check_choice
from lit_tf.options import check_image_size


def no_inception_weights(path):
    """The message for InceptionV3 weights that are not a file."""
    return (f"No InceptionV3 weights at {path!r}. Inception score and FID need them: download "
            "inception_v3_weights_tf_dim_ordering_tf_kernels.h5 (keras.applications' ImageNet weights) "
            "on a machine with internet and pass its path (inception_weights=PATH).")


# Settings added after runs were started, with the value those runs used (see workdir.claim).
ASSUMED_IN_OLDER_RUNS = {"lr_decay": "linear", "optimizer": "adam"}


@dataclasses.dataclass(frozen=True)
class StarGANConfig:
    """Everything that defines a run; `config.json` in the workdir is this, as a dict.

    Defaults are StarGAN's on CelebA at 128 px (batch 16, Adam 1e-4 (0.5, 0.999),
    n_critic 5, 200 x 1,000 iterations, the rate decayed linearly over the last 100,000)
    and the LIT reference's for the student (2 blocks, IR loss only).
    """

    mode: str = "teacher"
    # Data.
    data_dir: str | None = None
    attributes: tuple = CELEBA_ATTRIBUTES
    image_size: int = 128
    # Models.
    conv_dim: int = 64
    d_conv_dim: int = 64
    d_strided_layers: int = 6
    teacher_blocks: int = 6
    student_blocks: int = 2
    sections: int = 1
    teacher_weights: str | None = None
    discriminator_weights: str | None = None
    # LIT.
    beta: float = 0.0
    noise_stddev: float = 0.0
    # Training.
    epochs: int = 200
    steps_per_epoch: int = 1000
    decay_steps: int = 100_000
    batch_size: int = 16
    learning_rate: float = 1e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    n_critic: int = 5
    # The reference's arithmetic: "reference" keeps the rate 1e-4 in effect (1e-9 less every 1,000 iterations
    # of the decay tail); "torch_adam" is PyTorch's Adam (eps after the bias correction).
    lr_decay: str = "linear"
    optimizer: str = "adam"
    seed: int = 0
    # Output.
    sample_every: int = 1000
    eval_images: int = 2000
    inception_weights: str | None = None
    classifier: str | None = None
    export: bool = True

    def __post_init__(self):
        check_choice("mode", self.mode, MODES)
        check_choice("lr_decay", self.lr_decay, LR_DECAYS)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_image_size(self.image_size, 4, "the generator down-samples twice")
        check_image_size(self.image_size, 2**self.d_strided_layers,
                                 f"the discriminator halves it d_strided_layers={self.d_strided_layers} times")
        for name in ("epochs", "steps_per_epoch", "batch_size", "sample_every", "eval_images", "n_critic"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0. Received: {name}={getattr(self, name)}")
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"beta must be in [0, 1]. Received: beta={self.beta}")
        if self.mode in ("lit", "l2") and not self.teacher_weights:
            raise ValueError(f"mode={self.mode!r} distils a trained teacher generator: pass teacher_weights=PATH "
                             "(models/generator.keras of a mode='teacher' run).")
        for name in ("teacher_weights", "discriminator_weights", "classifier"):
            path = getattr(self, name)
            if path and not os.path.exists(path):
                raise FileNotFoundError(f"{name}={path!r} does not exist.")
        if self.inception_weights and not os.path.isfile(self.inception_weights):
            raise FileNotFoundError(no_inception_weights(self.inception_weights))

    @property
    def total_steps(self):
        return self.epochs * self.steps_per_epoch
