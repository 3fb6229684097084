"""How lit_tf's command-line tools start TensorFlow: quietly, with oneDNN's CPU kernels on.

TensorFlow turns its oneDNN kernels on by default only on CPUs with AVX-512 or AMX
features; elsewhere (this project's AVX2 machines) it runs Eigen's, whose convolution
gradients are slow: here a training step with oneDNN takes about 0.7x the time
(`python -m bench.step_time`). `TF_ENABLE_ONEDNN_OPTS` is read once, when TensorFlow is
imported, so entry points call `import_tensorflow()` before anything imports it; an
explicit `TF_ENABLE_ONEDNN_OPTS=0` in the environment wins. In your own scripts, set it
before `import tensorflow`:

    TF_ENABLE_ONEDNN_OPTS=1 python my_training.py

oneDNN sums in other orders than Eigen: results agree to float32 rounding, and lit_tf's
test against the LIT reference code passes either way.

Example:

>>> from lit_tf import startup
>>> startup.ONEDNN
'TF_ENABLE_ONEDNN_OPTS'
"""

import os

from lit_tf import quiet

ONEDNN = "TF_ENABLE_ONEDNN_OPTS"


def import_tensorflow(argv=None):
    """Turns oneDNN on unless the environment says otherwise, then imports TensorFlow quietly."""
    os.environ.setdefault(ONEDNN, "1")
    quiet.import_tensorflow(argv)
