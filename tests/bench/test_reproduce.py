"""bench.reproduce as a user runs it: a run per seed, a context row, the table, report.md and the plot.

The runs evaluate a saved teacher (mode `teacher`), so the command's own work is what is tested:
that students train and that rows average over seeds is tested in lit_tf.experiments.cifar's and
bench.report's examples.
"""

import json

import pytest

from lit_tf import models
from tests import test_case


@pytest.mark.slow  # a benchmark's command line, whole
def test_two_seeds_and_a_context_row_give_the_table_report_md_and_the_plot(tmp_path):
    teacher = str(tmp_path / "teacher.keras")
    models.get("resnet8").save(teacher)
    out_dir = tmp_path / "out"
    code, out, err = test_case.run_module(
        "bench.reproduce", "--flagfile=trainers/configs/quickstart.flags", "--mode=teacher",
        f"--teacher_weights={teacher}", "--teacher_arch=resnet8", "--batch_size=256", "--noexport",
        f"--context_weights={teacher}", "--context_arch=resnet8", "--seeds=0,1", f"--out={out_dir}")
    assert code == 0, err[-2000:]
    for seed in (0, 1):
        result = json.loads((out_dir / f"seed{seed}" / "result.json").read_text())
        context = json.loads((out_dir / f"seed{seed}" / "context" / "result.json").read_text())
        assert result["teacher"] == context["teacher"]  # the same checkpoint, evaluated twice
    accuracy = result["teacher"]["accuracy"]
    assert f"| teacher | resnet8 | {accuracy:.4f} ± 0.0000 | {accuracy:.4f} | {accuracy:.4f} | 75,770 |" in out
    assert "| context | resnet8 |" in out and "| run 0 | run 1 | params |" in out
    assert out.strip().splitlines()[-1] == "ratios: teacher/student params 1.00x, teacher/student FLOPs 1.00x"
    report = (out_dir / "report.md").read_text()
    assert "--seeds=0,1" in report and "training time per seed (every epoch, across restarts): 0 s, 0 s" in report
    assert (out_dir / "compression.png").read_bytes()[:4] == b"\x89PNG"
