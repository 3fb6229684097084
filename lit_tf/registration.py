"""`keras.saving.load_model` finds lit_tf's saved classes after `import lit_tf` alone.

Keras finds a custom class of a saved model in its registry, which a class joins when its module
is imported. lit_tf's modules load on first use (so `import lit_tf` loads no TensorFlow); instead,
`import lit_tf` puts a stand-in for each saved class into Keras' registry as soon as Keras is
imported (at once when it already is). Deserializing one imports the class's module, whose real
class then takes the stand-in's place. Only Keras' public `keras.saving.get_custom_objects()` is
touched.

Example (in a fresh process):

    import lit_tf, keras
    keras.saving.load_model("run/models/lit.keras")  # no lit_tf.models import needed
"""

import importlib
import importlib.abc
import importlib.util
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


def register_stand_ins():
    """Puts the stand-ins into Keras' registry (classes already registered stay)."""
    import keras

    registry = keras.saving.get_custom_objects()
    for name, module in SAVED_CLASSES.items():
        registry.setdefault(f"{PACKAGE}>{name}", _ImportedOnLoad(name, module))


class _AfterKerasImport(importlib.abc.MetaPathFinder):
    """Runs `register_stand_ins` right after the first `import keras` of the process."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)  # once; and so the real finder is asked below
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None:
            return spec
        run_module = spec.loader.exec_module

        def exec_module(module):
            run_module(module)
            register_stand_ins()

        spec.loader.exec_module = exec_module
        return spec


def register_when_keras_is_imported():
    """At once when Keras is imported already, else right after it is (`import lit_tf` calls this)."""
    if "keras" in sys.modules:
        register_stand_ins()
    elif not any(isinstance(finder, _AfterKerasImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterKerasImport())
