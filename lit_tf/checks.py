"""What `compress` checks before it trains: data that fits, logits, a teacher that knows something.

Each check raises one `ValueError` that says what to do (or, for a teacher near chance, warns),
before anything is trained or written.

Example:

>>> import numpy as np
>>> from lit_tf import checks, models
>>> model = models.CifarResNet(depth=8, image_shape=(16, 16, 3))
>>> checks.check_data(model, (np.zeros((4, 16, 16, 3)), np.zeros(4, "int64")))
>>> checks.check_data(model, (np.zeros((4, 8, 8, 3)), np.zeros(4, "int64")))
Traceback (most recent call last):
...
ValueError: train_data gives images of shape (8, 8, 3) but resnet8 takes (16, 16, 3): resize or crop them ...
"""

import warnings

import keras

from lit_tf.structure import graph


def _shapes(data):
    """`(image shape, label shape)` of one element of `(x, y)` arrays or a dataset of batches."""
    if isinstance(data, tuple) and len(data) == 2:
        return tuple(keras.ops.shape(data[0])), tuple(keras.ops.shape(data[1]))
    spec = getattr(data, "element_spec", None)
    if not (isinstance(spec, tuple) and len(spec) == 2):
        raise ValueError(f"Training data must be a tf.data.Dataset of (image, label) batches or a tuple (x, y) of "
                         f"arrays. Received: {type(data).__name__} with element_spec={spec}")
    return tuple(spec[0].shape), tuple(spec[1].shape)


def as_batches(data, name="train_data", steps_per_epoch=None):
    """`data` in a form `compress` trains on, from any form `fit` takes.

    `(x, y)` arrays and `tf.data.Dataset`s pass as they are; a `keras.utils.PyDataset` becomes a
    dataset of its batches (read again each epoch); a generator of `(x, y)` batches becomes an
    endless stream, which needs `steps_per_epoch`. Sample weights (`(x, y, w)`) are refused:
    LIT's losses weigh every image alike.
    """
    import itertools

    import numpy as np
    import tensorflow as tf

    if isinstance(data, keras.utils.PyDataset):
        first, read = data[0], lambda: (data[i] for i in range(len(data)))
    elif hasattr(data, "__next__"):
        if name != "train_data" or not steps_per_epoch:
            raise ValueError(f"{name} is a generator, which is read once: pass steps_per_epoch (batches an epoch) "
                             "with an endless train_data generator, or give a tf.data.Dataset or a "
                             "keras.utils.PyDataset" + ("." if name == "train_data" else " as val_data."))
        first = next(data)
        stream = itertools.chain([first], data)
        read = lambda: stream  # noqa: E731  (one stream across epochs)
    else:  # arrays or a dataset, as they are
        first, read = (data if isinstance(data, (tuple, list)) else getattr(data, "element_spec", None)), None
    if isinstance(first, (tuple, list)) and len(first) == 3:
        raise ValueError(f"{name} carries sample weights, (x, y, sample_weight); LIT's losses weigh every image "
                         "alike: give (x, y) batches.")
    if read is None:
        return data
    signature = tuple(tf.TensorSpec((None, *np.shape(part)[1:]), tf.as_dtype(np.asarray(part).dtype))
                      for part in first)
    return tf.data.Dataset.from_generator(read, output_signature=signature)


def check_data(model, data, name="train_data"):
    """Raises one `ValueError` saying what to do when `data` does not fit `model`.

    Checks batches of the model's image shape and integer class ids of shape `(batch,)` or `(batch, 1)`.
    """
    (images, labels), expected = _shapes(data), tuple(model.inputs[0].shape[1:])
    if len(images) == len(expected):
        raise ValueError(f"{name} yields single images of shape {images}, not batches: batch it, e.g. "
                         f"dataset.batch(32). Received: element shape {images}")
    if tuple(images[1:]) != expected:
        raise ValueError(f"{name} gives images of shape {tuple(images[1:])} but {model.name} takes {expected}: "
                         f"resize or crop them to {expected}. Received: batch shape {images}")
    if len(labels) != 1 and not (len(labels) == 2 and labels[1] == 1):
        raise ValueError(f"{name} gives labels of shape {labels}; LIT's KD loss takes integer class ids of shape "
                         f"(batch,): for one-hot labels use argmax (e.g. dataset.map(lambda x, y: (x, "
                         f"tf.argmax(y, -1)))). Received: label shape {labels}")
    _check_labels(model, data, name)


