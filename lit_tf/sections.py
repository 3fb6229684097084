"""Cut a functional Keras model into named, separately callable sections.

LIT (Koratana et al. 2019) cuts teacher and student into the same number of
sections with matching boundary shapes. A model is cut by an ordered list of
K+1 layer names `[b0, b1, ..., bK]`: section k runs from the output of layer
b(k-1) to the output of layer bk. Layers up to b0 are the *stem*, layers after
bK the *head*.

Example:

>>> import keras
>>> from lit_tf import sections
>>> inputs = keras.Input((8,))
>>> x = keras.layers.Dense(4, name="stem")(inputs)
>>> x = keras.layers.Dense(4, name="section_1")(x)
>>> outputs = keras.layers.Dense(2, name="head")(x)
>>> model = keras.Model(inputs, outputs)
>>> [s.name for s in sections.cut(model, ["stem", "section_1"])]
['section_1']
"""

import difflib

import keras


def _require_functional(model):
    if not isinstance(model, keras.Model) or not hasattr(model, "_nodes_by_depth"):
        raise ValueError(
            "LIT cuts functional Keras models (built as keras.Model(inputs, "
            f"outputs)) by layer name. Received: {type(model).__name__} "
            f"'{getattr(model, 'name', model)}', which has no layer graph. "
            "Rebuild it with the functional API."
        )


def layer_outputs(model):
    """Maps each layer name to its output tensors in `model`'s own graph.

    `layer.output` is not enough: for a nested sub-model it names the
    sub-model's inner tensor, not the one the outer graph passes on.

    Args:
        model: `keras.Model`, functional.

    Returns:
        dict from layer name to the list of output `KerasTensor`s of its node,
        or to `None` for a layer called more than once in the graph.
    """
    _require_functional(model)
    outputs = {}
    # `_nodes_by_depth` is the only view Keras gives of a graph's own nodes.
    for nodes in model._nodes_by_depth.values():
        for node in nodes:
            name = node.operation.name
            outputs[name] = None if name in outputs else list(node.output_tensors)
    return outputs


def _check_count(boundaries):
    if len(boundaries) < 2:
        raise ValueError(
            "A model is cut by at least two boundary layer names (the stem's "
            f"last layer, then one per section). Received: boundaries={boundaries}"
        )


def boundary_tensors(model, boundaries):
    """Returns the output tensor of each named boundary layer.

    Args:
        model: `keras.Model`, functional.
        boundaries: list of str, layer names.

    Raises:
        ValueError: a name is unknown, the layer is called more than once, or
            it has more than one output.
    """
    if len(set(boundaries)) != len(boundaries):
        raise ValueError(f"Boundary names repeat. Received: boundaries={boundaries}")
    outputs = layer_outputs(model)
    tensors = []
    for name in boundaries:
        if name not in outputs:
            close = difflib.get_close_matches(name, list(outputs), n=5, cutoff=0.5)
            hint = f" Close names: {close}." if close else ""
            raise ValueError(
                f"Model '{model.name}' has no layer '{name}'.{hint} "
                f"Received: boundaries={boundaries}"
            )
        if outputs[name] is None or len(outputs[name]) != 1:
            raise ValueError(
                f"Boundary layer '{name}' of model '{model.name}' must be called "
                "once and give one tensor; it is shared or has several outputs. "
                f"Received: boundaries={boundaries}"
            )
        tensors.append(outputs[name][0])
    return tensors


def cut(model, boundaries):
    """Cuts `model` into K separately callable sections sharing its weights.

    Args:
        model: `keras.Model`, functional (nested sub-models are fine).
        boundaries: list of str, K+1 layer names `[b0, ..., bK]`.

    Returns:
        list of K `keras.Model`s; section k maps the output of b(k-1) to the
        output of bk and is named bk.

    Raises:
        ValueError: a boundary does not cut the graph (a skip connection
            crosses it), or see `boundary_tensors`.
    """
    _check_count(boundaries)
    tensors = boundary_tensors(model, boundaries)
    sections = []
    for k in range(1, len(boundaries)):
        try:
            section = keras.Model(tensors[k - 1], tensors[k], name=boundaries[k])
        except ValueError as error:
            raise ValueError(
                f"Section '{boundaries[k]}' of model '{model.name}' is not cut "
                f"cleanly: its output depends on more than the output of "
                f"'{boundaries[k - 1]}' (a skip connection crosses the boundary). "
                "Choose boundary layers that every path of the graph passes "
                f"through. Received: boundaries={boundaries}"
            ) from error
        sections.append(section)
    return sections


