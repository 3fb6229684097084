"""Students made from their teacher: cut shallower, the blocks chosen by importance or to meet a target.

LIT (Koratana et al. 2019) compresses a deep network into a shallower one of the same width
whose sections end in the teacher's boundary shapes. `shallower` cuts that student out of any
functional Keras model: it finds the blocks of each section (`lit_tf.structure.blocks`), keeps `keep` of
them, and rewires the graph around the rest. The kept blocks can start from the teacher's own
trained weights (`init="teacher"`) or at random (`init="random"`, the paper's start); the stem
and head are the teacher's either way, as `compress` starts them.

Which blocks: `block_importance` scores every block on the teacher's own activations,
`choose_blocks(..., choose="importance")` keeps the set whose sections lose least, and
`plan_student` / `choose_keep` decide how many each section keeps to meet a target (a
fraction of the teacher's parameters, FLOPs or TFLite latency).

Modules: `cut` (shallower, choose_blocks), `importance` (the scores, the joint choice),
`targets` (plans that meet a target).

Example:

>>> from lit_tf import models, structure, students
>>> resnet56 = models.get("resnet56")
>>> student = students.shallower(resnet56, keep=3)  # blocks 0, 4 and 8 of each stage
>>> student.count_params() == models.get("resnet20").count_params()
True
>>> [block.layers[-1] for block in structure.find_blocks(student)[0]]
['section_1_block1_out', 'section_1_block5_out', 'section_1']
"""

from lit_tf.students.cut import INITS
from lit_tf.students.cut import choose_blocks
from lit_tf.students.cut import kept_blocks
from lit_tf.students.cut import shallower
from lit_tf.students.cut import spread
from lit_tf.students.importance import MEASURES
from lit_tf.students.importance import block_importance
from lit_tf.students.targets import Plan
from lit_tf.students.targets import check_target
from lit_tf.students.targets import choose_keep
from lit_tf.students.targets import importance_table
from lit_tf.students.targets import plan_student

__all__ = ["INITS", "MEASURES", "Plan", "block_importance", "check_target", "choose_blocks",
           "choose_keep", "importance_table", "kept_blocks", "plan_student",
           "shallower", "spread"]
