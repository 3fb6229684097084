"""Tests for lit_tf.compression: both stages, schedules, errors."""

import keras
import numpy as np
import pytest

import lit_tf
from lit_tf.settings import Schedule
from lit_tf.structure import sections
from tests import test_case

B = test_case.BOUNDARIES


def test_compress_runs_both_stages_from_the_teachers_stem_and_head():
    x, y = test_case.tiny_data(32)
    teacher = test_case.tiny_classifier(2, name="teacher")
    student = test_case.tiny_classifier(1, name="student")
    lrs = []
    record = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: lrs.append(None))
    result = lit_tf.compress(
        teacher, student, B, (x, y), (x[:8], y[:8]), lit=Schedule(2, 0.1, (1,)), finetune=Schedule(3, 0.01, (2,)),
        batch_size=8, verbose=0, callbacks=[record],
    )
    assert result.student is student and len(lrs) == 5
    loss, accuracy = student.evaluate(x, y, verbose=0)  # compiled for evaluation
    assert np.isfinite(loss) and 0 <= accuracy <= 1
    assert {"ir_loss_1", "ir_loss_2", "val_accuracy"} <= set(result.lit_history.history)
    assert result.lit_history.history["learning_rate"] == pytest.approx([0.1, 0.01])
    assert result.finetune_history.history["learning_rate"] == pytest.approx([0.01, 0.01, 0.001])
    assert all(layer.trainable for layer in student.layers)


def test_stem_and_head_are_the_teachers_through_the_lit_stage_and_each_model_is_cut_once(monkeypatch):
    x, y = test_case.tiny_data(16)
    teacher, student = test_case.tiny_classifier(2, name="teacher"), test_case.tiny_classifier(1, name="student")
    cuts, cut = [], sections.Sections.__init__

    def counted(self, model, boundaries):
        cuts.append(model.name)
        cut(self, model, boundaries)

    monkeypatch.setattr(sections.Sections, "__init__", counted)
    lit_tf.compress(teacher, student, B, (x, y), lit=2, finetune=0, batch_size=8, verbose=0)
    assert sorted(cuts) == ["student", "teacher"]
    for name in ["stem_conv", "stem_bn", "head"]:
        for t, s in zip(teacher.get_layer(name).weights, student.get_layer(name).weights):
            np.testing.assert_array_equal(t, s, err_msg=name)


def test_fine_tune_keeps_the_best_validation_epoch(monkeypatch):
    x, y = test_case.tiny_data(16)
    teacher, student = test_case.tiny_classifier(2), test_case.tiny_classifier(1)
    snapshots = []
    keep = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda e, logs: snapshots.append((logs["val_accuracy"], [np.array(w) for w in student.weights]))
    )
    lit_tf.compress(teacher, student, B, (x, y), (x, y), lit=1, finetune=3,
                    batch_size=8, verbose=0, callbacks=[keep])
    finetune = snapshots[1:]
    best = max(range(len(finetune)), key=lambda i: (finetune[i][0], -i))
    for saved, now in zip(finetune[best][1], student.weights):
        np.testing.assert_array_equal(saved, now)


def test_nan_loss_stops_with_one_clear_error():
    x, y = test_case.tiny_data(8)
    x[0, 0, 0, 0] = np.nan
    teacher, student = test_case.tiny_classifier(2), test_case.tiny_classifier(1)
    with pytest.raises(FloatingPointError, match="'lit' stage loss became nan in epoch 1"):
        lit_tf.compress(teacher, student, B, (x, y), lit=1, finetune=1, batch_size=8, verbose=0)


def test_a_student_whose_stem_differs_is_refused_before_training():
    teacher = test_case.tiny_classifier(2, num_classes=4)
    student = test_case.tiny_classifier(1, num_classes=3)
    x, y = test_case.tiny_data(8)
    with pytest.raises(ValueError, match="head cannot start as a copy.*init_from_teacher=False"):
        lit_tf.compress(teacher, student, B, (x, y), lit=1, finetune=1, verbose=0)


