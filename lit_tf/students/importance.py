"""Which of a teacher's blocks matter, measured on the teacher's own activations before any training.

LIT (Koratana et al. 2019) trains each student section to reproduce the teacher's boundary
activation `f(k)` from the teacher's `f(k-1)`. The teacher itself says what a shallower section
loses: run its section on `f(k-1)` with some blocks replaced by the identity, and the relative IR
error, `sum((section(f(k-1)) - f(k))^2) / sum(f(k)^2)`, measures what those blocks carried.

- `block_importance(teacher, data)`: one score a block; `measure="ir"` removes that block alone,
  `measure="block_influence"` is Minitron's and ShortGPT's `1 - cos(block input, block output)`,
  the cosine over channels at each position, averaged.
- `SectionProbe.best_kept(count)`: the blocks a section keeps, judged *jointly* (the IR of exactly
  that set, teacher-fed): every combination when they are few, else removing one block at a time,
  each time the one whose removal costs least. Single-block scores do not add up.

Example:

>>> import numpy as np
>>> from lit_tf import models
>>> from lit_tf.students import importance
>>> teacher = models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8))
>>> x = np.random.default_rng(0).random((8, 16, 16, 3), "float32")
>>> scores = importance.block_importance(teacher, x)
>>> [len(section) for section in scores], scores[1][0]  # block 0 of stage 2 changes shape: no score
([2, 2, 2], None)
>>> probes = importance.section_probes(teacher, x)
>>> probes[0].best_kept(2)  # both blocks of stage 1: nothing lost
([0, 1], 0.0)
"""

import collections
import itertools
import math

import keras
import numpy as np

from lit_tf.options import check_choice
from lit_tf.structure import graph
from lit_tf.structure.blocks import find_blocks
from lit_tf.structure.blocks import find_boundaries
from lit_tf.structure.sections import Sections

MEASURES = ("ir", "block_influence")
# Above this many combinations for one count, a section's kept set is found greedily.
MAX_COMBINATIONS = 256


def _prefix(kept, index):
    return tuple(i for i in kept if i <= index)


def sample_inputs(data, images=128):
    """Up to `images` model inputs from `data`, as a list of batches (numpy arrays).

    Args:
        data: a `tf.data.Dataset` of `(x, y)` batches (or of `x` batches), a tuple `(x, y)` of
            arrays, or an array of inputs.
        images: int, how many inputs to take (whole batches from a dataset, the last one cut).
    """
    if isinstance(data, (tuple, list)):
        data = data[0]
    if hasattr(data, "shape"):
        x = np.asarray(data[:images], "float32")
        batches = [x[i:i + 64] for i in range(0, len(x), 64)]
    else:
        batches, taken = [], 0
        for element in data:
            x = keras.ops.convert_to_numpy(element[0] if isinstance(element, (tuple, list)) else element)
            batches.append(x[:images - taken])
            taken += len(batches[-1])
            if taken >= images:
                break
    if not batches or not len(batches[0]):
        raise ValueError("block_importance needs some inputs to run the teacher on; the data given is empty.")
    return batches


