"""What lit_tf's distillers share: `DistillerBase`, a mixin before `keras.Model` (or Keras' `Distiller`).

It rebuilds the serialized teacher and student in `from_config`, compiles a loaded
distiller again from its saved compile config (Keras skips that for a class that
overrides `compile`), and hides Keras' `Distiller` trackers that repeat what the
distiller logs itself (`student_loss`, `distillation_loss`, `total_loss`).

Example:

>>> import keras
>>> from lit_tf.distillation.base import DistillerBase
>>> class Pair(DistillerBase, keras.Model):
...     def __init__(self, teacher, student, **kwargs):
...         super().__init__(**kwargs)
...         self.teacher, self.student = teacher, student
...     def get_config(self):
...         return {**super().get_config(), "teacher": keras.saving.serialize_keras_object(self.teacher),
...                 "student": keras.saving.serialize_keras_object(self.student)}
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> pair = Pair.from_config(Pair(model, model).get_config())
>>> pair.student.output_shape
(None, 1)
"""

import copy

import keras

_DISTILLER_TRACKERS = ("student_loss_tracker", "distillation_loss_tracker", "total_loss_tracker")


class DistillerBase:
    """Mixin for a distiller whose config holds its `teacher` and `student` as serialized Keras models."""

    @classmethod
    def from_config(cls, config):
        """`cls(**config)` with its serialized `teacher` and `student` rebuilt."""
        config = copy.deepcopy(config)  # Keras' deserialisation edits the nested dicts it is given
        for name in ("teacher", "student"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)

    def compile_from_config(self, config):
        """Compiles as saved; Keras 3.15 skips that for a loaded model whose class overrides `compile`."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:  # so the file's optimizer state has variables to load into
            self.optimizer.build(self.trainable_variables)

    @property
    def metrics(self):
        """Keras' metrics without `Distiller`'s `student_loss`, `distillation_loss` and `total_loss`."""
        hidden = {id(getattr(self, name)) for name in _DISTILLER_TRACKERS if hasattr(self, name)}
        return [metric for metric in super().metrics if id(metric) not in hidden]
