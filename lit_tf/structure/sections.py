"""Cut a functional Keras model into named, separately callable sections.

LIT (Koratana et al. 2019) cuts teacher and student into the same number of
sections with matching boundary shapes. A model is cut by an ordered list of
K+1 layer names `[b0, b1, ..., bK]`: section k runs from the output of layer
b(k-1) to the output of layer bk. Layers up to b0 are the *stem*, layers after
bK the *head*.

Example:

>>> import keras
>>> from lit_tf.structure import sections
>>> inputs = keras.Input((8,))
>>> x = keras.layers.Dense(4, name="stem")(inputs)
>>> x = keras.layers.Dense(4, name="section_1")(x)
>>> outputs = keras.layers.Dense(2, name="head")(x)
>>> model = keras.Model(inputs, outputs)
>>> [s.name for s in sections.cut(model, ["stem", "section_1"])]
['section_1']
"""

import functools

import keras

from lit_tf.structure import trainability
from lit_tf.structure.graph import boundary_tensors

_CUTS = "_lit_tf_cuts"  # the model's attribute holding its cuts, `{boundaries: Sections}` (`Sections.of`)


def _check_count(boundaries):
    if len(boundaries) < 2:
        raise ValueError(
            "A model is cut by at least two boundary layer names (the stem's "
            f"last layer, then one per section). Received: boundaries={boundaries}"
        )


def _check_same_count(teacher_boundaries, student_boundaries):
    if len(teacher_boundaries) != len(student_boundaries):
        raise ValueError(
            f"Teacher and student need the same number of sections. Received: "
            f"teacher boundaries={list(teacher_boundaries)}, student boundaries={list(student_boundaries)}"
        )


