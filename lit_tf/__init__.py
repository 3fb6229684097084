"""lit_tf: compress Keras models with LIT (Koratana et al., ICML 2019).

Example:

>>> import lit_tf
>>> teacher = lit_tf.models.get("resnet110")
>>> student = lit_tf.models.get("resnet20")
>>> lit_tf.sections.check_compatible(teacher, student, teacher.boundaries, student.boundaries)
"""

from lit_tf import losses
from lit_tf import models
from lit_tf import sections
from lit_tf.compression import CompressResult
from lit_tf.compression import compress
from lit_tf.finetune import KDDistiller
from lit_tf.lit import LITDistiller
from lit_tf.lit import SectionLosses

__all__ = [
    "CompressResult",
    "KDDistiller",
    "LITDistiller",
    "SectionLosses",
    "compress",
    "losses",
    "models",
    "sections",
]
