"""bench.input_pipeline runs on a synthetic archive and prints both sides and the ratio."""

import pytest

from tests import test_case


@pytest.mark.slow  # a benchmark's command line, whole
def test_prints_pipeline_and_lit_throughput_and_their_ratio():
    code, out, err = test_case.run_module("bench.input_pipeline", "--images=64", "--batches=4", "--batch_size=8",
                                          "--teacher=resnet8", "--student=resnet8", "--steps=2", "--warmup=1")
    assert code == 0, err[-2000:]
    assert "| input pipeline (augmented, 4 batches) |" in out and "| LIT step resnet8 -> resnet8" in out
    assert out.strip().splitlines()[-1].startswith("ratios: pipeline/LIT ")
