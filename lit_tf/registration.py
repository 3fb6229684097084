"""`keras.saving.load_model` finds lit_tf's saved classes once `import lit_tf` has met Keras.

Keras finds a custom class of a saved model in its registry, which a class joins when its module
is imported. lit_tf's modules load on first use (so `import lit_tf` loads no TensorFlow, and the
command-line tools can check their flags and turn oneDNN on before it starts); instead, lit_tf
puts a stand-in for each saved class into Keras' public registry
(`keras.saving.get_custom_objects()`): at `import lit_tf` when Keras is imported already (the
usual order, `import keras` sorting first), else at the first use of any `lit_tf.<name>`, or
when you call `register_saved_classes()`. Deserializing a stand-in imports the class's module,
whose real class then takes its place. Nothing in Python's import system is patched.

Example (in a fresh process):

    import keras
    import lit_tf
    keras.saving.load_model("run/models/lit.keras")  # no lit_tf.models import needed

    import lit_tf  # before Keras: say so once
    import keras
    lit_tf.registration.register_saved_classes()
"""

import importlib
import sys

PACKAGE = "lit_tf"
SAVED_CLASSES = {  # registered name -> module that registers it
    "CifarResNet": "lit_tf.models.resnet",
    "ZeroPadShortcut": "lit_tf.models.resnet",
    "CifarResNeXt": "lit_tf.models.resnext",
    "Generator": "lit_tf.models.stargan",
    "Discriminator": "lit_tf.models.stargan",
    "TileLabel": "lit_tf.models.stargan",
    "TorchBatchNormalization": "lit_tf.models.torch_layers",
    "TorchSGD": "lit_tf.training.optimizers",
    "CoupledSGD": "lit_tf.training.optimizers",
    "TorchAdam": "lit_tf.training.optimizers",
    "KDDistiller": "lit_tf.distillation.finetune",
    "LITDistiller": "lit_tf.distillation.lit",
}


class _ImportedOnLoad:
    """Stands in for a class in Keras' registry until its module is imported."""

    def __init__(self, name, module):
        self.name, self.module = name, module

    def from_config(self, config, *args, **kwargs):  # all Keras' deserialization asks of a class
        real = getattr(importlib.import_module(self.module), self.name)
        return real.from_config(config, *args, **kwargs)


def register_saved_classes():
    """Puts the stand-ins into Keras' registry (classes already registered stay). Imports Keras."""
    import keras

    registry = keras.saving.get_custom_objects()
    for name, module in SAVED_CLASSES.items():
        registry.setdefault(f"{PACKAGE}>{name}", _ImportedOnLoad(name, module))


def register_if_keras_is_imported():
    """`register_saved_classes()` when Keras is imported already; otherwise nothing (TensorFlow stays unloaded)."""
    if "keras" in sys.modules:
        register_saved_classes()