class SectionProbe:
    """One section of a teacher, run on the teacher's activations with chosen blocks as the identity.

    Args:
        teacher: `keras.Model`, functional.
        boundaries: list of str, the K+1 boundary layer names.
        k: int, the section (1 to K).
        blocks: the section's `find_blocks` entries.
        inputs, targets: lists of the teacher's `f(k-1)` and `f(k)` batches.
    """

    def __init__(self, teacher, boundaries, k, blocks, inputs, targets):
        model_calls = graph.calls(teacher)
        produced_at = graph.producers(teacher, model_calls)
        start, end = (produced_at[id(t)] for t in graph.boundary_tensors(teacher, boundaries[k - 1:k + 1]))
        self.name = boundaries[k]
        self.blocks = blocks
        self.calls = [call for call in model_calls if start < call.position <= end]
        self._entry = graph.boundary_tensors(teacher, [boundaries[k - 1]])[0]
        self._exit = self.calls[-1].outputs[0]
        self.inputs, self.targets = inputs, targets
        self._scale = sum(float(np.sum(np.square(t))) for t in targets) or 1.0
        self._cache = {}
        self._ends = {block.index: next(c for c in self.calls if c.position == block.positions[-1]).outputs[0]
                      for block in blocks}
        self._prefixes = collections.OrderedDict()  # (batch, block, kept up to it) -> its output, recent last

    @property
    def fixed(self):
        """The indices of the blocks that change shape: they always stay."""
        return [block.index for block in self.blocks if not block.removable]

    @property
    def removable(self):
        return [block.index for block in self.blocks if block.removable]

    def run(self, x, kept=None):
        """The section on `x` with the blocks not in `kept` (all when `None`) as the identity.

        Returns `{id(KerasTensor): value}` for every tensor computed, the section's output included.
        """
        skipped = {p: block for block in self.blocks if kept is not None and block.index not in kept
                   for p in block.positions}
        tensors = {id(self._entry): x}
        for call in self.calls:
            block = skipped.get(call.position)
            if block is not None:
                if call.position == block.positions[-1]:  # the block's output is now its input
                    tensors[id(call.outputs[0])] = tensors[id(block.entry)]
                continue
            for old, new in zip(call.outputs, call.replay(call.layer, tensors)):
                tensors[id(old)] = new
        return tensors

    def ir(self, kept):
        """The relative IR error of the section keeping exactly the blocks `kept` (indices)."""
        key = tuple(sorted(kept))
        if key not in self._cache:
            error = 0.0
            for batch, target in enumerate(self.targets):
                output = keras.ops.convert_to_numpy(self._output(batch, key))
                error += float(np.sum(np.square(output - target)))
            self._cache[key] = error / self._scale
        return self._cache[key]

    def _output(self, batch, kept):
        """The section's output on input batch `batch` keeping `kept`, resumed from the longest
        remembered prefix: a block ends where every path crosses, so only its output lives on."""
        resume = None
        for block in self.blocks:
            if (batch, block.index, _prefix(kept, block.index)) in self._prefixes:
                resume = block
        start = -1 if resume is None else resume.positions[-1]
        tensors = {id(self._entry): self.inputs[batch]}
        if resume is not None:
            key = (batch, resume.index, _prefix(kept, resume.index))
            self._prefixes.move_to_end(key)
            tensors[id(self._ends[resume.index])] = self._prefixes[key]
        ends = {block.positions[-1]: block for block in self.blocks}
        skipped = {p: block for block in self.blocks if block.index not in kept for p in block.positions}
        for call in self.calls:
            if call.position <= start:
                continue
            block = skipped.get(call.position)
            if block is None:
                for old, new in zip(call.outputs, call.replay(call.layer, tensors)):
                    tensors[id(old)] = new
            elif call.position == block.positions[-1]:  # the block's output is now its input
                tensors[id(call.outputs[0])] = tensors[id(block.entry)]
            if call.position in ends:
                index = ends[call.position].index
                self._prefixes[(batch, index, _prefix(kept, index))] = tensors[id(call.outputs[0])]
                while len(self._prefixes) > 2 * len(self.blocks) * len(self.inputs):
                    self._prefixes.popitem(last=False)
        return tensors[id(self._exit)]

    def influence(self):
        """Each block's `1 - cos(input, output)` (cosine over the last axis, averaged); `None` where
        the block changes shape."""
        sums, counts = [0.0] * len(self.blocks), [0] * len(self.blocks)
        ends = {call.position: call.outputs[0] for call in self.calls}
        for x in self.inputs:
            tensors = self.run(x)
            for block in self.blocks:
                if block.removable:
                    a = keras.ops.convert_to_numpy(tensors[id(block.entry)]).reshape(-1, block.input_shape[-1])
                    b = keras.ops.convert_to_numpy(tensors[id(ends[block.positions[-1]])]).reshape(a.shape)
                    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
                    cosine = np.sum(a * b, axis=1) / np.maximum(norms, 1e-12)
                    sums[block.index] += float(np.sum(1.0 - cosine))
                    counts[block.index] += len(a)
        return [sums[b.index] / counts[b.index] if b.removable else None for b in self.blocks]

    def best_kept(self, count, max_combinations=MAX_COMBINATIONS):
        """The `count` blocks to keep (the shape-changing ones among them) whose joint IR is least.

        Every combination when there are at most `max_combinations`, else greedily (from all the
        blocks, drop the one whose removal costs least, until `count` remain).

        Returns:
            `(kept indices, their relative IR)`.
        """
        fixed, removable = self.fixed, self.removable
        free = count - len(fixed)
        if free < 0 or count > len(self.blocks):
            raise ValueError(f"Section '{self.name}' keeps {len(fixed)} to {len(self.blocks)} blocks. "
                             f"Received: {count}")
        if math.comb(len(removable), free) <= max_combinations:
            candidates = [sorted(fixed + list(c)) for c in itertools.combinations(removable, free)]
            kept = min(candidates, key=self.ir)  # the first of equals: the earlier blocks
            return kept, self.ir(kept)
        return self.greedy_ladder()[count]

    def greedy_ladder(self):
        """`{count: (kept, IR)}` for every count the section may keep, from all its blocks down: each
        step removes the block whose removal costs least."""
        kept = list(range(len(self.blocks)))
        ladder = {len(kept): (kept, self.ir(kept))}
        while len(kept) > max(len(self.fixed), 1):
            options = [[i for i in kept if i != drop] for drop in kept if drop not in self.fixed]
            kept = min(options, key=self.ir)
            ladder[len(kept)] = (kept, self.ir(kept))
        return ladder


