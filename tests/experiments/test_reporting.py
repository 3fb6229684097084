"""Tests for lit_tf.experiments.reporting: the numbers in result.json and the student's exports."""

import os

import numpy as np
import pytest
import tensorflow as tf

from lit_tf.experiments import reporting
from lit_tf.export import checked
from tests import test_case


def _data(n=16):
    x, y = test_case.tiny_data(n)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    return {"train": dataset, "validation": dataset, "test": dataset}, x, y


def test_summary_counts_accuracy_params_and_flops():
    data, x, y = _data()
    model = test_case.tiny_classifier(1)
    summary = reporting.model_summary(model, data["test"], "tiny")
    expected = np.mean(np.argmax(model(x, training=False), axis=-1) == y)
    assert summary == {"arch": "tiny", "accuracy": pytest.approx(round(expected, 4)),
                       "params": model.count_params(), "flops": summary["flops"]}
    assert summary["flops"] > 2 * 16 * 16 * 8 * 27  # at least the stem convolution


def test_exports_savedmodel_tflite_and_int8_that_match_keras(tmp_path):
    data, _, _ = _data()
    reports = reporting.export_student(test_case.tiny_classifier(1), str(tmp_path), data, quantize="int8")
    assert sorted(os.listdir(tmp_path)) == ["student.tflite", "student_int8.tflite", "student_savedmodel"]
    assert reports["student_savedmodel"]["max_abs_diff"] < 1e-4
    assert reports["student.tflite"]["max_abs_diff"] < 1e-4
    assert 0.0 <= reports["student_int8.tflite"]["top1_agreement"] <= 1.0


def test_a_quantized_export_that_misses_its_check_is_recorded_not_fatal(tmp_path, monkeypatch):
    data, _, _ = _data()
    monkeypatch.setattr(checked, "INT8_MIN_TOP1_AGREEMENT", 1.01)  # no export can pass
    reports = reporting.export_student(test_case.tiny_classifier(1), str(tmp_path), data, quantize="int8")
    assert sorted(os.listdir(tmp_path)) == ["student.tflite", "student_savedmodel"]
    assert "does not reproduce the Keras model" in reports["student_int8.tflite"]["error"]
    assert reports["student.tflite"]["max_abs_diff"] < 1e-4