def boundary_model(model, boundaries):
    """Returns a model computing `[f0, ..., fK, outputs]` in one forward pass.

    Args:
        model: `keras.Model`, functional, with a single output.
        boundaries: list of str, K+1 layer names.
    """
    tensors = boundary_tensors(model, boundaries)
    if len(model.outputs) != 1:
        raise ValueError(
            f"LIT needs a model with one output (the logits); model "
            f"'{model.name}' has {len(model.outputs)}."
        )
    return keras.Model(
        model.input, [*tensors, model.outputs[0]], name=f"{model.name}_boundaries"
    )


def head_model(model, boundaries):
    """Returns the model's head as a model: the output of the last boundary in, the output out.

    Raises:
        ValueError: the head needs more than the last boundary (a skip connection
            crosses it), or see `boundary_tensors`.
    """
    tensors = boundary_tensors(model, boundaries)
    try:
        return keras.Model(tensors[-1], model.outputs[0], name=f"{model.name}_head")
    except ValueError as error:
        raise ValueError(
            f"The head of model '{model.name}' depends on more than the output of "
            f"'{boundaries[-1]}'. Received: boundaries={boundaries}") from error


def same_stems(teacher, student, teacher_boundaries, student_boundaries):
    """Whether the two stems compute the same function: layer by layer the same class, the
    same configuration but name and `trainable`, and equal weights (a student whose stem is a copy of
    the teacher's, as LIT starts it).
    """
    teacher_stem, _, _ = split_layers(teacher, teacher_boundaries)
    student_stem, _, _ = split_layers(student, student_boundaries)
    if len(teacher_stem) != len(student_stem):
        return False
    for t, s in zip(teacher_stem, student_stem):
        t_config, s_config = dict(t.get_config()), dict(s.get_config())
        for key in ("name", "trainable"):
            t_config.pop(key, None)
            s_config.pop(key, None)
        if type(t) is not type(s) or t_config != s_config:
            return False
        t_weights, s_weights = t.get_weights(), s.get_weights()
        if len(t_weights) != len(s_weights) or any(
                a.shape != b.shape or (a != b).any() for a, b in zip(t_weights, s_weights)):
            return False
    return True


def check_compatible(teacher, student, teacher_boundaries, student_boundaries):
    """Raises `ValueError` unless every boundary shape matches.

    Student section k consumes the teacher's activation at b(k-1) and is
    compared with the teacher's at bk, so all K+1 shapes must agree.
    """
    if len(teacher_boundaries) != len(student_boundaries):
        raise ValueError(
            f"Teacher and student need the same number of sections. Received: "
            f"teacher boundaries={teacher_boundaries}, "
            f"student boundaries={student_boundaries}"
        )
    _check_count(teacher_boundaries)
    teacher_tensors = boundary_tensors(teacher, teacher_boundaries)
    student_tensors = boundary_tensors(student, student_boundaries)
    for k, (t, s) in enumerate(zip(teacher_tensors, student_tensors)):
        if tuple(t.shape[1:]) != tuple(s.shape[1:]):
            where = "The stem" if k == 0 else f"Section '{teacher_boundaries[k]}'"
            raise ValueError(
                f"{where} ends in shape {tuple(t.shape[1:])} in the teacher but "
                f"{tuple(s.shape[1:])} in the student. Received: teacher "
                f"boundaries={teacher_boundaries}, student boundaries="
                f"{student_boundaries}"
            )


def _without_inputs(layers):
    return [layer for layer in layers if not isinstance(layer, keras.layers.InputLayer)]


def split_layers(model, boundaries):
    """Splits the layers of `model` into stem, sections and head.

    Returns:
        tuple `(stem, sections, head)`: lists of layers in graph order,
        `sections` holding one list per section.
    """
    tensors = boundary_tensors(model, boundaries)
    stem = _without_inputs(keras.Model(model.input, tensors[0]).layers)
    section_layers = [_without_inputs(s.layers) for s in cut(model, boundaries)]
    inside = {id(layer) for layer in stem}
    inside.update(id(layer) for layers in section_layers for layer in layers)
    head = [
        layer for layer in _without_inputs(model.layers) if id(layer) not in inside
    ]
    return stem, section_layers, head


