"""bench.step_time runs on a tiny pair and prints its table and ratios (no timing is asserted)."""

import os

import pytest

from bench import report
from tests import test_case

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow  # two worker processes, each starting TensorFlow and tracing five steps: about 50 s
def test_prints_every_method_against_the_before_tree_and_the_ratio_line():
    code, out, err = test_case.run_module("bench.step_time", "--pairs=resnet8:resnet8", "--image_size=16",
                                          "--batch_size=4", "--steps=2", "--warmup=1", f"--before={ROOT}")
    assert code == 0, err[-2000:]
    assert "| method | s/step | img/s | before s/step | now/before |" in out
    for method in ("lit", "kd", "student"):
        assert any(line.startswith(f"| {method} |") and line.count("|") == 6 for line in out.splitlines())
    for method in ("lit_ir_only", "teacher_forward"):
        assert f"| {method} |" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("ratios: resnet8:resnet8: lit/kd ")
    assert "lit_vs_before" in last and "kd_vs_before" in last and "student_vs_before" in last


def test_ratios_divide_by_the_right_floors():
    median = {"lit": 6.0, "kd": 4.0, "student": 2.0, "teacher_forward": 1.0, "lit_ir_only": 3.0}
    assert report.step_time_ratios(median) == {"lit/kd": 1.5, "lit/student": 3.0, "lit/(teacher_fwd+student)": 2.0,
                                        "kd/(teacher_fwd+student)": 4.0 / 3.0, "lit/lit_floor": 1.2}
