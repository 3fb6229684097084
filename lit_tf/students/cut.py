"""Cut a shallower student out of its teacher: blocks removed, the graph rewired, weights from the teacher.

`shallower` keeps `keep` blocks of each section, spread evenly or chosen by importance
(`choose_blocks`), and rewires the graph around the rest; see the package's docstring.

Example:

>>> from lit_tf.students import cut
>>> cut.spread(9, 3)
[0, 4, 8]
"""

import keras
import numpy as np

from lit_tf.options import STUDENT_CHOICES
from lit_tf.options import check_choice
from lit_tf.structure import graph
from lit_tf.structure import weight_copy
from lit_tf.structure.blocks import find_blocks
from lit_tf.structure.blocks import find_boundaries
from lit_tf.students import importance

INITS = ("teacher", "random")


def spread(count, keep):
    """`keep` indices of `range(count)` spread evenly, first and last included.

    >>> spread(9, 3), spread(9, 1), spread(4, 4)
    ([0, 4, 8], [0], [0, 1, 2, 3])
    """
    return sorted({int(round(i)) for i in np.linspace(0, count - 1, keep)})


def _blocks(count):
    return f"{count} block{'s' * (count != 1)}"


def _kept_in_section(name, blocks, keep):
    """The indices of `blocks` (one section's) that stay, from an int count or a list of indices."""
    fixed = [block.index for block in blocks if not block.removable]
    if isinstance(keep, int) and not isinstance(keep, bool):
        if not 1 <= keep <= len(blocks):
            raise ValueError(f"Section '{name}' has {_blocks(len(blocks))}, so it keeps 1 to {len(blocks)} of "
                             f"them. Received: keep={keep} for it")
        if len(fixed) > keep:
            raise ValueError(f"Section '{name}' has {_blocks(len(fixed))} that change shape and always stay, "
                             f"more than keep={keep}: keep at least {len(fixed)} there.")
        kept = spread(len(blocks), keep)
        if not set(fixed) <= set(kept):  # the blocks that must stay, then the rest spread over the others
            others = [block.index for block in blocks if block.removable]
            kept = sorted(set(fixed) | {others[i] for i in spread(len(others), keep - len(fixed))}
                          if keep > len(fixed) else set(fixed))
        return kept
    kept = sorted(set(keep))
    if not kept or any(not isinstance(i, (int, np.integer)) or not 0 <= i < len(blocks) for i in kept):
        raise ValueError(f"Section '{name}' keeps block indices from 0 to {len(blocks) - 1} (at least one). "
                         f"Received: {list(keep)}")
    missing = [i for i in fixed if i not in kept]
    if missing:
        raise ValueError(f"Section '{name}': block {missing[0]} changes shape ({blocks[missing[0]]}) and cannot "
                         f"be removed; include index {missing[0]}. Received: {list(keep)}")
    return [int(i) for i in kept]


def kept_blocks(sections_blocks, keep, names):
    """Resolves `keep` (see `shallower`) into each section's kept block indices."""
    if isinstance(keep, int) and not isinstance(keep, bool):
        keep = [keep] * len(sections_blocks)
    if not isinstance(keep, (list, tuple)) or len(keep) != len(sections_blocks):
        raise ValueError(f"keep is an int for every section, or one entry per section ({len(sections_blocks)} "
                         f"here: {names}), each a count or a list of block indices. Received: keep={keep!r}")
    return [_kept_in_section(name, blocks, k) for name, blocks, k in zip(names, sections_blocks, keep)]


def _clone(layer, name=None):
    """A new, unbuilt layer (or sub-model) of `layer`'s configuration, trainable, renamed to `name`."""
    config = layer.get_config()
    config["trainable"] = True  # the stages decide what trains, not a teacher frozen earlier
    if name:
        config["name"] = name
    return layer.__class__.from_config(config)


def choose_blocks(teacher, keep, boundaries=None, choose="spread", data=None):
    """The block indices each section of `teacher` keeps, one list a section (see `shallower`).

    Example:

    >>> from lit_tf import models, students
    >>> students.choose_blocks(models.get("resnet56"), keep=3)
    [[0, 4, 8], [0, 4, 8], [0, 4, 8]]
    """
    check_choice("choose", choose, STUDENT_CHOICES)
    boundaries = list(boundaries) if boundaries is not None else find_boundaries(teacher)
    sections_blocks = find_blocks(teacher, boundaries)
    kept = kept_blocks(sections_blocks, keep, boundaries[1:])  # checks `keep`; counts spread
    if choose == "spread":
        return kept
    if data is None:
        raise ValueError(f"choose={choose!r} weighs the teacher's blocks on its own activations: pass data=, a "
                         "few batches of inputs (a tf.data.Dataset of (x, y) batches, or an array).")
    given = keep if isinstance(keep, (list, tuple)) else [keep] * len(sections_blocks)
    probes = importance.section_probes(teacher, data, boundaries)
    return [indices if isinstance(k, (list, tuple)) else _chosen_in_section(probe, len(indices), choose)
            for probe, indices, k in zip(probes, kept, given)]


