"""Start a student's stem and head as copies of the teacher's, as LIT does.

Layers are paired in graph order; the two stems (and heads) must hold the same weight
shapes, as in the reference, where the student is the same family at a smaller depth.

Example:

>>> from lit_tf import models

>>> from lit_tf.structure import weight_copy
>>> teacher, student = models.get("resnet32"), models.get("resnet8")
>>> weight_copy.copy_stem_and_head(teacher, student, teacher.boundaries)  # conv, BN; dense
['stem_conv', 'stem_bn', 'head']
"""

from lit_tf.structure import sections


def copy_layers(part, source_layers, target_layers):
    """Sets each weighted target layer's weights to its source's, paired in order.

    Args:
        part: str, what the layers are ("stem", "head"), for the error.
        source_layers, target_layers: lists of layers; those without weights are skipped.

    Returns:
        list of str: the names of the target layers that were set.

    Raises:
        ValueError: the weighted layers do not hold the same weight shapes.
    """
    source_layers = [layer for layer in source_layers if layer.weights]
    target_layers = [layer for layer in target_layers if layer.weights]
    source_shapes = [[tuple(w.shape) for w in layer.weights] for layer in source_layers]
    target_shapes = [[tuple(w.shape) for w in layer.weights] for layer in target_layers]
    if source_shapes != target_shapes:
        raise ValueError(
            f"The student's {part} cannot start as a copy of the teacher's: "
            f"their weights differ. Teacher {part}: "
            f"{[layer.name for layer in source_layers]} with shapes "
            f"{source_shapes}; student {part}: "
            f"{[layer.name for layer in target_layers]} with shapes "
            f"{target_shapes}."
        )
    for source, target in zip(source_layers, target_layers):
        target.set_weights(source.get_weights())
    return [layer.name for layer in target_layers]


def copy_stem_and_head_between(teacher_cut, student_cut):
    """Initialises `student_cut`'s stem and head (a `sections.Sections`) with `teacher_cut`'s weights.

    Returns:
        list of str: the names of the student's layers that were copied.
    """
    return (copy_layers("stem", teacher_cut.stem_layers, student_cut.stem_layers)
            + copy_layers("head", teacher_cut.head_layers, student_cut.head_layers))


def copy_stem_and_head(teacher, student, boundaries, student_boundaries=None):
    """Initialises the student's stem and head with the teacher's weights.

    Args:
        teacher: `keras.Model`, functional.
        student: `keras.Model`, functional.
        boundaries: list of str, the teacher's boundary layer names.
        student_boundaries: list of str, or `None` to use `boundaries`.

    Returns:
        list of str: the names of the student layers that were copied.
    """
    return copy_stem_and_head_between(sections.Sections.of(teacher, boundaries),
                                      sections.Sections.of(student, student_boundaries or boundaries))
