"""TF-GAN's evaluation math on TensorFlow >= 2.16, where `import tensorflow_gan` fails.

TF-GAN 2.1's package `__init__` imports its Estimator code, and `tf.estimator` is gone
from TensorFlow 2.16 on. Its `python/eval/classifier_metrics.py` does not need it: this
module loads that file (and the `eval_utils.py` it imports) without running the
package's `__init__`, and leaves `sys.modules` as it found it.

Example:

>>> from lit_tf.stargan import tfgan_compat
>>> metrics = tfgan_compat.classifier_metrics()
>>> float(metrics.classifier_score_from_logits([[0.0, 0.0], [0.0, 0.0]]))  # no confidence: 1
1.0
"""

import functools
import importlib
import importlib.util
import os
import sys
import types

PACKAGES = ("tensorflow_gan", "tensorflow_gan.python", "tensorflow_gan.python.eval")


@functools.lru_cache(maxsize=1)
def classifier_metrics():
    """Returns TF-GAN's `classifier_metrics` module (loaded once)."""
    spec = importlib.util.find_spec("tensorflow_gan")  # finds the folder; runs nothing
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("tensorflow-gan is not installed: pip install 'tensorflow-gan>=2.1' "
                          "(lit_tf uses only its evaluation math).")
    root = spec.submodule_search_locations[0]
    saved = {name: sys.modules.get(name) for name in PACKAGES}
    try:
        for name in PACKAGES:  # bare packages with the real folders, so submodule imports find the files
            stub = types.ModuleType(name)
            stub.__path__ = [os.path.join(root, *name.split(".")[1:])]
            sys.modules[name] = stub
        return importlib.import_module("tensorflow_gan.python.eval.classifier_metrics")
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
