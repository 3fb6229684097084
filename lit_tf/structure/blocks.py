"""The blocks of a functional Keras model, found in its layer graph, and the sections they form.

A *block* is what a shallower student of the same family drops:

- a region of the layer graph with one tensor in and one out that forks and joins again: a
  residual or multi-branch unit (CIFAR ResNet/ResNeXt blocks, the residual units of
  `keras.applications` ResNet, ResNetV2, MobileNetV2, EfficientNet), with the weightless
  layers that follow it at the same shape (the ReLU after a residual sum). A region joined by
  `Multiply` is a gate inside a block (squeeze-and-excitation), not a block;
- or one nested layer or sub-model whose output keeps its input's shape (a transformer layer).

A block whose output shape differs from its input's (a stride-2 first block) is never removed.
Boundaries are never crossed: a block ends at a boundary layer.

Example:

>>> from lit_tf import models

>>> from lit_tf.structure import blocks
>>> resnet20 = models.get("resnet20")
>>> blocks.find_boundaries(resnet20)
['stem', 'section_1', 'section_2', 'section_3']
>>> found = blocks.find_blocks(resnet20)
>>> [len(section) for section in found], [block.removable for block in found[1]]
([3, 3, 3], [False, True, True])
>>> print(found[1][0])
block 0: section_2_block1_conv1_pad ... section_2_block1_out, (32, 32, 16) -> (16, 16, 32), kept always
"""

import dataclasses

import keras

from lit_tf.structure import graph

NOT_A_BLOCK = (
    "A block is a region of the layer graph with one tensor in and one out that forks and joins again "
    "(a residual or multi-branch unit), or a nested layer or sub-model whose output keeps its input's shape."
)


@dataclasses.dataclass(frozen=True)
class Block:
    """One block of a section, in graph order.

    Attributes:
        index: int, its place in its section, from 0.
        layers: tuple of str, its layers' names in graph order.
        input_shape, output_shape: tuples, without the batch dimension.
    """

    index: int
    layers: tuple
    input_shape: tuple
    output_shape: tuple
    positions: tuple = dataclasses.field(repr=False, compare=False)  # its calls' `graph.Call.position`s
    entry: object = dataclasses.field(default=None, repr=False, compare=False)  # the KerasTensor it consumes

    @property
    def removable(self):
        """Whether a student may drop it: its output has its input's shape."""
        return self.input_shape == self.output_shape

    @property
    def output_layer(self):
        """The name of the layer whose output is the block's."""
        return self.layers[-1]

    def __str__(self):
        span = self.layers[0] if len(self.layers) == 1 else f"{self.layers[0]} ... {self.layers[-1]}"
        kept = "removable" if self.removable else "kept always"
        return f"block {self.index}: {span}, {self.input_shape} -> {self.output_shape}, {kept}"


def _shape(tensor):
    return tuple(tensor.shape[1:])


def _segments(model_calls, cuts):
    """The calls between consecutive cut positions: `[[call, ...], ...]`."""
    return [model_calls[start:end] for start, end in zip(cuts[:-1], cuts[1:])]  # positions start+1..end


def _is_core(segment):
    """A fork-join region (not a gate), or a nested layer that keeps its input's shape."""
    last = segment[-1]
    if len(segment) > 1:
        return not isinstance(last.layer, keras.layers.Multiply)
    return bool(graph.sublayers(last.layer)) and len(last.inputs) >= 1 and all(
        _shape(t) == _shape(last.outputs[0]) for t in last.inputs)


def _is_trailing(segment, shape):
    """One weightless layer keeping the shape (an activation after a residual sum)."""
    (call,) = segment if len(segment) == 1 else (None,)
    return call is not None and not call.layer.weights and _shape(call.outputs[0]) == shape


def _all_blocks(model, stops=()):
    """Every block of `model` in graph order (each with index 0); a block ends at a `stops` position."""
    model_calls = graph.calls(model)
    segments = _segments(model_calls, graph.cut_positions(model, model_calls))
    found, current = [], None
    for segment in segments:
        if _is_core(segment):
            current = list(segment)
            found.append(current)
        elif current is not None and current[-1].position not in stops and _is_trailing(
                segment, _shape(current[-1].outputs[0])):
            current.extend(segment)
        else:
            current = None
        if current is not None and current[-1].position in stops:
            current = None
    produced_at = graph.producers(model, model_calls)
    blocks = []
    for calls in found:
        positions = tuple(call.position for call in calls)  # consecutive: a block lies between two cuts
        entry = next(t for call in calls for t in call.inputs if produced_at[id(t)] not in positions)
        blocks.append(Block(0, tuple(call.layer.name for call in calls), _shape(entry),
                            _shape(calls[-1].outputs[0]), positions, entry))
    return blocks


def _no_block_error(model):
    return ValueError(f"Model '{model.name}' has no block. {NOT_A_BLOCK} None was found, so no shallower "
                      "student can be cut from it: build the student yourself and pass it with boundaries.")


def find_boundaries(model):
    """Proposes LIT boundaries: one section per stage of blocks between shape changes.

    The first name is the layer before the first block (the stem's last), then each stage's last
    block's output layer. A stage starts where the shape changes (in a block, or in the layers
    between blocks), unless the stage so far holds no removable block, so every section has a block
    to drop. For CIFAR ResNets this is exactly `["stem", "section_1", "section_2", "section_3"]`.

    Raises:
        ValueError: the model has no block.
    """
    found = _all_blocks(model)
    if not found:
        raise _no_block_error(model)
    names = {call.position: call.layer.name for call in graph.calls(model)}
    names[0] = graph.input_names(model)[0]
    boundaries, removable_so_far = [names[graph.producers(model)[id(found[0].entry)]]], False
    for previous, block in zip(found, found[1:]):
        removable_so_far |= previous.removable
        if (block.input_shape != previous.output_shape or not block.removable) and removable_so_far:
            boundaries.append(previous.output_layer)
            removable_so_far = False
    return boundaries + [found[-1].output_layer]


def find_blocks(model, boundaries=None):
    """Lists each section's blocks in order, so you can see what a student's `keep` acts on.

    Args:
        model: `keras.Model`, functional.
        boundaries: list of str, K+1 boundary layer names, or `None` for `find_boundaries(model)`.

    Returns:
        list of K lists of `Block` (print one to see its layers, shapes and whether it can go).

    Raises:
        ValueError: a boundary is unknown, or no section holds a block.
    """
    boundaries = list(boundaries) if boundaries is not None else find_boundaries(model)
    model_calls = graph.calls(model)
    produced_at = graph.producers(model, model_calls)
    positions = [produced_at[id(tensor)] for tensor in graph.boundary_tensors(model, boundaries)]
    cuts = set(graph.cut_positions(model, model_calls))
    for name, position in zip(boundaries, positions):
        if position not in cuts:
            raise ValueError(f"Boundary '{name}' of model '{model.name}' is not a clean cut: a skip connection "
                             "crosses it. Choose boundary layers that every path of the graph passes through. "
                             f"Received: boundaries={boundaries}")
    sections = [[] for _ in boundaries[1:]]
    for block in _all_blocks(model, stops=set(positions)):
        for k, (start, end) in enumerate(zip(positions[:-1], positions[1:])):
            if start < block.positions[0] and block.positions[-1] <= end:
                sections[k].append(dataclasses.replace(block, index=len(sections[k])))
    if not any(sections):
        raise _no_block_error(model)
    return sections
