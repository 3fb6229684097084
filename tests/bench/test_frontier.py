"""bench.frontier as a user runs it: runs collected, architectures timed, the table and picture; re-drawn."""

import json

import pytest

from tests import test_case


def _runs(out):
    """A frontier's workdirs as bench.curves leaves them (results only: nothing trains here)."""
    for arch, params, accuracies in (("resnet8", 78_042, (0.80, 0.70)), ("resnet14", 175_258, (0.85, 0.80))):
        for row, accuracy in zip(("lit_teacher_blocks", "kd_teacher_blocks"), accuracies):
            for seed, shift in ((0, 0.0), (1, 0.01)):
                folder = out / arch / row / f"seed{seed}"
                folder.mkdir(parents=True)
                method = row.split("_")[0]
                result = {"students": {method: {"accuracy": accuracy + shift, "params": params, "flops": 1e7}}}
                (folder / "result.json").write_text(json.dumps(result))
    for name, arch, accuracy in (("teacher", "resnet20", 0.855), ("context_resnet20", "resnet20", 0.84)):
        (out / name).mkdir()
        summary = {"arch": arch, "accuracy": accuracy, "params": 272_474, "flops": 4.1e7}
        (out / name / "result.json").write_text(json.dumps({"teacher": summary}))


@pytest.mark.slow
def test_the_frontier_is_collected_timed_and_drawn(tmp_path):
    out, publish = tmp_path / "out", tmp_path / "publish"
    _runs(out)
    code, stdout, err = test_case.run_module("bench.frontier", f"--out={out}", f"--publish={publish}", "--runs=5")
    assert code == 0, err[-2000:]
    latency = json.loads((publish / "latency.json").read_text())
    assert set(latency) == {"resnet20", "resnet8", "resnet14"} and all(v["float32"] > 0 for v in latency.values())
    assert (publish / "resnet8" / "lit_teacher_blocks" / "seed1" / "result.json").exists()
    assert (publish / "context" / "result.json").exists() and (publish / "frontier.png").read_bytes()[:4] == b"\x89PNG"
    assert "| 1 | resnet8 | 78,042 (3.5x) |" in stdout and "0.8050 ± 0.0071" in stdout
    assert stdout.strip().splitlines()[-1] == ("frontier: lit within 0.5 points: resnet14, lit within 1.0 points: "
                                               "resnet14, kd within 0.5 points: none, kd within 1.0 points: none")


@pytest.mark.slow  # a benchmark's command line, whole
def test_report_only_redraws_from_the_published_files(tmp_path):
    publish = tmp_path / "publish"
    _runs(publish)
    (publish / "context_resnet20").rename(publish / "context")
    (publish / "latency.json").write_text(json.dumps({"resnet20": {"float32": 0.002, "int8": 0.001},
                                                      "resnet8": {"float32": 0.001, "int8": 0.0005}}))
    code, stdout, err = test_case.run_module("bench.frontier", f"--publish={publish}", "--report_only")
    assert code == 0, err[-2000:]
    assert "| 3 (teacher) | resnet20 | 272,474 (1.0x) | 41.0 M | 2.00 | 1.00 | 0.8550 |" in stdout
    assert "| 1 | resnet8 | 78,042 (3.5x) | 10.0 M | 1.00 | 0.50 |" in stdout
    report = (publish / "report.md").read_text()
    assert "resnet20 trained conventionally (182 epochs), adapted the same way: 0.8400" in report
    assert "| +" in report or "| -" in report  # the gaps, signed
