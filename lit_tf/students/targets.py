"""Compress to a target: how many blocks each section keeps, and which, from the teacher alone.

A target is a fraction of the teacher's parameters, FLOPs, or TFLite latency on this machine
(`target_params=1/3`: a third of its parameters). `plan_student` weighs every section's blocks
on the teacher's own activations (`lit_tf.students.importance`: the relative IR error of a section run
with only some blocks), then:

1. for every count a section may keep, the blocks that lose least, removing one block at a time
   (the one whose removal costs least);
2. the counts, one a section (not necessarily equal), that meet the target with the least IR
   lost in all (every combination of counts);
3. for those counts, the blocks judged jointly: every combination where they are few.

A latency target is met on FLOPs between two measured points (the teacher and the smallest
student), then checked by timing the chosen student; a miss tightens the budget and tries again.

Example:

>>> import numpy as np
>>> from lit_tf import models
>>> from lit_tf.students import targets
>>> teacher = models.CifarResNet(depth=20, image_shape=(16, 16, 3), filters=(8, 8, 8))
>>> x = np.random.default_rng(0).random((8, 16, 16, 3), "float32")
>>> plan = targets.plan_student(teacher, x, target_params=0.6)
>>> plan.params <= 0.6 * plan.teacher_params, [len(kept) for kept in plan.keep] != [3, 3, 3]
(True, True)
"""

import dataclasses
import itertools

import keras
import numpy as np

from lit_tf.export.flops import count_flops
from lit_tf.structure import graph
from lit_tf.structure.blocks import find_blocks
from lit_tf.structure.blocks import find_boundaries
from lit_tf.students import cut
from lit_tf.students import importance

TARGETS = ("params", "flops", "latency")


@dataclasses.dataclass(frozen=True)
class SectionPlan:
    """What one section keeps: block indices, of how many, their parameters and FLOPs, the IR lost."""

    name: str
    kept: tuple
    blocks: int
    params: int
    flops: int
    ir: float


@dataclasses.dataclass(frozen=True)
class Plan:
    """A student: the `keep` lists for `shallower`, its sections, its size against the teacher's.

    `latency` and `teacher_latency` (seconds, TFLite at batch 1) are measured for a latency target
    only. `print(plan)` gives the table `compress` prints before training.
    """

    keep: list
    sections: tuple
    params: int
    flops: int
    teacher_params: int
    teacher_flops: int
    target: str = ""
    latency: float = None
    teacher_latency: float = None

    def __str__(self):
        head = f"[lit_tf] plan{' for ' + self.target if self.target else ''}: "
        lines = [head + f"{self.params:,} parameters ({self.params / self.teacher_params:.3f} of the teacher's "
                 f"{self.teacher_params:,}), {self.flops / 1e6:.1f} M FLOPs ({self.flops / self.teacher_flops:.3f})"]
        lines.append(f"  {'section':<16} {'blocks kept':<24} {'params':>10} {'FLOPs':>10} {'IR lost':>8}")
        for s in self.sections:
            kept = f"{len(s.kept)} of {s.blocks}: {' '.join(map(str, s.kept))}"
            lines.append(f"  {s.name:<16} {kept:<24} {s.params:>10,} {s.flops / 1e6:>8.1f} M {s.ir:>8.3f}")
        if self.latency is not None:
            lines.append(f"  latency (TFLite, batch 1): {self.latency * 1e3:.2f} ms, the teacher's "
                         f"{self.teacher_latency * 1e3:.2f} ms ({self.latency / self.teacher_latency:.2f})")
        return "\n".join(lines)


def block_costs(teacher, sections_blocks):
    """Each block's `(params, FLOPs)`, one list a section; FLOPs of one input, as `count_flops`."""
    calls = {call.position: call for call in graph.calls(teacher)}
    costs = []
    for blocks in sections_blocks:
        section = []
        for block in blocks:
            weights = {id(w): w for name in block.layers for w in teacher.get_layer(name).weights}
            params = sum(int(np.prod(w.shape)) for w in weights.values())
            flops = count_flops(keras.Model(block.entry, calls[block.positions[-1]].outputs[0]))
            section.append((params, flops))
        costs.append(section)
    return costs