class Sections:
    """A functional model cut once at its boundary layers: the object LIT passes around.

    Holds the boundary tensors, the K section models (sharing the model's weights), the
    stem/section/head layer lists and, on first use, the feature and head models. Cutting
    checks the boundaries once; everything after reuses the cut.

    Args:
        model: `keras.Model`, functional (nested sub-models are fine).
        boundaries: list of str, K+1 layer names `[b0, ..., bK]`.

    Raises:
        ValueError: a name is unknown or repeats, a boundary layer is shared or has several
            outputs, or a skip connection crosses a boundary.

    Example:

    >>> import keras
    >>> from lit_tf import models
    >>> from lit_tf.structure import sections
    >>> teacher, student = models.get("resnet32"), models.get("resnet8")
    >>> teacher_cut = sections.Sections(teacher, teacher.boundaries)
    >>> student_cut = sections.Sections(student, student.boundaries)
    >>> teacher_cut.check_compatible(student_cut)
    >>> [section.name for section in student_cut.sections]
    ['section_1', 'section_2', 'section_3']
    >>> sections.Sections.of(student, student.boundaries) is sections.Sections.of(student, student.boundaries)
    True
    """

    @classmethod
    def of(cls, model, boundaries):
        """`model`'s cut at `boundaries`, made on first use and reused after (a functional graph never changes)."""
        cuts = getattr(model, _CUTS, None)
        if cuts is None:
            cuts = {}
            object.__setattr__(model, _CUTS, cuts)  # past Keras' attribute tracking: not a layer or weight
        key = tuple(boundaries)
        if key not in cuts:
            cuts[key] = cls(model, boundaries)
        return cuts[key]

    def __init__(self, model, boundaries):
        _check_count(boundaries)
        self.model = model
        self.boundaries = list(boundaries)
        self.tensors = boundary_tensors(model, self.boundaries)
        self.sections = [self._section(k) for k in range(1, len(self.boundaries))]

    def _section(self, k):
        try:
            return keras.Model(self.tensors[k - 1], self.tensors[k], name=self.boundaries[k])
        except ValueError as error:
            raise ValueError(
                f"Section '{self.boundaries[k]}' of model '{self.model.name}' is not cut "
                f"cleanly: its output depends on more than the output of "
                f"'{self.boundaries[k - 1]}' (a skip connection crosses the boundary). "
                "Choose boundary layers that every path of the graph passes "
                f"through. Received: boundaries={self.boundaries}"
            ) from error

    @property
    def _inputs(self):
        # `model.inputs`, not `model.input`: a built Sequential has the first, not always the second.
        inputs = self.model.inputs
        return inputs[0] if len(inputs) == 1 else inputs

    @functools.cached_property
    def stem(self):
        """The stem as a model: the model's input in, the first boundary's output out."""
        return keras.Model(self._inputs, self.tensors[0], name=f"{self.model.name}_stem")

    @functools.cached_property
    def _layers(self):
        stem = _without_inputs(self.stem.layers)
        section_layers = [_without_inputs(section.layers) for section in self.sections]
        inside = {id(layer) for layer in stem}
        inside.update(id(layer) for layers in section_layers for layer in layers)
        head = [layer for layer in _without_inputs(self.model.layers) if id(layer) not in inside]
        return stem, section_layers, head

    @property
    def stem_layers(self):
        """The layers before the first boundary (it included), in graph order."""
        return self._layers[0]

    @property
    def section_layers(self):
        """One list of layers per section, in graph order."""
        return self._layers[1]

    @property
    def trainable_section_weights(self):
        """The sections' trainable weights, each once, in section order: what LIT trains."""
        seen, weights = set(), []
        for section in self.sections:
            weights += [w for w in section.trainable_weights if id(w) not in seen and not seen.add(id(w))]
        return weights

    @property
    def head_layers(self):
        """The layers after the last boundary, in graph order."""
        return self._layers[2]

    @functools.cached_property
    def features(self):
        """A model computing `[f0, ..., fK, outputs]` in one forward pass."""
        if len(self.model.outputs) != 1:
            raise ValueError(
                f"LIT needs a model with one output (the logits); model "
                f"'{self.model.name}' has {len(self.model.outputs)}."
            )
        return keras.Model(self._inputs, [*self.tensors, self.model.outputs[0]],
                           name=f"{self.model.name}_boundaries")

    @functools.cached_property
    def head(self):
        """The head as a model: the output of the last boundary in, the model's output out.

        Raises:
            ValueError: the head needs more than the last boundary (a skip connection crosses it).
        """
        try:
            return keras.Model(self.tensors[-1], self.model.outputs[0], name=f"{self.model.name}_head")
        except ValueError as error:
            raise ValueError(
                f"The head of model '{self.model.name}' depends on more than the output of "
                f"'{self.boundaries[-1]}'. Received: boundaries={self.boundaries}") from error

    def check_compatible(self, student):
        """Raises `ValueError` unless every boundary shape of `student` (a `Sections`) matches.

        Student section k consumes the teacher's activation at b(k-1) and is compared with
        the teacher's at bk, so all K+1 shapes must agree.
        """
        _check_same_count(self.boundaries, student.boundaries)
        for k, (t, s) in enumerate(zip(self.tensors, student.tensors)):
            if tuple(t.shape[1:]) != tuple(s.shape[1:]):
                where = "The stem" if k == 0 else f"Section '{self.boundaries[k]}'"
                raise ValueError(
                    f"{where} ends in shape {tuple(t.shape[1:])} in the teacher but "
                    f"{tuple(s.shape[1:])} in the student. Received: teacher "
                    f"boundaries={self.boundaries}, student boundaries={student.boundaries}"
                )

    def same_stem(self, other):
        """Whether the two stems compute the same function: layer by layer the same class, the
        same configuration but name and `trainable`, and equal weights (a student whose stem is a
        copy of the teacher's, as LIT starts it).
        """
        if len(self.stem_layers) != len(other.stem_layers):
            return False
        for a, b in zip(self.stem_layers, other.stem_layers):
            a_config, b_config = dict(a.get_config()), dict(b.get_config())
            for key in ("name", "trainable"):
                a_config.pop(key, None)
                b_config.pop(key, None)
            if type(a) is not type(b) or a_config != b_config:
                return False
            a_weights, b_weights = a.get_weights(), b.get_weights()
            if len(a_weights) != len(b_weights) or any(
                    x.shape != y.shape or (x != y).any() for x, y in zip(a_weights, b_weights)):
                return False
        return True

    def unfreeze_stem_and_head(self):
        """Makes the stem and head layers and their weights trainable again."""
        trainability.set_layers_trainable(self.stem_layers + self.head_layers, True)

    def freeze_stem_and_head(self, frozen=True):
        """Freezes the stem and head layers: no training, BatchNorm in inference mode.

        This is the reference code's `student.eval()` for them. `frozen=False` is
        `unfreeze_stem_and_head()` (setting `model.trainable = True` does not reach layers
        frozen one by one while the model itself is still trainable).
        """
        trainability.set_layers_trainable(self.stem_layers + self.head_layers, not frozen)

    def freeze_stem_and_head_weights(self):
        """The reference's fine-tune: stem and head weights frozen, their layers in training mode.

        See `trainability.freeze_weights_only`; `unfreeze_stem_and_head()` undoes it.
        """
        trainability.freeze_weights_only(self.stem_layers + self.head_layers)


def cut(model, boundaries):
    """Cuts `model` into K separately callable sections sharing its weights.

    Args:
        model: `keras.Model`, functional (nested sub-models are fine).
        boundaries: list of str, K+1 layer names `[b0, ..., bK]`.

    Returns:
        list of K `keras.Model`s; section k maps the output of b(k-1) to the
        output of bk and is named bk. `Sections(model, boundaries)` keeps the rest of the cut.

    Raises:
        ValueError: see `Sections`.
    """
    return Sections.of(model, boundaries).sections


def boundary_model(model, boundaries):
    """Returns a model computing `[f0, ..., fK, outputs]` in one forward pass (`Sections.features`)."""
    return Sections.of(model, boundaries).features


def check_compatible(teacher, student, teacher_boundaries, student_boundaries):
    """Raises `ValueError` unless every boundary shape matches (`Sections.check_compatible`)."""
    _check_same_count(teacher_boundaries, student_boundaries)
    Sections.of(teacher, teacher_boundaries).check_compatible(Sections.of(student, student_boundaries))


def _without_inputs(layers):
    return [layer for layer in layers if not isinstance(layer, keras.layers.InputLayer)]


def split_layers(model, boundaries):
    """Splits the layers of `model` into stem, sections and head.

    Returns:
        tuple `(stem, sections, head)`: lists of layers in graph order,
        `sections` holding one list per section.
    """
    cut_model = Sections.of(model, boundaries)
    return cut_model.stem_layers, cut_model.section_layers, cut_model.head_layers
