"""Tests for lit_tf.distillation.lit.LITDistiller on tiny models built here (not lit_tf.models)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lit_tf import LITDistiller
from lit_tf.structure import sections
from lit_tf.structure import weight_copy
from tests import test_case

B = test_case.BOUNDARIES


def _pair(**kwargs):
    teacher = test_case.tiny_classifier(blocks_per_section=3, name="teacher", **kwargs)
    student = test_case.tiny_classifier(blocks_per_section=1, name="student", **kwargs)
    return teacher, student


def _trained_teacher(x, y):
    teacher, _ = _pair()
    teacher.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    teacher.fit(x, y, epochs=10, batch_size=8, verbose=0)
    return teacher


@pytest.mark.parametrize("section_bn_updates", [pytest.param("both_passes", marks=pytest.mark.slow), "full_pass"])
def test_lit_lowers_every_ir_loss_and_the_validation_loss_and_freezes_the_rest(section_bn_updates):
    x, y = test_case.tiny_data(64)
    teacher = _trained_teacher(x, y)
    _, student = _pair()
    weight_copy.copy_stem_and_head(teacher, student, B)
    stem, _, head = sections.split_layers(student, B)
    frozen_before = test_case.weights_by_name(stem + head)  # BN moving stats included
    teacher_before = test_case.weights_by_name(teacher.layers)

    distiller = LITDistiller(teacher, student, B, beta=0.5, section_bn_updates=section_bn_updates)
    distiller.compile(keras.optimizers.SGD(0.05, momentum=0.9), metrics=["accuracy"])
    history = distiller.fit(x, y, validation_data=(x[:16], y[:16]), epochs=8, batch_size=8, verbose=0).history

    for key in ["ir_loss_1", "ir_loss_2"]:
        assert history[key][-1] < 0.7 * history[key][0], (key, history[key])
    # Validation IR losses feed the sections teacher activations, whose statistics only the reference's
    # both_passes keeps in the moving averages; with full_pass they are the student's own.
    assert history["val_loss"][-1] < (0.7 if section_bn_updates == "both_passes" else 1.0) * history["val_loss"][0]
    for name, value in test_case.weights_by_name(stem + head).items():
        np.testing.assert_array_equal(value, frozen_before[name], err_msg=name)
    for name, value in test_case.weights_by_name(teacher.layers).items():
        np.testing.assert_array_equal(value, teacher_before[name], err_msg=name)
    assert {v.path for v in distiller.trainable_weights} == {
        v.path for part in sections.cut(student, B) for v in part.trainable_weights
    }


def _two_steps(initial, x, y, shared):
    teacher, student = _pair()
    teacher.set_weights(initial[0])
    student.set_weights(initial[1])
    distiller = LITDistiller(teacher, student, B, weight_decay=1e-3)
    if not shared:
        distiller.shares_first_section = lambda: False
    distiller.compile(keras.optimizers.SGD(0.1, momentum=0.9))
    logs = [distiller.train_on_batch(x, y, return_dict=True) for _ in range(2)]
    return distiller, logs, [np.array(w) for w in student.weights]


def test_a_copied_stem_lets_the_step_run_section_one_once_with_the_same_losses_and_weights():
    x, y = test_case.tiny_data(8)
    teacher, student = _pair()
    weight_copy.copy_stem_and_head(teacher, student, B)
    initial = (teacher.get_weights(), student.get_weights())
    shared, shared_logs, shared_weights = _two_steps(initial, x, y, shared=True)
    assert shared._shared_first_section
    _, separate_logs, separate_weights = _two_steps(initial, x, y, shared=False)
    for a, b in zip(shared_logs, separate_logs):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-5, err_msg=key)
    for a, b in zip(shared_weights, separate_weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)  # BatchNorm moving statistics included
    assert any(not np.allclose(a, b) for a, b in zip(shared_weights, initial[1]))


def test_the_shared_step_does_not_run_the_separate_section_passes():
    teacher, student = _pair()
    weight_copy.copy_stem_and_head(teacher, student, B)
    distiller = LITDistiller(teacher, student, B)
    distiller.compile("sgd")
    calls, separate = [], distiller.section_losses.call
    distiller.section_losses.call = lambda *args, **kwargs: calls.append(1) or separate(*args, **kwargs)
    distiller.train_on_batch(*test_case.tiny_data(8))
    assert calls == []  # the IR losses came from the shared pass
    distiller.evaluate(*test_case.tiny_data(8), verbose=0)
    assert calls  # evaluation has no shared pass: the teacher-fed sections run


def test_section_one_runs_twice_when_the_stems_differ_or_noise_is_added():
    teacher, student = _pair()
    assert not LITDistiller(teacher, student, B).shares_first_section()  # stems initialised apart
    weight_copy.copy_stem_and_head(teacher, student, B)
    assert LITDistiller(teacher, student, B).shares_first_section()
    assert not LITDistiller(teacher, student, B, noise_stddev=0.1).shares_first_section()
    assert not LITDistiller(teacher, student, B, section_bn_updates="both_passes").shares_first_section()


def test_logs_the_loss_parts_and_combines_them_as_the_reference():
    x, y = test_case.tiny_data(8)
    teacher, student = _pair()
    distiller = LITDistiller(teacher, student, B, beta=0.75)
    distiller.compile("sgd")
    logs = distiller.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "kd_loss", "ir_loss", "ir_loss_1", "ir_loss_2"}
    assert logs["ir_loss"] == pytest.approx(logs["ir_loss_1"] + logs["ir_loss_2"], rel=1e-5)
    assert logs["loss"] == pytest.approx((0.75 * logs["kd_loss"] + 0.25 * logs["ir_loss"]) / 2, rel=1e-5)


def test_noise_reaches_the_sections_only_while_training():
    x, y = test_case.tiny_data(8)
    teacher, _ = _pair()
    twin = keras.models.clone_model(teacher)
    twin.set_weights(teacher.get_weights())
    distiller = LITDistiller(teacher, twin, B, noise_stddev=0.1, beta=0.0, seed=1)
    distiller.compile("sgd")
    eval_ir = distiller.evaluate(x, y, verbose=0, return_dict=True)["ir_loss"]
    assert eval_ir == pytest.approx(0.0, abs=1e-9)
    train_ir = distiller.compute_loss(x, y, distiller(x, training=True), training=True)
    assert float(train_ir) > 1e-4


def test_needs_labels_unless_alpha_is_zero():
    x, _ = test_case.tiny_data(4)
    teacher, student = _pair()
    distiller = LITDistiller(teacher, student, B)
    with pytest.raises(ValueError, match="needs labels"):
        distiller.compute_loss(x, None, distiller(x))
    assert float(LITDistiller(teacher, student, B, alpha=0.0).compute_loss(x, None, student(x))) > 0


@pytest.mark.parametrize("kwargs, message", [
    ({"beta": 1.5}, "beta must be in"),
    ({"temperature": 0}, "temperature must be > 0"),
    ({"noise_stddev": -1}, "must be >= 0"),
])
def test_bad_hyper_parameters_are_refused(kwargs, message):
    teacher, student = _pair()
    with pytest.raises(ValueError, match=message):
        LITDistiller(teacher, student, B, **kwargs)


def _one_step_weights(strategy, initial, x, y):
    with strategy.scope():
        teacher, student = _pair(synchronized_bn=True)
        teacher.set_weights(initial[0])
        student.set_weights(initial[1])
        distiller = LITDistiller(teacher, student, B, weight_decay=1e-3)
        distiller.compile(keras.optimizers.SGD(0.1, momentum=0.9))
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    distiller.fit(dataset, epochs=1, verbose=0)
    return [np.array(w) for w in student.weights]


def test_mirrored_strategy_gives_the_same_step_as_one_device():
    x, y = test_case.tiny_data(8)
    teacher, student = _pair()
    initial = (teacher.get_weights(), student.get_weights())
    one = _one_step_weights(tf.distribute.get_strategy(), initial, x, y)
    devices = [d.name for d in tf.config.list_logical_devices("CPU")][:2]
    assert len(devices) == 2
    two = _one_step_weights(tf.distribute.MirroredStrategy(devices), initial, x, y)
    moved = [not np.allclose(a, b) for a, b in zip(one, initial[1])]
    assert any(moved)
    for a, b in zip(one, two):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-4)


def test_lit_distiller_round_trips_its_config_and_a_keras_file(tmp_path):
    x, y = test_case.tiny_data(16)
    distiller = LITDistiller(test_case.tiny_classifier(2), test_case.tiny_classifier(1), test_case.BOUNDARIES,
                             beta=0.5, temperature=3.0, alpha=0.8, noise_stddev=0.1, weight_decay=1e-3, seed=4,
                             section_bn_updates="both_passes")
    distiller.compile(keras.optimizers.SGD(0.05, momentum=0.9), metrics=["accuracy"])
    distiller.fit(x, y, epochs=1, batch_size=8, verbose=0)
    clone = test_case.assert_config_round_trip(distiller)
    assert (clone.beta, clone.temperature, clone.alpha, clone.noise_stddev, clone.weight_decay, clone.seed,
            clone.section_bn_updates, clone.boundaries) == (0.5, 3.0, 0.8, 0.1, 1e-3, 4, "both_passes",
                                                            test_case.BOUNDARIES)
    test_case.assert_saved_model_round_trip(distiller, x, y, str(tmp_path / "lit.keras"))


def test_the_students_flags_are_left_as_they_were_and_a_kd_fine_tune_then_trains_every_weight():
    from lit_tf import KDDistiller

    x, y = test_case.tiny_data(16)
    teacher, student = test_case.tiny_classifier(2), test_case.tiny_classifier(1)
    flags = {layer.name: layer.trainable for layer in student.layers}
    lit = LITDistiller(teacher, student, test_case.BOUNDARIES)
    lit.compile(keras.optimizers.SGD(0.05))
    stem_and_head = {w.path: np.array(w) for name in ("stem_conv", "stem_bn", "head")
                     for w in student.get_layer(name).weights}
    lit.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert {layer.name: layer.trainable for layer in student.layers} == flags
    for name in ("stem_conv", "stem_bn", "head"):  # LIT moved none of them, BN statistics included
        for w in student.get_layer(name).weights:
            np.testing.assert_array_equal(w, stem_and_head[w.path])
    before = [np.array(w) for w in student.trainable_weights]
    kd = KDDistiller(teacher, student)
    kd.compile(keras.optimizers.SGD(0.05))
    kd.fit(x, y, epochs=1, batch_size=8, verbose=0)
    after = [np.array(w) for w in student.trainable_weights]
    assert len(before) == 14 and all(not np.array_equal(b, a) for b, a in zip(before, after))


def test_a_loss_or_sample_weights_are_refused_not_silently_ignored():
    teacher, student = _pair()
    distiller = LITDistiller(teacher, student, B)
    with pytest.raises(ValueError, match=r"LITDistiller computes its own loss.*Received: loss='mse'"):
        distiller.compile("sgd", loss="mse")
    distiller.compile("sgd")
    x, y = test_case.tiny_data(8)
    with pytest.raises(ValueError, match="weighs every sample the same: fit without sample_weight"):
        distiller.fit(x, y, sample_weight=np.ones(8), epochs=1, batch_size=4, verbose=0)


def test_the_config_deep_copies_and_from_config_leaves_it_as_it_was():
    import copy

    teacher, student = _pair()
    config = LITDistiller(teacher, student, B).get_config()
    kept = copy.deepcopy(config)
    rebuilt = LITDistiller.from_config(config)
    assert config == kept and rebuilt.boundaries == B


def test_a_student_without_the_teachers_boundary_names_is_told_about_student_boundaries():
    teacher, _ = _pair()
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", name="conv_a")(inputs)
    student = keras.Model(inputs, keras.layers.Dense(4)(keras.layers.GlobalAveragePooling2D()(x)), name="other")
    with pytest.raises(ValueError, match=r"Model 'other' has no layer 'stem'.* pass student_boundaries=\[\.\.\.\]"):
        LITDistiller(teacher, student, B)


def test_a_head_that_needs_more_than_the_last_boundary_is_one_clear_error():
    def model(name):
        inputs = keras.Input((4,))
        stem = keras.layers.Dense(4, name="stem")(inputs)
        section = keras.layers.Dense(4, name="section_1")(stem)
        both = keras.layers.Concatenate()([stem, section])  # the head reaches back past the boundary
        return keras.Model(inputs, keras.layers.Dense(3, name="head")(both), name=name)

    with pytest.raises(ValueError, match="head of model 'student' depends on more.*LIT runs the student's head"):
        LITDistiller(model("teacher"), model("student"), ["stem", "section_1"])