def importance_table(teacher, scores, boundaries=None):
    """`block_importance`'s scores as a table: section, block, its layers, params, FLOPs, score.

    Example:

    >>> import numpy as np
    >>> from lit_tf import models
    >>> from lit_tf.students import importance, targets
    >>> teacher = models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8))
    >>> scores = importance.block_importance(teacher, np.zeros((2, 16, 16, 3), "float32"))
    >>> print(targets.importance_table(teacher, scores).splitlines()[0])
    section      block  layers                                             params      FLOPs    score
    """
    boundaries = list(boundaries) if boundaries is not None else find_boundaries(teacher)
    sections_blocks = find_blocks(teacher, boundaries)
    costs = block_costs(teacher, sections_blocks)
    lines = [f"{'section':<12} {'block':>5}  {'layers':<48} {'params':>9} {'FLOPs':>10} {'score':>8}"]
    for name, blocks, section_costs, section_scores in zip(boundaries[1:], sections_blocks, costs, scores):
        for block, (params, flops), score in zip(blocks, section_costs, section_scores):
            span = f"{block.layers[0]} ... {block.layers[-1]}" if len(block.layers) > 1 else block.layers[0]
            shown = "kept always" if score is None else f"{score:8.4f}"
            lines.append(f"{name:<12} {block.index:>5}  {span[:48]:<48} {params:>9,} {flops / 1e6:>8.2f} M "
                         f"{shown:>8}")
    return "\n".join(lines)


def _one_target(target_params, target_flops, target_latency):
    given = {name: value for name, value in zip(TARGETS, (target_params, target_flops, target_latency))
             if value is not None}
    if len(given) != 1:
        raise ValueError("Give one target, a fraction of the teacher's: target_params=, target_flops= or "
                         f"target_latency= (e.g. target_params=1/3). Received: {given or 'none'}")
    (name, value), = given.items()
    if not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ValueError(f"target_{name} is a fraction of the teacher's, in (0, 1], e.g. 1/3. "
                         f"Received: target_{name}={value!r}")
    return name, float(value)


def _cost(costs, kept, which):
    return sum(costs[i][which] for i in kept)


class _Planner:
    """The teacher's sections and their blocks' costs; once weighed (`weigh`), per section the
    least-IR set for every count."""

    def __init__(self, teacher, boundaries):
        self.teacher = teacher
        self.boundaries = list(boundaries) if boundaries is not None else find_boundaries(teacher)
        self.blocks = find_blocks(teacher, self.boundaries)
        self.costs = block_costs(teacher, self.blocks)
        self.teacher_params, self.teacher_flops = teacher.count_params(), count_flops(teacher)
        self.fixed = [self.teacher_params - sum(p for c in self.costs for p, _ in c),
                      self.teacher_flops - sum(f for c in self.costs for _, f in c)]

    def weigh(self, data, images):
        self.probes = importance.section_probes(self.teacher, data, self.boundaries, images)
        self.ladders = [probe.greedy_ladder() for probe in self.probes]  # {count: (kept, ir)}

    def size(self, kept_lists, which):
        return self.fixed[which] + sum(_cost(c, kept, which) for c, kept in zip(self.costs, kept_lists))

    def smallest(self):
        """Each section's shape-changing blocks, or else its cheapest block."""
        kept_lists = []
        for blocks, costs in zip(self.blocks, self.costs):
            fixed = [block.index for block in blocks if not block.removable]
            kept_lists.append(fixed or [min(range(len(blocks)), key=lambda i: costs[i])])
        return kept_lists

    def check(self, name, value):
        """Raises the unreachable-target error for a params or FLOPs target below the smallest student."""
        which = TARGETS.index(name)
        smallest = self.size(self.smallest(), which) / (self.teacher_params, self.teacher_flops)[which]
        if value < smallest:
            raise _unreachable(name, value, smallest)

    def cheapest_within(self, budget, which):
        """The counts' greedy sets, least IR in all, whose size (0 params, 1 FLOPs) is within `budget`."""
        best = None
        for counts in itertools.product(*[sorted(ladder) for ladder in self.ladders]):
            chosen = [ladder[c] for ladder, c in zip(self.ladders, counts)]
            kept_lists = [kept for kept, _ in chosen]
            size = self.size(kept_lists, which)
            if size <= budget:
                key = (round(sum(ir for _, ir in chosen), 12), size)
                if best is None or key < best[0]:
                    best = (key, kept_lists)
        return None if best is None else best[1]

    def refined(self, kept_lists, budget, which):
        """Each section's kept set judged jointly for its count, where that stays within `budget`."""
        kept_lists = list(kept_lists)
        for k, probe in enumerate(self.probes):
            kept, ir = probe.best_kept(len(kept_lists[k]))
            trial = kept_lists[:k] + [kept] + kept_lists[k + 1:]
            if ir < probe.ir(kept_lists[k]) and self.size(trial, which) <= budget:
                kept_lists = trial
        return kept_lists

    def plan(self, kept_lists, target=""):
        sections = tuple(SectionPlan(probe.name, tuple(kept), len(probe.blocks), _cost(c, kept, 0), _cost(c, kept, 1),
                                     probe.ir(kept))
                         for probe, c, kept in zip(self.probes, self.costs, kept_lists))
        return Plan([list(kept) for kept in kept_lists], sections, self.size(kept_lists, 0),
                    self.size(kept_lists, 1), self.teacher_params, self.teacher_flops, target)


