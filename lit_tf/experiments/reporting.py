"""What a run reports about a model: accuracy, size and cost; and the student's exports.

Example:

>>> from lit_tf import models

>>> from lit_tf.experiments import reporting
>>> from lit_tf.data import digits
>>> model = models.get("resnet8")
>>> summary = reporting.model_summary(model, digits.provide_dataset("test", 128), "resnet8")
>>> summary["params"], summary["flops"] > 10**7, 0 <= summary["accuracy"] <= 1
(75770, True, True)
"""

import os

import numpy as np
import tensorflow as tf

from lit_tf import export
from lit_tf.export.flops import count_flops

CHECK_SAMPLES = 256  # inputs for the parity checks and the int8 calibration


def _first_inputs(dataset, count):
    return np.concatenate([x.numpy() for x, _ in dataset.unbatch().batch(count).take(1)])


def logits_function(models):
    """One traced function giving each model's logits for a batch, in inference mode.

    Traced once for any batch size (`input_signature`), so evaluating the same models again, or
    several models at once, traces nothing more: TensorFlow warns of "excessive retracing" when
    one function is traced per model or per batch shape. Run on this process alone: under
    `MultiWorkerMirroredStrategy`, `predict_on_batch` would gather every worker's copy of the batch.
    """
    traced = {}

    def logits(images):
        if "function" not in traced:
            batch = tf.TensorSpec([None, *images.shape[1:]], images.dtype)
            traced["function"] = tf.function(lambda x: [model(x, training=False) for model in models],
                                             input_signature=[batch])
        return traced["function"](images)

    return logits


def accuracies(models, dataset, logits=None):
    """Top-1 accuracy of each model's logits over one pass of a dataset of `(x, y)` batches.

    `logits`: a `logits_function(models)` to reuse (a callback evaluating every epoch keeps one).
    """
    logits = logits or logits_function(models)
    correct, total = np.zeros(len(models), "int64"), 0
    for images, labels in dataset:
        for k, model_logits in enumerate(logits(images)):
            correct[k] += int(np.sum(np.argmax(model_logits, axis=-1) == np.asarray(labels)))
        total += len(labels)
    return [int(c) / total for c in correct]


def accuracy(model, dataset):
    """Top-1 accuracy of `model`'s logits over a dataset of `(x, y)` batches, in inference mode."""
    return accuracies([model], dataset)[0]


def model_summary(model, test_data, arch):
    """`{"arch", "accuracy", "params", "flops"}`: top-1 on `test_data`, FLOPs for one input."""
    return model_summaries({"model": (model, arch)}, test_data)["model"]


def model_summaries(named, test_data=None):
    """`{name: model_summary}` of `{name: (model, arch)}`, the accuracies from one pass over `test_data`
    (`None` without it)."""
    models = [model for model, _ in named.values()]
    scores = accuracies(models, test_data) if test_data is not None else [None] * len(models)
    return {name: {"arch": arch, "accuracy": score if score is None else round(score, 4),
                   "params": int(model.count_params()),
                   "flops": count_flops(model)}
            for (name, (model, arch)), score in zip(named.items(), scores)}


def summary_line(name, summary, measured_on="test", arch_width=10):
    """The line a run ends with for one model: name, architecture, accuracy, parameters, FLOPs.

    `arch_width`: the architecture column's width (the longest name of the lines printed together).

    >>> summary_line("lit", {"arch": "resnet8", "accuracy": 0.97771, "params": 75770, "flops": 24660650})
    '[lit_tf] lit      resnet8    test accuracy 0.9777  params 75,770  FLOPs 24,660,650'
    """
    measured = (f"{measured_on} accuracy {summary['accuracy']:.4f}  "
                if summary.get("accuracy") is not None else "")
    return (f"[lit_tf] {name:<8} {summary['arch']:<{arch_width}} {measured}params {summary['params']:,}  "
            f"FLOPs {summary['flops']:,}")


def result_line(workdir, seconds):
    """The trainers' last line: where `result.json` is, and the run's wall time.

    >>> result_line("/tmp/run", 147.4)
    '[lit_tf] result: /tmp/run/result.json (147 s)'
    """
    return f"[lit_tf] result: {workdir}/result.json ({seconds:.0f} s)"


def export_student(student, folder, data, quantize="none", normalization=None):
    """Writes `student_savedmodel/`, `student.tflite` (+ `student_<quantize>.tflite`) into `folder`.

    With `normalization=(mean, std)` (what `data` was normalised with) the exports take
    RGB pixels in [0, 255] and normalise inside the graph, so a deployment needs no
    preprocessing code; the checks then feed them the sample batches as pixels.

    Each export is reloaded and checked against Keras (see `lit_tf.export`). A float
    export outside tolerance raises. A quantized one that misses its check (int8 on a
    model with many near-tied logits can agree on fewer than 99 % of top-1 classes) is
    not written, and its entry is `{"error": message}`: the float exports and the run's
    result stand, and the caller reports it.

    Args:
        student: `keras.Model`.
        folder: str.
        data: dict with "train" and "validation" `tf.data.Dataset`s of `(x, y)` batches.
        quantize: "none", "float16" or "int8".
        normalization: `(mean, std)` per channel in pixels, or `None` to export `student` as is.

    Returns:
        dict of file name -> `{"max_abs_diff", "top1_agreement"}` (or `{"error"}`).
    """
    os.makedirs(folder, exist_ok=True)
    samples = _first_inputs(data["validation"], CHECK_SAMPLES)
    representative = _first_inputs(data["train"], CHECK_SAMPLES)
    if normalization is not None:
        mean, std = (np.asarray(v, "float32") for v in normalization)
        samples, representative = samples * std + mean, representative * std + mean
        student = export.with_normalization(student, mean, std)
    reports = {
        "student_savedmodel": export.to_saved_model(student, os.path.join(folder, "student_savedmodel"), samples),
        "student.tflite": export.to_tflite(student, os.path.join(folder, "student.tflite"), sample_data=samples),
    }
    summaries = {name: report.summary() for name, report in reports.items()}
    if quantize != "none":
        name = f"student_{quantize}.tflite"
        try:
            report = export.to_tflite(student, os.path.join(folder, name), quantize=quantize,
                                      representative_data=representative, sample_data=samples)
            summaries[name] = report.summary()
        except ValueError as error:
            summaries[name] = {"error": str(error)}
    return summaries
