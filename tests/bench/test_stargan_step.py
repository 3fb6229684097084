"""bench.stargan_step runs on tiny networks and prints its table and ratios (no timing is asserted)."""

import pytest

from tests import test_case


@pytest.mark.slow  # three processes, each starting TensorFlow and tracing a GAN step: about 35 s
def test_prints_every_row_with_memory_and_projected_hours_and_the_ratio_line():
    code, out, err = test_case.run_module(
        "bench.stargan_step", "--image_size=16", "--conv_dim=8", "--d_strided_layers=2", "--batch_size=2",
        "--n_critic=2", "--cycles=1", "--warmup=1", "--iterations=3600", "--rows=teacher,lit")
    assert code == 0, err[-2000:]
    lines = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| row ")]
    rows = {line.split("|")[1].strip(): line.split("|")[2:5] for line in lines}
    assert sorted(rows) == ["lit", "teacher"]
    for row in ("teacher", "lit"):
        seconds, memory, hours = (float(cell.replace(",", "")) for cell in rows[row])
        assert seconds > 0 and memory > 100 and abs(hours - seconds) <= 0.051  # 3,600 iterations: seconds = hours
    ratios = out.strip().splitlines()[-1]
    assert ratios.startswith("ratios: lit/teacher ") and float(ratios.split()[-1]) > 0
