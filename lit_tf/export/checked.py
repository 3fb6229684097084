"""Export a student as SavedModel or TFLite, reloaded and checked against Keras.

Both exports go through Keras' own `Model.export`; each is then reloaded (the
SavedModel with `tf.saved_model.load`, the TFLite file with the
`ai_edge_litert` interpreter) and run on sample inputs next to the Keras
model. The report holds the largest absolute difference of the outputs and
the share of samples whose top-1 class agrees. Each export is written beside
its path first and moved there only when it is within tolerance: one outside
raises, and an earlier export at the path is left as it was.

Example:

>>> import os, tempfile, keras
>>> from lit_tf import export
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
>>> path = os.path.join(tempfile.mkdtemp(), "m.tflite")
>>> report = export.to_tflite(model, path)
>>> report.max_abs_diff < 1e-4, report.top1_agreement
(True, 1.0)
"""

import dataclasses
import os
import shutil

import keras
import numpy as np
import tensorflow as tf

from lit_tf import quiet
from lit_tf.options import QUANTIZATIONS
from lit_tf.options import check_choice

FLOAT32_TOLERANCE = 1e-4
FLOAT16_TOLERANCE = 1e-2  # relative to the output scale
INT8_MIN_TOP1_AGREEMENT = 0.99


@dataclasses.dataclass(frozen=True)
class ExportReport:
    """What an export wrote and how closely it reproduces the Keras model."""

    path: str
    max_abs_diff: float
    top1_agreement: float
    samples: int

    def summary(self, classifier=True):
        """What a run's `result.json` records: `max_abs_diff`, and for a classifier `top1_agreement`."""
        summary = {"max_abs_diff": float(self.max_abs_diff)}
        if classifier:
            summary["top1_agreement"] = float(self.top1_agreement)
        return summary


def sample_inputs(model, count=32, seed=0):
    """Standard-normal inputs of the model's input shape(s), for parity checks.

    Returns an array for a one-input model, a list of arrays (one an input) otherwise.
    """
    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in model.inputs:
        shape = tuple(tensor.shape[1:])
        if None in shape:
            raise ValueError(
                f"Model '{model.name}' has an input of unknown size {shape}: pass sample_data."
            )
        arrays.append(rng.normal(size=(count, *shape)).astype("float32"))
    return arrays[0] if len(arrays) == 1 else arrays


def with_normalization(model, mean, std):
    """`model` behind a normalisation layer: the result takes RGB pixels in [0, 255], NHWC float32.

    Args:
        model: `keras.Model` with one image input, trained on `(pixels - mean) / std`.
        mean, std: per-channel statistics in pixels (e.g. `lit_tf.data.pipeline.IMAGENET_MEAN`).

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((2, 2, 3)), keras.layers.Flatten()])
    >>> pixels = np.full((1, 2, 2, 3), 255.0, "float32")
    >>> float(with_normalization(model, [127.5] * 3, [127.5] * 3)(pixels)[0, 0])
    1.0
    """
    pixels = keras.Input(tuple(model.inputs[0].shape[1:]), dtype="float32", name="pixels")
    std = np.asarray(std, dtype="float32")
    normalized = keras.layers.Normalization(mean=np.asarray(mean, "float32"), variance=std**2,
                                            name="normalize_pixels")(pixels)
    return keras.Model(pixels, model(normalized), name=f"{model.name}_on_pixels")


def _as_list(data):
    """A model's inputs as a list of float32 arrays (one input may be a bare array)."""
    items = data if isinstance(data, (list, tuple)) else [data]
    return [np.asarray(item, dtype="float32") for item in items]


def _model_inputs(arrays):
    return arrays[0] if len(arrays) == 1 else arrays


def _report(path, expected, actual):
    expected, actual = np.asarray(expected), np.asarray(actual)
    agreement = float(np.mean(expected.argmax(-1) == actual.argmax(-1)))
    return ExportReport(path, float(np.max(np.abs(expected - actual))), agreement, len(expected))


def _remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