def section_probes(teacher, data, boundaries=None, images=128):
    """One `SectionProbe` a section, on the teacher's activations for up to `images` inputs of `data`.

    The teacher runs in inference mode; nothing trains.
    """
    boundaries = list(boundaries) if boundaries is not None else find_boundaries(teacher)
    sections_blocks = find_blocks(teacher, boundaries)
    features = Sections.of(teacher, boundaries).features
    per_boundary = [[] for _ in boundaries]
    for x in sample_inputs(data, images):
        for k, value in enumerate(features(x, training=False)[:len(boundaries)]):
            per_boundary[k].append(value)
    return [SectionProbe(teacher, boundaries, k, blocks,
                         per_boundary[k - 1], [keras.ops.convert_to_numpy(t) for t in per_boundary[k]])
            for k, blocks in enumerate(sections_blocks, start=1)]


def block_importance(teacher, data, boundaries=None, measure="ir", images=128):
    """What the teacher loses without each of its blocks, measured before any training.

    Args:
        teacher: `keras.Model`, functional, trained.
        data: inputs to run the teacher on: a `tf.data.Dataset` of `(x, y)` batches, `(x, y)`
            arrays, or an array; up to `images` of them are used.
        boundaries: list of str, the K+1 boundary layer names, or `None` for `find_boundaries`.
        measure: "ir": the block's section's relative IR error (MSE to the teacher's boundary
            activation over its mean square) with that block alone as the identity; or
            "block_influence": `1 - cos(block input, block output)` (Minitron, ShortGPT).
        images: int, inputs to measure on.

    Returns:
        list of K lists (one a section), one float a block of `find_blocks` (higher: it matters
        more), `None` for a block that changes shape and cannot be removed.

    Example:

    >>> import numpy as np
    >>> from lit_tf import models
    >>> from lit_tf.students import importance
    >>> teacher = models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8))
    >>> x = np.random.default_rng(0).random((4, 16, 16, 3), "float32")
    >>> tuple(len(s) for s in importance.block_importance(teacher, x, measure="block_influence"))
    (2, 2, 2)
    """
    check_choice("measure", measure, MEASURES)
    probes = section_probes(teacher, data, boundaries, images)
    if measure == "block_influence":
        return [probe.influence() for probe in probes]
    return [[probe.ir([i for i in range(len(probe.blocks)) if i != block.index]) if block.removable else None
             for block in probe.blocks] for probe in probes]
