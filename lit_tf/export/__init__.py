"""Shipping a student: SavedModel and TFLite exports checked against Keras, its FLOPs, its latency here.

`checked` writes each export beside its path, reloads and runs it next to the Keras model, and
moves it into place only within tolerance (`to_saved_model`, `to_tflite` with float16 or int8
quantization, `with_normalization` to take pixels). `flops` counts a model's inference FLOPs
from its graph; `latency` times its TFLite export in the LiteRT interpreter on this machine.

Example:

>>> import keras
>>> from lit_tf import export
>>> export.count_flops(keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, use_bias=False)]))
64
"""

from lit_tf.export.checked import FLOAT16_TOLERANCE
from lit_tf.export.checked import FLOAT32_TOLERANCE
from lit_tf.export.checked import INT8_MIN_TOP1_AGREEMENT
from lit_tf.export.checked import ExportReport
from lit_tf.export.checked import representative_arrays
from lit_tf.export.checked import run_tflite
from lit_tf.export.checked import sample_inputs
from lit_tf.export.checked import to_saved_model
from lit_tf.export.checked import to_tflite
from lit_tf.export.checked import with_normalization
from lit_tf.export.flops import count_flops
from lit_tf.export.latency import tflite_latency

__all__ = ["FLOAT16_TOLERANCE", "FLOAT32_TOLERANCE", "INT8_MIN_TOP1_AGREEMENT", "ExportReport", "count_flops",
           "representative_arrays", "run_tflite", "sample_inputs", "tflite_latency", "to_saved_model", "to_tflite",
           "with_normalization"]