def _partial(path):
    """Where an export is written before it is checked: beside `path`, same suffix.

    Raises `FileNotFoundError` first when `path`'s folder does not exist, before any conversion.
    """
    folder = os.path.dirname(os.path.abspath(path.rstrip(os.sep)))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"The folder of path={path!r} does not exist: {folder!r}. Create it first.")
    root, suffix = os.path.splitext(path.rstrip(os.sep))
    return f"{root}.partial{suffix}"


def _move_into_place(report, path):
    """Moves a checked export from its partial path to `path`, replacing an older one."""
    _remove(path)
    os.replace(report.path, path)
    return dataclasses.replace(report, path=path)


def _check(report, quantize, scale, path):
    """Moves `report`'s export to `path` when within tolerance; else removes it and raises."""
    if quantize == "int8":
        ok = report.top1_agreement >= INT8_MIN_TOP1_AGREEMENT
        limit = f"top-1 agreement >= {INT8_MIN_TOP1_AGREEMENT}"
    else:
        tolerance = FLOAT32_TOLERANCE if quantize == "none" else FLOAT16_TOLERANCE * max(scale, 1.0)
        ok = report.max_abs_diff <= tolerance
        limit = f"max |difference| <= {tolerance:g}"
    if not ok:
        _remove(report.path)
        raise ValueError(
            f"The {quantize} export for {path} does not reproduce the Keras model "
            f"({limit}; got max |difference| {report.max_abs_diff:g}, top-1 agreement "
            f"{report.top1_agreement:.3f}), so it was not written (anything at {path} before is left as it was)."
            + (" The int8 export quantizes weights and activations (calibrated on representative_data, "
               "float kernels where an op has no int8 one); a model with many near-tied logits may not reach "
               "the agreement whatever the calibration: use quantize='float16'."
               if quantize == "int8" else "")
        )
    return _move_into_place(report, path)


def to_saved_model(model, path, sample_data=None):
    """Exports `model` as a TF SavedModel at `path` and checks it.

    Args:
        model: `keras.Model`.
        path: str, a directory to create.
        sample_data: array of inputs (a list of arrays for a model with several
            inputs), or `None` for `sample_inputs(model)`.

    Returns:
        `ExportReport`.
    """
    partial = _partial(path)  # a missing folder fails here, before the export's work
    x = _as_list(sample_inputs(model) if sample_data is None else sample_data)
    _remove(partial)
    with quiet.filtered_stderr():
        model.export(partial, format="tf_saved_model", verbose=False)
    reloaded = tf.saved_model.load(partial)  # held: its variables die with it
    served = reloaded.serve(_model_inputs([tf.constant(a) for a in x]))
    return _check(_report(partial, model.predict(_model_inputs(x), verbose=0), served), "none", 1.0, path)


REPRESENTATIVE_SAMPLES = 1024  # at most this many inputs are drawn from a dataset or generator


def representative_arrays(data, limit=REPRESENTATIVE_SAMPLES):
    """Calibration or check inputs as a list of float32 arrays, one per model input.

    `data` is an array (a list of arrays for several inputs), a `tf.data.Dataset` of
    input batches or of `(inputs, labels)` batches, or an iterable / generator function
    yielding either; at most `limit` samples are taken from the last three.

    Example:

    >>> import numpy as np, tensorflow as tf
    >>> images = np.zeros((10, 4, 4, 3), "float32")
    >>> dataset = tf.data.Dataset.from_tensor_slices((images, np.arange(10))).batch(4)
    >>> [a.shape for a in representative_arrays(dataset, limit=6)]
    [(6, 4, 4, 3)]
    """
    if isinstance(data, np.ndarray) or (isinstance(data, (list, tuple)) and data
                                        and all(isinstance(a, np.ndarray) for a in data)):
        return _as_list(data)
    if callable(data) and not isinstance(data, tf.data.Dataset):
        data = data()
    parts, count = [], 0
    for batch in data:
        if isinstance(batch, tuple) and len(batch) == 2:
            batch = batch[0]  # (inputs, labels); a model's several inputs come as a list
        arrays = [np.asarray(a, dtype="float32") for a in (batch if isinstance(batch, (list, tuple)) else [batch])]
        parts.append(arrays)
        count += len(arrays[0])
        if count >= limit:
            break
    if not parts:
        raise ValueError("representative_data gave no samples: pass an array, a tf.data.Dataset of image batches "
                         "(or (image, label) batches) or a generator of them.")
    return [np.concatenate(column)[:limit] for column in zip(*parts)]


