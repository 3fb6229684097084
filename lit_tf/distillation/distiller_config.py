"""The distillers' `from_config`: their teacher and student are nested, serialized Keras models.

Example:

>>> import keras
>>> from lit_tf.distillation import distiller_config
>>> class Pair:
...     def __init__(self, teacher, student):
...         self.teacher, self.student = teacher, student
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> config = {"teacher": keras.saving.serialize_keras_object(model),
...           "student": keras.saving.serialize_keras_object(model)}
>>> pair = distiller_config.from_config(Pair, config)
>>> pair.student.output_shape
(None, 1)
"""

import copy

import keras


def from_config(cls, config):
    """`cls(**config)` with its serialized `teacher` and `student` rebuilt."""
    config = copy.deepcopy(config)  # Keras' deserialisation edits the nested dicts it is given
    for name in ("teacher", "student"):
        config[name] = keras.saving.deserialize_keras_object(config[name])
    return cls(**config)