def test_the_reference_fine_tune_keeps_stem_and_head_weights_and_updates_the_stem_statistics():
    x, y = test_case.tiny_data(32)
    teacher, student = test_case.tiny_classifier(2), test_case.tiny_classifier(1)
    stem_statistics = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda e, logs: stem_statistics.append(student.get_layer("stem_bn").moving_mean.numpy()))
    result = lit_tf.compress(
        teacher, student, B, (x, y), lit=Schedule(1, 0.1, (100,), "reference"),
        finetune=Schedule(2, 0.01, (2,), "reference"), batch_size=8, verbose=0,
        finetune_stem_and_head=False, optimizer="torch_sgd", callbacks=[record])
    for name in ["stem_conv", "head"]:
        for t, s in zip(teacher.get_layer(name).weights, student.get_layer(name).weights):
            np.testing.assert_array_equal(t, s, err_msg=name)
    for t, s in zip(teacher.get_layer("stem_bn").weights[:2], student.get_layer("stem_bn").weights[:2]):
        np.testing.assert_array_equal(t, s, err_msg="stem_bn gamma/beta")
    # LIT stage: the stem's BatchNorm in inference mode; fine-tune: in training mode, as `student.train()`.
    np.testing.assert_array_equal(stem_statistics[0], teacher.get_layer("stem_bn").moving_mean)
    assert not np.allclose(stem_statistics[-1], stem_statistics[0])
    assert result.finetune_history.history["learning_rate"] == pytest.approx([0.01, 0.001])  # one epoch early
    assert all(layer.trainable for layer in student.layers)
    assert len(student.trainable_weights) == len(test_case.tiny_classifier(1).trainable_weights)  # as before


@pytest.mark.parametrize("bad, match", [
    (dict(boundaries="stem"), r"boundaries must be a list of K\+1 layer names.*Received: boundaries='stem'"),
    (dict(lit=-1), r"lit is a Schedule or a number of epochs >= 0\. Received: lit=-1"),
    (dict(finetune=Schedule(2.5, 0.01)), r"finetune's epochs must be an int >= 0\. Received: finetune=Schedule"),
    (dict(finetune=Schedule(2)), r"at the schedule's learning rate: give one\. Received: finetune=Schedule"),
    (dict(lit={"epochs": 2}), r"lit is a lit_tf.settings.Schedule"),
    (dict(images=(8, 12, 12, 3)), r"gives images of shape \(12, 12, 3\) but .* takes \(16, 16, 3\): resize"),
    (dict(one_hot=True), r"labels of shape \(None, 4\); .*integer class ids .* argmax"),
    (dict(unbatched=True), r"yields single images of shape \(16, 16, 3\), not batches: batch it"),
    (dict(boundaries=["stem", "section_1", "sectoin_2"]), r"sectoin_2"),
])
def test_bad_input_is_one_value_error_before_training(bad, match):
    import tensorflow as tf

    teacher, student = test_case.tiny_classifier(2), test_case.tiny_classifier(1)
    x, y = test_case.tiny_data(8)
    if "images" in bad:
        x = np.zeros(bad["images"], "float32")
    if bad.get("one_hot"):
        y = np.eye(4)[y]
    data = tf.data.Dataset.from_tensor_slices((x, y))
    if not bad.get("unbatched"):
        data = data.batch(8)
    before = [w.copy() for w in student.get_weights()]
    with pytest.raises(ValueError, match=match) as error:
        lit_tf.compress(teacher, student, bad.get("boundaries", B), data, verbose=0,
                        lit=bad.get("lit", 1), finetune=bad.get("finetune", 1))
    assert "init_from_teacher" not in str(error.value)  # the hint belongs to the stem/head copy alone
    for old, new in zip(before, student.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_without_a_student_compress_cuts_one_from_the_teachers_blocks_and_finds_the_boundaries():
    x, y = test_case.tiny_data(32)
    teacher = lit_tf.models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8), num_classes=4)
    result = lit_tf.compress(teacher, keep=1, train_data=(x, y), val_data=(x[:8], y[:8]), lit=1,
                             finetune=0, batch_size=8, verbose=0)
    student = result.student
    assert result.lit_history.history["learning_rate"] == pytest.approx([0.01])  # a trained start: a tenth
    small = lit_tf.models.CifarResNet(depth=8, image_shape=(16, 16, 3), filters=(8, 8, 8), num_classes=4)
    assert student.count_params() == small.count_params()
    assert {"ir_loss_1", "ir_loss_2", "ir_loss_3"} <= set(result.lit_history.history)  # stem, section_1..3 found
    np.testing.assert_array_equal(student.get_layer("stem_conv").get_weights()[0],  # frozen in the LIT stage
                                  teacher.get_layer("stem_conv").get_weights()[0])
    assert student.get_layer("section_1_block1_conv1") is not teacher.get_layer("section_1_block1_conv1")