def _litert_converter_settings(quantize, representative_data):
    if quantize == "float16":
        return {"optimizations": [tf.lite.Optimize.DEFAULT], "target_spec": {"supported_types": [tf.float16]}}
    if quantize == "int8":
        if representative_data is None:
            raise ValueError(
                "int8 quantization needs representative_data: a few hundred training inputs."
            )
        samples = representative_arrays(representative_data)

        def representative_dataset():
            for i in range(len(samples[0])):
                yield [a[i:i + 1] for a in samples]

        return {"optimizations": [tf.lite.Optimize.DEFAULT], "representative_dataset": representative_dataset}
    return {}


def _signature_position(detail):
    # LiteRT names a Keras model's inputs serving_default_args_0, ..._args_0_1, ..._args_0_2.
    parts = detail["name"].split(":")[0].split("_args_0")[-1].lstrip("_")
    return int(parts) if parts else 0


def run_tflite(path, x):
    """Runs a TFLite file one sample at a time; `x` is a batch, or a list of batches (one an input)."""
    from ai_edge_litert.interpreter import Interpreter

    inputs = _as_list(x)
    with quiet.filtered_stderr():  # the interpreter's XNNPACK line
        interpreter = Interpreter(model_path=path)
        interpreter.allocate_tensors()
    details = sorted(interpreter.get_input_details(), key=_signature_position)
    (output_detail,) = interpreter.get_output_details()
    outputs = []
    for i in range(len(inputs[0])):
        for detail, batch in zip(details, inputs):
            interpreter.set_tensor(detail["index"], batch[i:i + 1].astype(detail["dtype"]))
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(output_detail["index"])[0])
    return np.stack(outputs)


def to_tflite(model, path, quantize="none", representative_data=None, sample_data=None, check=True):
    """Exports `model` as a TFLite (LiteRT) file at `path` and checks it.

    Args:
        model: `keras.Model`.
        path: str, ending in `.tflite`.
        quantize: one of `"none"`, `"float16"`, `"int8"` (int8 weights and
            activations, the activations' ranges calibrated on `representative_data`;
            float kernels where an op has none in int8; float inputs and outputs).
        representative_data: inputs to calibrate `"int8"` with (required there): an
            array (a list of arrays for a model with several inputs), a
            `tf.data.Dataset` of input batches or `(inputs, labels)` batches, or a
            generator of them; at most 1,024 samples are used. A few hundred
            training inputs, preprocessed as the model expects.
        sample_data: inputs for the check, or `None`: the
            representative data if given, else `sample_inputs(model)`.
        check: bool; `False` skips the parity check (e.g. to time an
            untrained model, whose int8 outputs need not agree).

    The file takes one sample at a time: its inputs have batch size 1 (LiteRT's usual form on
    devices); `run_tflite` feeds a batch sample by sample.

    Returns:
        `ExportReport`; raises `ValueError` when the export is outside tolerance, and then
        writes nothing at `path` (an earlier file there stays).
    """
    check_choice("quantize", quantize, QUANTIZATIONS)
    partial = _partial(path)  # a missing folder fails here, before the conversion's seconds
    if representative_data is not None:
        representative_data = representative_arrays(representative_data)
    settings = _litert_converter_settings(quantize, representative_data)
    if sample_data is None:
        sample_data = representative_data if representative_data is not None else sample_inputs(model)
    x = _as_list(sample_data)
    specs = [keras.InputSpec(shape=(1, *a.shape[1:]), dtype="float32") for a in x]
    signature = [_model_inputs(specs)]
    with quiet.filtered_stderr():  # about 25 informational converter lines
        model.export(partial, format="litert", input_signature=signature, verbose=False, **settings)
    if not check:
        return _move_into_place(ExportReport(partial, float("nan"), float("nan"), 0), path)
    expected = model.predict(_model_inputs(x), verbose=0)
    report = _report(partial, expected, run_tflite(partial, x))
    return _check(report, quantize, float(np.max(np.abs(expected))), path)
