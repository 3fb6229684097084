"""bench.inference runs on a small pair and prints its table and ratios (no timing is asserted)."""

import pytest

from tests import test_case


@pytest.mark.slow  # Keras, TFLite float32 and int8 conversions of two models in a subprocess: about 30 s
def test_prints_size_flops_latencies_and_the_ratio_line():
    code, out, err = test_case.run_module("bench.inference", "--teacher=resnet14", "--student=resnet8",
                                          "--runs=2", "--batch_sizes=1,4")
    assert code == 0, err[-2000:]
    assert "| params | 173,434 | 75,770 | 2.29x |" in out
    for key in ("keras@1", "tflite_f32@1", "tflite_int8@1", "keras@4", "tflite_f32@4", "tflite_int8@4"):
        assert f"| {key} ms |" in out
    assert out.strip().splitlines()[-1].startswith("ratios: FLOPs 2.15x; speed-up / FLOP ratio: keras@1 ")