def _latency(teacher, boundaries=None, kept_lists=None):
    """TFLite batch-1 seconds of the teacher, or of its student keeping `kept_lists`."""
    from lit_tf.export import latency  # the TFLite converter and interpreter, only for a latency target

    model = teacher if kept_lists is None else cut.shallower(teacher, kept_lists, boundaries, init="random")
    return latency.tflite_latency(model)


def _unreachable(name, value, smallest):
    return ValueError(f"target_{name}={value:.3g} cannot be met: the smallest student keeps one block a section "
                      f"(and every block that changes shape) beside the stem and head, {smallest:.3f} of the "
                      f"teacher's {name}. Ask for target_{name} >= {smallest:.3f}, or cut the boundaries "
                      "differently.")


def plan_student(teacher, data, target_params=None, target_flops=None, target_latency=None, boundaries=None,
                 images=128):
    """The student that meets one target and loses the least IR: a `Plan` (its `keep` goes to `shallower`).

    Args:
        teacher: `keras.Model`, functional, trained.
        data: inputs to weigh the blocks on (see `lit_tf.students.block_importance`).
        target_params, target_flops, target_latency: one of them, a fraction of the teacher's in
            (0, 1]: parameters, FLOPs of one input, or TFLite batch-1 latency measured here.
        boundaries: list of str, or `None` for `find_boundaries(teacher)`.
        images: int, inputs the blocks are weighed on.

    Raises:
        ValueError: not exactly one target, or one below the smallest student's size (the message
            names the smallest reachable fraction); raised before anything is trained or written.
    """
    name, value = _one_target(target_params, target_flops, target_latency)
    planner = _Planner(teacher, boundaries)
    target = f"target_{name}={value:.3g}"
    if name == "latency":
        return _latency_plan(planner, value, target, data, images)
    planner.check(name, value)
    planner.weigh(data, images)
    budget = value * (planner.teacher_params, planner.teacher_flops)[TARGETS.index(name)]
    kept_lists = planner.cheapest_within(budget, TARGETS.index(name))
    return planner.plan(planner.refined(kept_lists, budget, TARGETS.index(name)), target)


def check_target(teacher, boundaries=None, target_params=None, target_flops=None, target_latency=None):
    """Raises `plan_student`'s error for a target that cannot be met, from the blocks' sizes alone
    (a latency target times the teacher and the smallest student); nothing is weighed or trained."""
    name, value = _one_target(target_params, target_flops, target_latency)
    planner = _Planner(teacher, boundaries)
    if name != "latency":
        return planner.check(name, value)
    teacher_seconds = _latency(teacher)
    smallest_seconds = _latency(teacher, planner.boundaries, planner.smallest())
    if value * teacher_seconds < smallest_seconds:
        raise _unreachable("latency", value, smallest_seconds / teacher_seconds)


def _latency_plan(planner, value, target, data, images):
    """A latency target: FLOPs between the teacher and the smallest student, then timed."""
    teacher_seconds = _latency(planner.teacher)
    smallest_kept = planner.smallest()
    smallest_seconds = _latency(planner.teacher, planner.boundaries, smallest_kept)
    goal = value * teacher_seconds
    if goal < smallest_seconds:
        raise _unreachable("latency", value, smallest_seconds / teacher_seconds)
    planner.weigh(data, images)
    low_flops = planner.size(smallest_kept, 1)
    per_flop = (teacher_seconds - smallest_seconds) / max(planner.teacher_flops - low_flops, 1)
    budget, kept_lists, seconds = goal, smallest_kept, smallest_seconds
    for _ in range(3):  # a miss tightens the budget by as much as it missed
        flops_budget = low_flops + (budget - smallest_seconds) / max(per_flop, 1e-15)
        trial = planner.refined(planner.cheapest_within(flops_budget, 1), flops_budget, 1)
        trial_seconds = _latency(planner.teacher, planner.boundaries, trial)
        if trial_seconds <= goal:
            kept_lists, seconds = trial, trial_seconds
            break
        budget = smallest_seconds + (budget - smallest_seconds) * (goal - smallest_seconds) / (
            trial_seconds - smallest_seconds)
    return dataclasses.replace(planner.plan(kept_lists, target), latency=seconds, teacher_latency=teacher_seconds)


def choose_keep(teacher, target_params=None, target_flops=None, target_latency=None, data=None, boundaries=None):
    """The `keep` lists (one a section, not necessarily equal) that meet the target and lose the least.

    See `plan_student`; this returns only its `keep`, for `lit_tf.students.shallower`.

    Raises:
        ValueError: `data` missing, not exactly one target, or a target below the smallest student's.
    """
    if data is None:
        raise ValueError("choose_keep weighs the teacher's blocks on its own activations: pass data=, a few "
                         "batches of inputs (a tf.data.Dataset of (x, y) batches, or an array).")
    return plan_student(teacher, data, target_params, target_flops, target_latency, boundaries).keep
