"""bench.reproduce runs two tiny seeds on digits and writes the table, report.md and the plot."""

from lit_tf import models
from tests import test_case


def test_two_seeds_give_mean_and_std_rows_a_report_and_a_plot(tmp_path):
    teacher = str(tmp_path / "teacher.keras")
    models.get("resnet8").save(teacher)  # a saved teacher: the seeds train only the LIT student (4 stages, not 6)
    code, out, err = test_case.run_module(
        "bench.reproduce", "--flagfile=trainers/configs/quickstart.flags", "--mode=lit", f"--teacher_weights={teacher}",
        "--teacher_arch=resnet8", "--lit_epochs=1", "--finetune_epochs=1",
        "--batch_size=256", "--noexport", "--seeds=0,1", f"--out={tmp_path / 'out'}")
    assert code == 0, err[-2000:]
    assert "| teacher | resnet8 |" in out and "| lit | resnet8 |" in out and "| run 0 | run 1 | params |" in out
    assert out.strip().splitlines()[-1].startswith("ratios: lit/teacher accuracy ")
    out_dir = tmp_path / "out"
    assert (out_dir / "seed0" / "result.json").exists() and (out_dir / "seed1" / "result.json").exists()
    assert "python -m bench.reproduce" in (out_dir / "report.md").read_text()
    assert (out_dir / "compression.png").read_bytes()[:4] == b"\x89PNG"
