"""lit_tf: compress Keras models with LIT (Koratana et al., ICML 2019).

Every public module is an attribute of the package (`lit_tf.export`,
`lit_tf.data`, `lit_tf.models`, ...), imported on first use, so `import lit_tf`
itself is instant and loads no TensorFlow. `keras.saving.load_model` finds lit_tf's
saved classes once `import lit_tf` has met Keras (imported before it, or any use of
`lit_tf.<name>`; `lit_tf.registration`).

Example:

>>> import lit_tf
>>> teacher = lit_tf.models.get("resnet110")
>>> student = lit_tf.models.get("resnet20")
>>> lit_tf.structure.sections.check_compatible(teacher, student, teacher.boundaries, student.boundaries)
>>> callable(lit_tf.export.to_tflite), callable(lit_tf.compress)
(True, True)
"""

import importlib

from lit_tf import registration

__version__ = "0.2.0"

MODULES = (
    "checks", "compression", "convert", "data", "distillation", "experiments", "export", "models", "options", "quiet",
    "registration", "settings", "stargan", "startup", "structure", "students", "training",
)
NAMES = {
    "CompressResult": "compression",
    "compress": "compression",
    "KDDistiller": "distillation",
    "LITDistiller": "distillation",
    "SectionLosses": "distillation",
    "Schedule": "settings",
    "TorchSGD": "training",
    "shallower": "students",
}


registration.register_if_keras_is_imported()  # load_model finds lit_tf's classes; TensorFlow still unloaded


def __getattr__(name):
    if name not in NAMES and name not in MODULES:
        raise AttributeError(f"module 'lit_tf' has no attribute {name!r}")
    module = importlib.import_module(f"lit_tf.{NAMES.get(name, name)}")
    registration.register_if_keras_is_imported()  # Keras imported after lit_tf, or by this module: registers now
    return getattr(module, name) if name in NAMES else module


def __dir__():
    return sorted([*globals(), *MODULES, *NAMES])


__all__ = [*NAMES, *MODULES]
