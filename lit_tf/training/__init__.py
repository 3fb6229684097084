"""Training a stage: the runner, its callbacks and progress lines, optimizers and schedules, distribution.

`stage` is `fit_stage`, one resumable stage (backups every epoch, the best validation epoch kept,
one line an epoch); `callbacks` the callbacks every stage gets; `progress` the epoch and run
lines; `optimizers` PyTorch's SGD and Adam arithmetic with coupled weight decay and the
per-epoch rate schedule; `distribute` the tf.distribute strategies.

Example:

>>> from lit_tf import training
>>> training.TorchSGD(0.1, momentum=0.9, coupled_weight_decay=1e-4).coupled_weight_decay
0.0001
"""

from lit_tf.training.optimizers import CoupledSGD
from lit_tf.training.optimizers import TorchAdam
from lit_tf.training.optimizers import TorchSGD
from lit_tf.training.stage import fit_stage
from lit_tf.training.stage import is_done

__all__ = ["CoupledSGD", "TorchAdam", "TorchSGD", "fit_stage", "is_done"]