def check_one_input(model, role="teacher"):
    """Raises one `ValueError` for a model with several inputs, which lit_tf does not take yet."""
    if len(model.inputs) != 1:
        raise ValueError(f"The {role} '{model.name}' has {len(model.inputs)} inputs; compress takes models with one "
                         "input (an image batch) for now. Distil it with lit_tf.LITDistiller and your own data, or "
                         "wrap the extra inputs as constants of a one-input model.")


def _check_labels(model, data, name, batches=8):
    """The labels of `(x, y)` arrays, or of a dataset's first `batches` batches: some, and in `[0, classes)`."""
    import numpy as np

    classes = int(model.outputs[0].shape[-1])
    if isinstance(data, tuple):
        labels = [keras.ops.convert_to_numpy(data[1])]
    else:
        labels = [keras.ops.convert_to_numpy(y) for _, y in data.take(batches)]
    labels = np.concatenate([np.reshape(y, -1) for y in labels]) if labels else np.zeros(0)
    if not labels.size:
        raise ValueError(f"{name} is empty: it gave no batch. Check the dataset (a filter or take(0)?) before "
                         "passing it.")
    low, high = labels.min(), labels.max()
    if low < 0 or high >= classes:
        raise ValueError(f"{name} has labels from {low} to {high}, but '{model.name}' gives {classes} logits: "
                         f"labels are class ids in [0, {classes}). Received: a label of {low if low < 0 else high}")


def first_inputs(data, count=8):
    """The first `count` inputs (`None`: the first batch)."""
    if isinstance(data, tuple):
        return data[0][:count]
    return next(iter(data))[0][:count]


def _gives_probabilities(model, images=None):
    """Whether the model ends in a softmax layer (keras.applications' default head), or its outputs on
    `images` are probabilities (in [0, 1], summing to 1)."""
    model_calls = graph.calls(model)
    last = model_calls[graph.producers(model, model_calls)[id(model.outputs[0])] - 1].layer
    activation = getattr(last, "activation", None)
    if isinstance(last, keras.layers.Softmax) or getattr(activation, "__name__", None) == "softmax":
        return True
    if images is None:
        return False
    outputs = keras.ops.convert_to_numpy(model(images, training=False))
    return bool(outputs.min() >= 0 and abs(outputs.sum(axis=-1) - 1).max() < 1e-3)


def check_logits(model, role, images=None):
    """Raises one `ValueError` saying how to get logits when `model` gives probabilities."""
    if _gives_probabilities(model, images):
        raise ValueError(
            f"The {role} '{model.name}' gives probabilities (a softmax ends it); LIT's KD loss takes logits. "
            "Build it without the softmax (keras.applications: classifier_activation=None), or cut it before "
            "the softmax, e.g. keras.Model(model.input, model.layers[-1].input) for a separate Softmax layer.")


def flat_labels(data):
    """`data` with `(batch, 1)` class ids made `(batch,)`, as Keras' sparse losses take both."""
    if isinstance(data, tuple):
        x, y = data
        return (x, keras.ops.convert_to_numpy(y).reshape(-1)) if len(keras.ops.shape(y)) == 2 else data
    if len(data.element_spec[1].shape) == 2:
        import tensorflow as tf

        return data.map(lambda x, y: (x, tf.reshape(y, [-1])))
    return data


def warn_if_untrained(teacher, data, name):
    """Warns when the teacher's accuracy on (up to 512 samples of) `data` is near chance: an untrained teacher
    or one fed other preprocessing teaches nothing, and nothing else would say why."""
    import tensorflow as tf

    from lit_tf.experiments.reporting import accuracy

    if isinstance(data, tuple):
        sample = tf.data.Dataset.from_tensor_slices((data[0][:512], data[1][:512])).batch(64)
    else:
        sample = data.take(max(1, 512 // max(int(first_inputs(data, None).shape[0]), 1)))
    classes = int(teacher.outputs[0].shape[-1])
    score = accuracy(teacher, sample)
    if classes > 1 and score < 2.0 / classes:
        warnings.warn(f"The teacher '{teacher.name}' scores {score:.3f} on {name}, near chance for {classes} classes: "
                      "is it trained, and fed the preprocessing it was trained with? LIT distils what the teacher "
                      "knows.", stacklevel=3)
    return score
