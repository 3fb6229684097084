"""How long a model takes on this machine, deployed: its TFLite export in the LiteRT interpreter.

The median over `runs` invocations after three untimed ones, one input (batch 1 by default),
the interpreter on `threads` threads. Weights do not change the time, so an untrained model
times the same as a trained one.

Example:

>>> from lit_tf import models

>>> from lit_tf.export import latency
>>> seconds = latency.tflite_latency(models.get("resnet8"), runs=5)
>>> 0 < seconds < 1
True
"""

import os
import statistics
import tempfile
import time


def median_seconds(function, runs, warmup=3):
    """The median wall time of `runs` calls of `function`, after `warmup` untimed ones."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interpreter_latency(path, batch=1, runs=50, threads=2):
    """The median seconds of one invocation of the `.tflite` file at `path` on `batch` inputs."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    from lit_tf import quiet

    with quiet.filtered_stderr():  # the XNNPACK line
        interpreter = Interpreter(model_path=path, num_threads=threads)
    (detail,) = interpreter.get_input_details()
    if batch != 1:
        interpreter.resize_tensor_input(detail["index"], [batch, *detail["shape"][1:]])
    interpreter.allocate_tensors()
    (detail,) = interpreter.get_input_details()
    x = np.random.default_rng(0).normal(size=detail["shape"]).astype(detail["dtype"])

    def invoke():
        interpreter.set_tensor(detail["index"], x)
        interpreter.invoke()

    return median_seconds(invoke, runs)


def tflite_latency(model, runs=50, threads=2, quantize="none", batch=1):
    """The median seconds of `model`'s float32 (or `quantize`d) TFLite export on `batch` inputs.

    Args:
        model: `keras.Model` with one input of known shape.
        runs: int, timed invocations.
        threads: int, interpreter threads.
        quantize: "none" or "int8" (calibrated on random inputs: the time, not the accuracy).
        batch: int, inputs per invocation.
    """
    import numpy as np

    from lit_tf.export import checked

    calibration = np.random.default_rng(0).normal(size=(8, *model.inputs[0].shape[1:])).astype("float32")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.tflite")
        checked.to_tflite(model, path, quantize=quantize, representative_data=calibration, check=False)
        return interpreter_latency(path, batch, runs, threads)