@pytest.mark.parametrize("kwargs, match", [
    (dict(), r"Pass a student, keep= to cut one out of the teacher.*or a target.*Received: student=None, keep=None"),
    (dict(student="given", keep=1), r"keep cut a student out of the teacher, and a student was given"),
    (dict(student="given", choose="importance"), r"choose cut a student out of the teacher"),
    (dict(keep=1, target_params=0.5), r"Pass keep= or a target \(target_params\), not both"),
    (dict(keep=1, choose="best"), r"choose must be one of \('spread', 'importance', 'single', 'block_influence'\)"),
    (dict(keep=1, student_boundaries=B), r"a student cut from the teacher has the teacher's"),
    (dict(keep=1, student_init="warm"), r"init must be one of \('teacher', 'random'\)"),
])
def test_a_student_to_cut_is_asked_for_clearly(kwargs, match):
    teacher = lit_tf.models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8), num_classes=4)
    if kwargs.get("student") == "given":
        kwargs["student"] = test_case.tiny_classifier(1)
    with pytest.raises(ValueError, match=match):
        lit_tf.compress(teacher, train_data=test_case.tiny_data(8), verbose=0, **kwargs)


def test_data_a_user_easily_gets_wrong_is_one_line_before_anything_trains(tmp_path):
    import keras
    import tensorflow as tf

    teacher = lit_tf.models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8), num_classes=4)
    x, y = test_case.tiny_data(8)
    cases = [
        ((x, y + 4), r"train_data has labels from 4 to 7, but 'resnet14' gives 4 logits: labels are class ids in "
                     r"\[0, 4\)"),
        (tf.data.Dataset.from_tensor_slices((x, y - 1)).batch(4), r"train_data has labels from -1 to 2"),
        (tf.data.Dataset.from_tensor_slices((x, y)).batch(4).take(0), r"train_data is empty: it gave no batch"),
    ]
    for data, match in cases:
        with pytest.raises(ValueError, match=match):
            lit_tf.compress(teacher, keep=1, train_data=data, checkpoint_dir=str(tmp_path / "run"), verbose=0)
    image, side = keras.Input((16, 16, 3)), keras.Input((3,))
    features = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(image))
    two_inputs = keras.Model([image, side], keras.layers.Dense(4)(keras.layers.Concatenate()([features, side])))
    with pytest.raises(ValueError, match=r"has 2 inputs; compress takes models with one input .* for now"):
        lit_tf.compress(two_inputs, keep=1, train_data=(x, y), checkpoint_dir=str(tmp_path / "run"), verbose=0)
    assert not (tmp_path / "run").exists()


def test_a_teacher_or_student_giving_probabilities_is_refused_with_how_to_get_logits():
    import keras

    x, y = test_case.tiny_data(8)
    applications = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=4)
    with pytest.raises(ValueError, match=r"The teacher 'mobilenetv2_0.35_32' gives probabilities .*"
                                         r"classifier_activation=None"):
        lit_tf.compress(applications, keep=1, train_data=(np.zeros((8, 32, 32, 3), "float32"), y), verbose=0)
    logits = test_case.tiny_classifier(2, name="teacher")
    normalised = keras.Model(logits.input, keras.layers.Lambda(
        lambda t: keras.ops.abs(t) / keras.ops.sum(keras.ops.abs(t), axis=-1, keepdims=True))(logits.output))
    with pytest.raises(ValueError, match="The teacher .* gives probabilities"):  # outputs summing to 1
        lit_tf.compress(normalised, test_case.tiny_classifier(1), B, (x, y), verbose=0)
    student = keras.Model(logits.input, keras.layers.Softmax()(logits.output), name="soft")
    with pytest.raises(ValueError, match="The student 'soft' gives probabilities"):
        lit_tf.compress(test_case.tiny_classifier(2), student, B, (x, y), verbose=0)


