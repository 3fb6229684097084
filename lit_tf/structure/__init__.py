"""A model's structure: its layer graph, blocks and sections, and the surgery LIT does on them.

LIT (Koratana et al. 2019) cuts teacher and student into sections with matching boundary shapes.
`graph` reads a functional model's layer graph (through `lit_tf._compat`), `blocks` finds the
blocks a shallower student drops and proposes boundaries, `sections` cuts a model once at its
boundaries, `weight_copy` starts a student's stem and head as the teacher's, `trainability`
freezes what a stage leaves alone, and `folding` folds a frozen teacher's BatchNorms into its
convolutions. Cutting a student out of a teacher is `lit_tf.students`.

Example:

>>> from lit_tf import models, structure
>>> structure.find_boundaries(models.get("resnet20"))
['stem', 'section_1', 'section_2', 'section_3']
"""

from lit_tf.structure.blocks import Block
from lit_tf.structure.blocks import find_blocks
from lit_tf.structure.blocks import find_boundaries
from lit_tf.structure.folding import fold_batch_norm
from lit_tf.structure.sections import Sections
from lit_tf.structure.sections import check_compatible
from lit_tf.structure.sections import cut
from lit_tf.structure.weight_copy import copy_stem_and_head

__all__ = ["Block", "Sections", "check_compatible", "copy_stem_and_head", "cut", "find_blocks", "find_boundaries",
           "fold_batch_norm"]