def distiller_from_config(cls, config):
    """`cls(**config)` with its serialized `teacher` and `student` rebuilt: the distillers' `from_config`."""
    config = dict(config)
    for name in ("teacher", "student"):
        config[name] = keras.saving.deserialize_keras_object(config[name])
    return cls(**config)


def set_trainable(layer, value):
    """`layer.trainable = value` that always reaches the layer's variables.

    Keras 3.15 on TensorFlow skips an attribute assignment that does not change the
    value (`self.x = self.x`), so `layer.trainable = True` on a trainable layer leaves
    variables frozen one by one (`freeze_stem_and_head_weights`) frozen.
    """
    layer.trainable = not value
    layer.trainable = value


def freeze(model):
    """Makes every layer and weight of `model` non-trainable, whatever state it came in.

    `model.trainable = False` alone is not enough for a model loaded from a
    `.keras` file that was saved frozen: Keras 3.15 restores it with
    `trainable == False` on the model but trainable layers and weights, and
    setting `False` again changes nothing, so a distiller's optimizer would
    train the "frozen" teacher. Each layer is set explicitly.
    """
    set_trainable(model, False)
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            freeze(layer)
        else:
            set_trainable(layer, False)


def freeze_outside_sections(model, boundaries, frozen=True):
    """Sets `trainable=not frozen` on the stem and head layers of `model`.

    Frozen BatchNormalization layers run in inference mode, as the reference
    code's `student.eval()` does during the LIT stage. `frozen=False` undoes
    it (setting `model.trainable = True` does not reach layers frozen one by
    one while the model itself is still trainable).
    """
    stem, _, head = split_layers(model, boundaries)
    for layer in stem + head:
        set_trainable(layer, not frozen)


def freeze_stem_and_head_weights(model, boundaries):
    """Stops the stem's and head's weights from training; their layers stay in training mode.

    The LIT reference's fine-tune: `requires_grad=False` left from the LIT stage keeps
    the stem and head weights unchanged (no gradient, no weight decay), while
    `student.train()` puts every BatchNorm in training mode, so the stem's normalises
    with batch statistics and updates its moving ones. Undo with
    `freeze_outside_sections(model, boundaries, frozen=False)`.
    """
    stem, _, head = split_layers(model, boundaries)
    for layer in stem + head:
        set_trainable(layer, True)
        for variable in layer.trainable_weights:
            variable.trainable = False


def _copy_layers(part, teacher_layers, student_layers):
    teacher_layers = [layer for layer in teacher_layers if layer.weights]
    student_layers = [layer for layer in student_layers if layer.weights]
    teacher_shapes = [[tuple(w.shape) for w in layer.weights] for layer in teacher_layers]
    student_shapes = [[tuple(w.shape) for w in layer.weights] for layer in student_layers]
    if teacher_shapes != student_shapes:
        raise ValueError(
            f"The student's {part} cannot start as a copy of the teacher's: "
            f"their weights differ. Teacher {part}: "
            f"{[layer.name for layer in teacher_layers]} with shapes "
            f"{teacher_shapes}; student {part}: "
            f"{[layer.name for layer in student_layers]} with shapes "
            f"{student_shapes}."
        )
    for source, target in zip(teacher_layers, student_layers):
        target.set_weights(source.get_weights())
    return [layer.name for layer in student_layers]


def copy_stem_and_head(teacher, student, boundaries, student_boundaries=None):
    """Initialises the student's stem and head with the teacher's weights.

    Layers are paired in graph order; the stems (and heads) must hold the
    same weight shapes, as in the reference, where the student is the same
    family at a smaller depth.

    Args:
        teacher: `keras.Model`, functional.
        student: `keras.Model`, functional.
        boundaries: list of str, the teacher's boundary layer names.
        student_boundaries: list of str, or `None` to use `boundaries`.

    Returns:
        list of str: the names of the student layers that were copied.
    """
    student_boundaries = student_boundaries or boundaries
    teacher_stem, _, teacher_head = split_layers(teacher, boundaries)
    student_stem, _, student_head = split_layers(student, student_boundaries)
    return _copy_layers("stem", teacher_stem, student_stem) + _copy_layers(
        "head", teacher_head, student_head
    )
