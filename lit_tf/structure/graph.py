"""The layer graph of a functional Keras model: its calls in order, and the tensors every path crosses.

Keras 3 has no public view of a functional model's own graph (which layer call consumes
which tensor, with which arguments). This module is the one place lit_tf reads it, through
`lit_tf._compat` (`Functional._nodes_by_depth`, `Node.arguments`, `Layer._flatten_layers` of
Keras 3.15); everything else (sections, blocks, students) goes through `calls`, `cut_positions`,
`sublayers` and `Call.replay`.

Example:

>>> import keras
>>> from lit_tf.structure import graph
>>> inputs = keras.Input((4,))
>>> x = keras.layers.Dense(4, name="stem")(inputs)
>>> y = keras.layers.Dense(4, name="branch")(x)
>>> x = keras.layers.Add(name="join")([x, y])
>>> model = keras.Model(inputs, keras.layers.Dense(2, name="head")(x))
>>> [call.layer.name for call in graph.calls(model)]
['stem', 'branch', 'join', 'head']
>>> graph.cut_positions(model)  # every path crosses the input, stem's, join's and head's outputs
[0, 1, 3, 4]
"""

import dataclasses
import difflib

import keras

from lit_tf import _compat


def _nodes_by_depth(model):
    """The model's `{depth: [node, ...]}`; a built `keras.Sequential` through a functional view of its layers."""
    require_functional(model)
    if isinstance(model, keras.Sequential):
        model = keras.Model(model.inputs, model.outputs, name=model.name)  # the same layers and tensors
    return _compat.nodes_by_depth(model)


def require_functional(model):
    """Raises `ValueError` unless `model` has a layer graph: a functional `keras.Model` or a built Sequential."""
    if isinstance(model, keras.Sequential):
        if not model.built or not model.inputs:
            raise ValueError(f"Sequential model '{model.name}' is not built, so it has no layer graph yet: start it "
                             "with keras.Input(shape) (or call it on data once).")
        return
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
        dict from layer name to the list of output `KerasTensor`s of its node (input layers
        included), or to `None` for a layer called more than once in the graph.
    """
    outputs = {}
    for nodes in _nodes_by_depth(model).values():
        for node in nodes:
            name = node.operation.name
            outputs[name] = None if name in outputs else list(node.output_tensors)
    return outputs


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


@dataclasses.dataclass(frozen=True, eq=False)
class Call:
    """One call of a layer in a model's graph.

    Attributes:
        position: int, from 1 in graph order (0 stands for the model's inputs).
        layer: the `keras.Layer` called.
        inputs: tuple of the `KerasTensor`s it consumes.
        outputs: tuple of the `KerasTensor`s it gives.
    """

    position: int
    layer: keras.Layer
    inputs: tuple
    outputs: tuple
    _node: object = dataclasses.field(repr=False)

    def replay(self, layer, tensors):
        """Calls `layer` as this call called its layer, each input tensor replaced by
        `tensors[id(tensor)]`; returns the flat list of outputs."""
        args, kwargs = _compat.fill_in(self._node, tensors)
        return keras.tree.flatten(layer(*args, **kwargs))


def calls(model):
    """The model's layer calls in an order where every call comes after those it consumes.

    Input layers are left out; the model's inputs are `model.inputs`.
    """
    by_depth = _nodes_by_depth(model)
    nodes = [node for depth in sorted(by_depth, reverse=True)  # deepest first: inputs
             for node in by_depth[depth] if node.operation is not None and not node.is_input]
    return [Call(k, node.operation, tuple(node.input_tensors), tuple(node.output_tensors), node)
            for k, node in enumerate(nodes, start=1)]


def input_names(model):
    """The names of the input layers of `model.inputs`, in that order."""
    names = {id(tensor): node.operation.name for nodes in _nodes_by_depth(model).values() for node in nodes
             if node.is_input for tensor in node.output_tensors}
    return [names[id(tensor)] for tensor in model.inputs]


def producers(model, model_calls=None):
    """Maps `id(tensor)` to the position of the call giving it (0 for the model's inputs)."""
    positions = {id(tensor): 0 for tensor in model.inputs}
    for call in model_calls or calls(model):
        positions.update((id(tensor), call.position) for tensor in call.outputs)
    return positions


def cut_positions(model, model_calls=None):
    """The positions whose output every path from the inputs to the outputs passes through.

    0 (the inputs, when there is one) comes first. A call with several outputs is never a cut. A
    call at position i is one when no edge of the graph jumps over it (from a call before i to one
    after i); this does not depend on which graph order is used, since every call lies on a path
    from an input to an output.
    """
    model_calls = model_calls or calls(model)
    produced_at = producers(model, model_calls)
    sink = len(model_calls) + 1
    jumped = [0] * (sink + 2)  # difference array: positions strictly inside an edge are jumped
    edges = [(produced_at[id(t)], call.position) for call in model_calls for t in call.inputs]
    edges += [(produced_at[id(t)], sink) for t in model.outputs]
    for start, end in edges:
        jumped[start + 1] += 1
        jumped[end] -= 1
    cuts, crossing = [0] if len(model.inputs) == 1 else [], 0
    for call in model_calls:
        crossing += jumped[call.position]
        if not crossing and len(call.outputs) == 1:
            cuts.append(call.position)
    return cuts


def sublayers(layer):
    """The layers nested in `layer` (a sub-model's, or a custom layer's own), none for a plain layer.

    Keras 3.15's `Layer._flatten_layers` is the only way to list a plain layer's sublayers.
    """
    if isinstance(layer, keras.Model):
        return list(layer.layers)
    return _compat.sublayers(layer)
