"""Tests for bench/tflite_accuracy.py, and the committed CIFAR-10 JPEG student against its result."""

import json
import os

import numpy as np
import pytest

from bench import tflite_accuracy
from lit_tf import export
from lit_tf import models
from tests import test_case
from tests.data.test_image_folder import make_folder

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULTS = os.path.join(ROOT, "docs", "results", "cifar10_jpeg")
JPEG = os.path.join(test_case.SHARED, "data", "cifar10-jpeg")


@pytest.mark.slow  # a benchmark's command line, whole
def test_prints_the_litert_accuracy_and_its_difference_to_the_result(tmp_path):
    root = make_folder(tmp_path / "images", size=16)
    model = models.CifarResNet(depth=8, image_shape=(16, 16, 3), filters=(8, 8, 8), num_classes=3)
    path = str(tmp_path / "m.tflite")
    export.to_tflite(export.with_normalization(model, [127.5] * 3, [127.5] * 3), path,
                     sample_data=np.zeros((2, 16, 16, 3), "float32"))
    (tmp_path / "result.json").write_text(json.dumps({"students": {"lit": {"accuracy": 0.5}}}))
    code, out, err = test_case.run_module("bench.tflite_accuracy", f"--tflite={path}", f"--images={root}",
                                          f"--result={tmp_path / 'result.json'}")
    assert code == 0, err[-2000:]
    accuracy = float(out.splitlines()[2].split("|")[3])
    assert 0 <= accuracy <= 1 and f"difference {100 * (accuracy - 0.5):+.2f} points" in out


@pytest.mark.slow  # 10,000 images through LiteRT one at a time: about 30 s
@test_case.needs_shared("data/cifar10-jpeg")
def test_the_committed_lit_student_scores_its_result_within_half_a_point():
    from lit_tf.data import image_folder

    images, labels = image_folder.load_split(JPEG, "test")
    accuracy = tflite_accuracy.tflite_accuracy(os.path.join(RESULTS, "lit_student.tflite"), images, labels)
    with open(os.path.join(RESULTS, "seed0", "result.json")) as f:
        expected = json.load(f)["students"]["lit"]["accuracy"]
    assert abs(accuracy - expected) <= 0.005