@pytest.mark.slow  # two compress runs on a label shape
def test_class_ids_of_shape_batch_by_1_are_taken_as_keras_sparse_losses_take_them():
    import tensorflow as tf

    x, y = test_case.tiny_data(16)
    column = y[:, None]
    result = lit_tf.compress(test_case.tiny_classifier(2), test_case.tiny_classifier(1), B, (x, column),
                             (x[:8], column[:8]), lit=1, finetune=1, batch_size=8, verbose=0)
    assert len(result.finetune_history.history["val_accuracy"]) == 1
    dataset = tf.data.Dataset.from_tensor_slices((x, column)).batch(8)
    result = lit_tf.compress(test_case.tiny_classifier(2), test_case.tiny_classifier(1), B, dataset,
                             lit=1, finetune=0, verbose=0)
    assert np.isfinite(result.lit_history.history["kd_loss"][0])


def test_an_untrained_teacher_is_warned_about_before_training():
    x, y = test_case.tiny_data(64)
    teacher = test_case.tiny_classifier(2, name="teacher")
    teacher.get_layer("head").set_weights([np.zeros((8, 4)), np.array([0.0, 0.0, 0.0, 9.0])])  # always class 3
    y = np.where(y == 3, 0, y)  # so it is always wrong
    with pytest.warns(UserWarning, match=r"The teacher 'teacher' scores 0\.000 on val_data, near chance for 4 "
                                         r"classes: is it trained"):
        lit_tf.compress(teacher, test_case.tiny_classifier(1), B, (x, y), (x[:16], y[:16]), lit=0,
                        finetune=0, verbose=0)


class _Batches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return len(self.x) // self.batch_size

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]


def _endless(x, y, batch_size):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start:start + batch_size], y[start:start + batch_size]


@pytest.mark.parametrize("form", ["py_dataset", pytest.param("generator", marks=pytest.mark.slow)])
def test_every_form_of_batches_fit_takes_trains(form):
    x, y = test_case.tiny_data(32)
    student = test_case.tiny_classifier(1)
    before = [w.copy() for w in student.get_weights()]
    data = _Batches(x, y, 8) if form == "py_dataset" else _endless(x, y, 8)
    steps = {"steps_per_epoch": 4} if form == "generator" else {}
    result = lit_tf.compress(test_case.tiny_classifier(2), student, B, data, _Batches(x[:16], y[:16], 8),
                             lit=2, finetune=1, verbose=0, **steps)
    assert len(result.lit_history.epoch) == 2 and np.isfinite(result.lit_history.history["loss"]).all()
    assert len(result.finetune_history.history["val_accuracy"]) == 1
    assert any(not np.array_equal(old, new) for old, new in zip(before, student.get_weights()))


@pytest.mark.parametrize("data, match", [
    ("weighted_arrays", r"train_data carries sample weights, \(x, y, sample_weight\); LIT's losses weigh every"),
    ("weighted_dataset", r"train_data carries sample weights"),
    ("generator_without_steps", r"train_data is a generator, which is read once: pass steps_per_epoch"),
])
def test_data_compress_cannot_use_is_one_clear_error_before_training(data, match):
    import tensorflow as tf

    x, y = test_case.tiny_data(16)
    given = {"weighted_arrays": (x, y, np.ones(16)),
             "weighted_dataset": tf.data.Dataset.from_tensor_slices((x, y, np.ones(16))).batch(8),
             "generator_without_steps": _endless(x, y, 8)}[data]
    student = test_case.tiny_classifier(1)
    before = [w.copy() for w in student.get_weights()]
    with pytest.raises(ValueError, match=match):
        lit_tf.compress(test_case.tiny_classifier(2), student, B, given, lit=1, finetune=1, verbose=0)
    for old, new in zip(before, student.get_weights()):
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize("optimizer", ["adam", "object"])
def test_optimizer_names_and_objects_train_each_stage_with_its_own_copy(optimizer):
    x, y = test_case.tiny_data(16)
    given = keras.optimizers.Adam(beta_1=0.5) if optimizer == "object" else optimizer
    result = lit_tf.compress(test_case.tiny_classifier(2), test_case.tiny_classifier(1), B, (x, y),
                             lit=1, finetune=Schedule(2, 0.01, (1,)), batch_size=8, verbose=0,
                             optimizer=given, weight_decay=0.0)  # Adam cannot add PyTorch's coupled decay
    assert result.finetune_history.history["learning_rate"] == pytest.approx([0.01, 0.001])
    assert np.isfinite(result.finetune_history.history["loss"]).all()
    if optimizer == "object":
        assert int(given.iterations) == 0  # copied, never stepped itself


