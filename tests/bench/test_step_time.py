"""bench.step_time runs on a tiny pair and prints its table and ratios (no timing is asserted)."""

from bench import report
from tests import test_case


def test_prints_every_method_and_the_ratio_line():
    code, out, err = test_case.run_module("bench.step_time", "--pairs=resnet8:resnet8", "--image_size=16",
                                          "--batch_size=4", "--steps=2", "--warmup=1")
    assert code == 0, err[-2000:]
    for method in ("lit", "lit_ir_only", "kd", "student", "teacher_forward"):
        assert f"| {method} |" in out
    assert out.strip().splitlines()[-1].startswith("ratios: resnet8:resnet8: lit/kd ")


def test_ratios_divide_by_the_right_floors():
    median = {"lit": 6.0, "kd": 4.0, "student": 2.0, "teacher_forward": 1.0, "lit_ir_only": 3.0}
    assert report.step_time_ratios(median) == {"lit/kd": 1.5, "lit/student": 3.0, "lit/(teacher_fwd+student)": 2.0,
                                        "kd/(teacher_fwd+student)": 4.0 / 3.0, "lit/lit_floor": 1.2}