def _chosen_in_section(probe, count, choose):
    """`count` blocks of one section: the joint choice, or the shape-changing blocks then the best scores."""
    if choose == "importance":
        return probe.best_kept(count)[0]
    every = range(len(probe.blocks))
    scores = probe.influence() if choose == "block_influence" else [
        probe.ir([i for i in every if i != index]) if index in probe.removable else None for index in every]
    ranked = sorted(probe.removable, key=lambda i: -scores[i])  # the highest first; equals by index
    return sorted(probe.fixed + ranked[:count - len(probe.fixed)])


def shallower(teacher, keep, boundaries=None, init="teacher", name=None, choose="spread", data=None):
    """Returns a new functional `keras.Model`: `teacher` with blocks removed and the graph rewired.

    Args:
        teacher: `keras.Model`, functional; it is not changed.
        keep: how many blocks of each section stay, the ones that change shape included: an int
            for every section, a list with one int per section, or a list with one list of block
            indices (from 0, as `find_blocks` numbers them) per section. Counts keep blocks spread
            over the section, first and last included: `keep=3` on a ResNet-56 keeps blocks 0, 4
            and 8 of each stage (its 1st, 5th and 9th), ResNet-20's structure.
        boundaries: list of str, the K+1 boundary layer names, or `None` for
            `lit_tf.structure.blocks.find_boundaries(teacher)`. The student's boundary layers carry these
            names, so one list serves both models.
        init: "teacher" copies every kept layer's weights (BatchNorm statistics included) and the
            stem and head; "random" starts the kept blocks from their initializers (the paper's
            start) and copies the stem and head.
        name: str, the student's name; default `<teacher>_shallow`.
        choose: which blocks a count keeps: "spread" (evenly, first and last included) or
            "importance": the shape-changing ones, then those whose section, run on the teacher's
            activations with exactly the kept blocks, is closest to the teacher's (the set judged
            jointly: every combination when at most `lit_tf.students.importance.MAX_COMBINATIONS`, else
            one block removed at a time). "single" and "block_influence" keep the blocks with the
            highest single scores (`block_importance`'s "ir" and "block_influence"), the rules
            "importance" is measured against. Lists of indices are kept as given either way.
        data: with `choose="importance"`, inputs to run the teacher on (a `tf.data.Dataset` of
            `(x, y)` batches, or an array); up to 128 are used.

    Raises:
        ValueError: no block was found, `keep` asks for more blocks than a section has (or drops
            one that changes shape), `init` or `choose` is unknown, or `"importance"` has no data.

    Example:

    >>> import numpy as np
    >>> from lit_tf import models, structure, students
    >>> teacher = models.CifarResNet(depth=32, image_shape=(16, 16, 3), filters=(8, 8, 8))
    >>> x = np.random.default_rng(0).random((8, 16, 16, 3), "float32")
    >>> student = students.shallower(teacher, keep=2, choose="importance", data=x)
    >>> tuple(len(section) for section in structure.find_blocks(student))
    (2, 2, 2)
    """
    check_choice("init", init, INITS)
    boundaries = list(boundaries) if boundaries is not None else find_boundaries(teacher)
    kept = choose_blocks(teacher, keep, boundaries, choose, data)
    sections_blocks = find_blocks(teacher, boundaries)
    removed = [block for blocks, indices in zip(sections_blocks, kept) for block in blocks
               if block.index not in indices]
    renamed = {}  # a section whose last block goes: its last kept block's output takes the boundary's name
    for boundary, blocks, indices in zip(boundaries[1:], sections_blocks, kept):
        if blocks[-1].output_layer == boundary and blocks[-1].index not in indices:
            renamed[blocks[indices[-1]].output_layer] = boundary
    student, pairs = _rewire(teacher, removed, renamed, name or f"{teacher.name}_shallow")
    if init == "teacher":
        for layer, clone in pairs:
            clone.set_weights(layer.get_weights())
    else:
        weight_copy.copy_stem_and_head(teacher, student, boundaries)
    return student


def _rewire(teacher, removed, renamed, name):
    """The teacher's graph replayed on fresh layers, each removed block's output replaced by its input.

    Returns the model and `(teacher layer, its clone)` pairs.
    """
    skipped = {position: block for block in removed for position in block.positions}
    inputs = [keras.Input(shape=t.shape[1:], dtype=t.dtype, name=name)
              for t, name in zip(teacher.inputs, graph.input_names(teacher))]
    tensors = {id(old): new for old, new in zip(teacher.inputs, inputs)}
    clones = {}
    for call in graph.calls(teacher):
        block = skipped.get(call.position)
        if block is not None:
            if call.position == block.positions[-1]:  # the block's output is now its input
                tensors[id(call.outputs[0])] = tensors[id(block.entry)]
            continue
        if id(call.layer) not in clones:
            clones[id(call.layer)] = (call.layer, _clone(call.layer, renamed.get(call.layer.name)))
        for old, new in zip(call.outputs, call.replay(clones[id(call.layer)][1], tensors)):
            tensors[id(old)] = new
    outputs = [tensors[id(t)] for t in teacher.outputs]
    student = keras.Model(inputs, outputs[0] if len(outputs) == 1 else outputs, name=name)
    return student, list(clones.values())