def test_an_unknown_optimizer_is_one_clear_error():
    x, y = test_case.tiny_data(8)
    with pytest.raises(ValueError, match=r"optimizer must be one of \('sgd', 'torch_sgd'\), a Keras optimizer's "
                                         r"name such as 'adam', or a keras.optimizers.Optimizer. Received: "
                                         r"optimizer='adamx'"):
        lit_tf.compress(test_case.tiny_classifier(2), test_case.tiny_classifier(1), B, (x, y), lit=1,
                        finetune=1, batch_size=8, verbose=0, optimizer="adamx")


def test_an_optimizer_that_cannot_apply_the_weight_decay_is_one_error_before_anything_is_written(tmp_path):
    x, y = test_case.tiny_data(8)
    with pytest.raises(ValueError, match=r"^compress\(\) has weight_decay=0.0001, PyTorch's coupled weight decay, "
                                         r"which Adam cannot apply: use 'sgd', 'torch_sgd'.* or weight_decay=0"):
        lit_tf.compress(test_case.tiny_classifier(2), test_case.tiny_classifier(1), B, (x, y), lit=1,
                        finetune=1, batch_size=8, verbose=0, optimizer="adam", checkpoint_dir=str(tmp_path))
    assert not list(tmp_path.iterdir())


def test_compress_ends_with_a_line_a_model_like_the_trainers(capsys):
    x, y = test_case.tiny_data(16)
    teacher, student = test_case.tiny_classifier(2, name="teacher"), test_case.tiny_classifier(1, name="student")
    lit_tf.compress(teacher, student, B, (x, y), (x[:8], y[:8]), lit=1, finetune=1, batch_size=8)
    lines = capsys.readouterr().out.strip().split("\n")[-2:]
    for line, role, model in zip(lines, ("teacher", "student"), (teacher, student)):
        assert line.startswith(f"[lit_tf] {role:<8} {model.name:<10} val accuracy 0.")
        assert f"params {model.count_params():,}  FLOPs " in line


def test_compress_takes_each_stages_schedule_or_its_epochs_at_the_default_rates(capsys):
    x, y = test_case.tiny_data(16)
    teacher, student = test_case.tiny_classifier(2), test_case.tiny_classifier(1)
    result = lit_tf.compress(teacher, student, B, (x, y), lit=Schedule(2, 0.05), finetune=1, batch_size=8,
                             summary=False)
    assert (result.lit_history.epoch, result.finetune_history.epoch) == ([0, 1], [0])
    assert result.lit_history.history["learning_rate"] == pytest.approx([0.05, 0.05])
    assert result.finetune_history.history["learning_rate"] == pytest.approx([0.01])  # the reference's rate
    printed = capsys.readouterr().out
    assert "LIT: 2 epochs" in printed and "fine-tune: 1 epochs" in printed


def test_a_sequential_teacher_and_student_train_through_both_stages():
    import keras

    def sequential(name):
        return keras.Sequential([
            keras.Input((16, 16, 3)), keras.layers.Conv2D(8, 3, padding="same", name="stem_conv"),
            keras.layers.BatchNormalization(name="stem_bn"), keras.layers.ReLU(name="stem"),
            keras.layers.Conv2D(8, 3, padding="same", name="conv_1"), keras.layers.BatchNormalization(name="bn_1"),
            keras.layers.ReLU(name="section_1"), keras.layers.GlobalAveragePooling2D(name="pool"),
            keras.layers.Dense(4, name="head")], name=name)

    x, y = test_case.tiny_data(16)
    teacher, student = sequential("teacher"), sequential("student")
    result = lit_tf.compress(teacher, student, ["stem", "section_1"], (x, y), lit=1, finetune=1,
                             batch_size=8, verbose=0)
    assert len(result.lit_history.epoch) == 1 and len(result.finetune_history.epoch) == 1  # the KD stage ran
