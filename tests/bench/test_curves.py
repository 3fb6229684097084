"""bench.curves as a user runs it: the teacher adapted once, runs in order, curves, report and published files."""

import json

import pytest

from lit_tf import models
from tests import test_case


@pytest.mark.slow  # two trainer runs through the command
def test_runs_share_one_adapted_teacher_and_give_curves_a_report_and_published_files(tmp_path):
    teacher = str(tmp_path / "teacher.keras")
    models.get("resnet8").save(teacher)
    out, publish = tmp_path / "out", tmp_path / "publish"
    code, stdout, err = test_case.run_module(
        "bench.curves", "--flagfile=trainers/configs/quickstart.flags", f"--teacher_weights={teacher}",
        "--teacher_arch=resnet8", "--adapt_epochs=1", "--lit_epochs=1", "--finetune_epochs=1",
        "--batch_size=256", "--test_curve", "--runs=lit/0", f"--out={out}", f"--publish={publish}")
    assert code == 0, err[-2000:]
    config = json.loads((out / "lit" / "seed0" / "config.json").read_text())
    assert config["teacher_weights"] == str(out / "teacher" / "models" / "teacher.keras")  # adapted once, reused
    assert config["adapt_epochs"] == 0 and config["mode"] == "lit"
    lit_stages = ("lit", "finetune")
    for stage in lit_stages:
        lines = (publish / "lit" / "seed0" / stage / "test_accuracy.csv").read_text().splitlines()
        assert lines[0] == "epoch,test_accuracy" and len(lines) == 2
    assert not list(publish.rglob("*.weights.h5")) and not list(publish.rglob("*.keras"))  # no checkpoints
    teacher_accuracy = json.loads((publish / "teacher" / "result.json").read_text())["teacher"]["accuracy"]
    report = (publish / "report.md").read_text()
    assert f"- teacher resnet8: {teacher_accuracy:.4f}" in report and "--runs=lit/0" in report
    assert "At each stage's fastest epoch over all runs (seconds: finetune " in report  # the cost beside the hours
    assert "| lit | 1 |" in stdout and "(one seed)" in stdout and "±" not in stdout.split("| lit | 1 |")[1]
    assert stdout.strip().splitlines()[-1].startswith("ratios: lit/teacher ")
    assert (publish / "curves.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow  # a benchmark's command line, whole
def test_a_bad_run_is_one_line_before_anything_trains(tmp_path):
    code, _, err = test_case.run_module("bench.curves", "--flagfile=trainers/configs/quickstart.flags",
                                        "--runs=lit/zero", f"--out={tmp_path / 'out'}")
    assert code == 1 and err.strip().splitlines()[-1].startswith("error: A run is <row>/<seed>")
    assert not (tmp_path / "out").exists()
