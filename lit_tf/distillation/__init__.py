"""The distillers and their losses: LIT (Koratana et al. 2019), KD, and the paper's baselines.

`lit` is `LITDistiller`, the LIT stage: each student section fed the teacher's boundary
activation and pulled to the next (the IR loss), the whole student on KD. `finetune` is
`KDDistiller` (a `keras.distillation.Distiller`) and the KD stage that follows. `losses` holds
the IR and KD losses, `section_losses` the teacher-fed sections' IR losses shared by the
CIFAR and StarGAN distillers, `baselines` training on labels, KD and FitNets, and
`base` what the distillers share (`DistillerBase`: config, compile from config, logs).

Example:

>>> from lit_tf import distillation, models
>>> teacher, student = models.get("resnet20"), models.get("resnet8")
>>> distiller = distillation.LITDistiller(teacher, student, teacher.boundaries)
>>> distiller.beta, distiller.temperature
(0.75, 6.0)
"""

from lit_tf.distillation.baselines import distill_kd
from lit_tf.distillation.baselines import fitnets
from lit_tf.distillation.baselines import train_supervised
from lit_tf.distillation.finetune import KDDistiller
from lit_tf.distillation.finetune import finetune_with_kd
from lit_tf.distillation.lit import LITDistiller
from lit_tf.distillation.losses import KDLoss
from lit_tf.distillation.section_losses import SectionLosses

__all__ = ["KDDistiller", "KDLoss", "LITDistiller", "SectionLosses", "distill_kd", "finetune_with_kd", "fitnets",
           "train_supervised"]
