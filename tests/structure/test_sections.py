"""Tests for lit_tf.structure.sections."""

import keras
import numpy as np
import pytest
from keras import layers

from lit_tf.structure import sections
from lit_tf.structure import weight_copy
from tests import test_case


def _nested_model():
    """Sections as nested sub-models: the other layout `cut` must handle."""

    def block(name):
        inputs = keras.Input((8, 8, 4))
        return keras.Model(inputs, layers.Conv2D(4, 3, padding="same")(inputs), name=name)

    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same", name="stem")(inputs)
    x = block("section_1")(x)
    x = block("section_2")(x)
    return keras.Model(inputs, layers.Dense(2, name="head")(layers.Flatten()(x)))


def test_one_cut_composes_to_the_full_model_and_shares_its_weights():
    model = test_case.tiny_classifier(blocks_per_section=2)
    x, _ = test_case.tiny_data(4)
    cut = sections.Sections(model, test_case.BOUNDARIES)
    parts = cut.sections
    assert [p.name for p in parts] == ["section_1", "section_2"]

    *features, logits = cut.features(x)
    for k, part in enumerate(parts):
        np.testing.assert_allclose(part(features[k]), features[k + 1], atol=1e-5)
    np.testing.assert_allclose(logits, model(x), atol=1e-5)
    np.testing.assert_allclose(cut.head(features[-1]), logits, atol=1e-5)
    assert cut.features is cut.features and cut.head is cut.head  # made once

    model_weights = {id(w) for w in model.weights}
    assert all(id(w) in model_weights for part in parts for w in part.weights)


def test_nested_sub_model_sections():
    model = _nested_model()
    parts = sections.cut(model, ["stem", "section_1", "section_2"])
    x = np.random.rand(2, 8, 8, 3).astype("float32")
    stem_out = model.get_layer("stem")(x)
    np.testing.assert_allclose(parts[0](stem_out), model.get_layer("section_1")(stem_out), atol=1e-6)
    assert parts[1].layers[-1] is model.get_layer("section_2")


def test_split_layers_partitions_the_model():
    model = test_case.tiny_classifier(blocks_per_section=2)
    stem, parts, head = sections.split_layers(model, test_case.BOUNDARIES)
    assert [layer.name for layer in stem] == ["stem_conv", "stem_bn", "stem"]
    assert [layer.name for layer in head] == ["head_pool", "head"]
    assert parts[0][-1].name == "section_1" and parts[1][-1].name == "section_2"
    counted = len(stem) + len(head) + sum(map(len, parts))
    assert counted == len(model.layers) - 1  # all but the InputLayer


def test_unknown_layer_names_close_matches():
    model = test_case.tiny_classifier(blocks_per_section=1)
    with pytest.raises(ValueError, match=r"no layer 'section1'.*'section_1'"):
        sections.cut(model, ["stem", "section1", "section_2"])


def test_skip_connection_across_a_boundary_is_refused():
    inputs = keras.Input((8,))
    stem = layers.Dense(4, name="stem")(inputs)
    first = layers.Dense(4, name="section_1")(stem)
    second = layers.Add(name="section_2")([layers.Dense(4)(first), stem])
    model = keras.Model(inputs, layers.Dense(2)(second))
    with pytest.raises(ValueError, match=r"Section 'section_2'.*skip connection crosses"):
        sections.cut(model, ["stem", "section_1", "section_2"])


def test_mismatched_boundary_shapes_name_the_section_and_both_shapes():
    teacher = test_case.tiny_classifier(blocks_per_section=2, filters=8)
    student = test_case.tiny_classifier(blocks_per_section=1, filters=16)
    with pytest.raises(ValueError, match=r"The stem ends in shape \(16, 16, 8\) in the teacher but \(16, 16, 16\)"):
        sections.check_compatible(teacher, student, test_case.BOUNDARIES, test_case.BOUNDARIES)


def test_different_section_counts_are_refused():
    model = test_case.tiny_classifier(blocks_per_section=1)
    with pytest.raises(ValueError, match="same number of sections"):
        sections.check_compatible(model, model, test_case.BOUNDARIES, test_case.BOUNDARIES[:2])


