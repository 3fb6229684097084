"""Runs LIT's core on the Keras backend that `KERAS_BACKEND` names; prints its numbers as JSON.

    KERAS_BACKEND=jax python tests/backends/lit_on_backend.py ARRAYS.npz

ARRAYS.npz (written by `save_arrays`) holds the batch and both models' weights; the models are
built here by name (`lit_tf.models.get`), which keeps Keras' file loading, and the TensorFlow
import it brings, out of the run.

`measure` fits a `LITDistiller` on the data, then a `KDDistiller`, and returns `{"backend",
"lit_history", "kd_history", "stem_and_head_moved", "sections_moved", "finetune_moved"}`.
`tests/test_backends.py` compares what it prints on JAX with `measure` on TensorFlow. Imports no TensorFlow of its own.
"""

import json
import sys

import keras
import numpy as np

from lit_tf import models
from lit_tf.distillation import finetune
from lit_tf.distillation import lit
from lit_tf.structure import sections


def _snapshot(layers):
    return [keras.ops.convert_to_numpy(w) for layer in layers for w in layer.weights]


def _moved(before, layers):
    return any(not np.array_equal(a, b) for a, b in zip(before, _snapshot(layers)))


def measure(teacher, student, x, y):
    boundaries = list(teacher.boundaries)
    stem, section_layers, head = sections.split_layers(student, boundaries)
    outside, inside = stem + head, [layer for layers in section_layers for layer in layers]

    distiller = lit.LITDistiller(teacher, student, boundaries)
    distiller.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9))
    outside_before, inside_before = _snapshot(outside), _snapshot(inside)
    lit_history = distiller.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    moved = {"stem_and_head_moved": _moved(outside_before, outside), "sections_moved": _moved(inside_before, inside)}
    everything = _snapshot(student.layers)
    kd = finetune.KDDistiller(teacher, student)
    kd.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9))
    kd_history = kd.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0).history
    return {"backend": keras.backend.backend(), "lit_history": lit_history, "kd_history": kd_history, **moved,
            "finetune_moved": _moved(everything, student.layers)}


def save_arrays(path, teacher, student, x, y):
    """Writes what `main` needs to rebuild `teacher` and `student` (CIFAR models) and the batch."""
    weights = {f"{role}_{i}": keras.ops.convert_to_numpy(w)
               for role, model in (("teacher", teacher), ("student", student)) for i, w in enumerate(model.weights)}
    np.savez(path, x=x, y=y, teacher_arch=teacher.name, student_arch=student.name, **weights)


def _rebuild(arrays, role, x, y):
    model = models.get(str(arrays[f"{role}_arch"]), num_classes=int(y.max()) + 1, image_shape=x.shape[1:])
    for i, weight in enumerate(model.weights):
        weight.assign(arrays[f"{role}_{i}"])
    return model


def main(path):
    arrays = np.load(path)
    x, y = arrays["x"], arrays["y"]
    print(json.dumps(measure(_rebuild(arrays, "teacher", x, y), _rebuild(arrays, "student", x, y), x, y)))


if __name__ == "__main__":
    main(*sys.argv[1:])