def test_subclassed_models_are_refused_with_the_fix():
    class Subclassed(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="functional API"):
        sections.cut(Subclassed(), ["a", "b"])


def test_copy_stem_and_head_copies_exactly_those_weights():
    teacher = test_case.tiny_classifier(blocks_per_section=3)
    student = test_case.tiny_classifier(blocks_per_section=1)
    copied = weight_copy.copy_stem_and_head(teacher, student, test_case.BOUNDARIES)
    assert copied == ["stem_conv", "stem_bn", "head"]
    for name in copied:
        for t, s in zip(teacher.get_layer(name).weights, student.get_layer(name).weights):
            np.testing.assert_array_equal(t, s)
    assert not np.allclose(teacher.get_layer("s1_b0_conv").kernel, student.get_layer("s1_b0_conv").kernel)


def test_copy_stem_and_head_refuses_different_shapes():
    teacher = test_case.tiny_classifier(blocks_per_section=1, num_classes=4)
    student = test_case.tiny_classifier(blocks_per_section=1, num_classes=5)
    with pytest.raises(ValueError, match="student's head cannot start as a copy"):
        weight_copy.copy_stem_and_head(teacher, student, test_case.BOUNDARIES)


def _sequential(hidden, name):
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(8, name="stem"),
                             *[keras.layers.Dense(8, activation="relu", name=f"hidden_{i}") for i in range(hidden)],
                             keras.layers.Dense(8, name="section_1"), keras.layers.Dense(3, name="head")], name=name)


def test_a_built_sequential_is_cut_and_distilled_as_keras_distiller_takes_it():
    from lit_tf import LITDistiller

    teacher, student = _sequential(3, "teacher"), _sequential(1, "student")
    assert [section.name for section in sections.cut(teacher, ["stem", "section_1"])] == ["section_1"]
    distiller = LITDistiller(teacher, student, ["stem", "section_1"])
    distiller.compile("sgd")
    history = distiller.fit(np.random.default_rng(0).normal(size=(16, 8)), np.arange(16) % 3, epochs=3,
                            batch_size=8, verbose=0).history
    assert history["ir_loss"][-1] < history["ir_loss"][0]
    with pytest.raises(ValueError, match=r"Sequential model 'unbuilt' is not built.*keras\.Input"):
        sections.cut(keras.Sequential([keras.layers.Dense(2)], name="unbuilt"), ["a", "b"])


def test_a_model_is_cut_once_whichever_helper_asks(monkeypatch):
    model = test_case.tiny_classifier(blocks_per_section=1)
    made, make = [], sections.Sections.__init__
    monkeypatch.setattr(sections.Sections, "__init__", lambda self, *args: made.append(1) or make(self, *args))
    first = sections.cut(model, test_case.BOUNDARIES)
    sections.check_compatible(model, model, test_case.BOUNDARIES, test_case.BOUNDARIES)
    sections.boundary_model(model, test_case.BOUNDARIES)
    sections.split_layers(model, test_case.BOUNDARIES)
    weight_copy.copy_stem_and_head(model, model, test_case.BOUNDARIES)
    assert made == [1] and sections.cut(model, test_case.BOUNDARIES) is first
    sections.cut(model, test_case.BOUNDARIES[:2])  # other boundaries: another cut
    assert made == [1, 1]


def test_unfreeze_undoes_both_kinds_of_freezing():
    model = test_case.tiny_classifier(blocks_per_section=1)
    cut = sections.Sections.of(model, test_case.BOUNDARIES)
    everything = len(model.trainable_weights)
    cut.freeze_stem_and_head()
    assert not any(layer.trainable for layer in cut.stem_layers + cut.head_layers)
    cut.unfreeze_stem_and_head()
    assert len(model.trainable_weights) == everything
    cut.freeze_stem_and_head_weights()  # layers in training mode, weights frozen
    assert all(layer.trainable for layer in cut.stem_layers) and len(model.trainable_weights) < everything
    cut.unfreeze_stem_and_head()
    assert len(model.trainable_weights) == everything
