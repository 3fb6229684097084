"""bench.reproduce runs two tiny seeds on digits and writes the table, report.md and the plot."""

from tests import test_case


def test_two_seeds_give_mean_and_std_rows_a_report_and_a_plot(tmp_path):
    code, out, err = test_case.run_module(
        "bench.reproduce", "--flagfile=trainers/configs/quickstart.flags", "--mode=lit", "--train_teacher",
        "--teacher_arch=resnet8", "--teacher_epochs=1", "--lit_epochs=1", "--finetune_epochs=1",
        "--batch_size=256", "--noexport", "--seeds=0,1", f"--out={tmp_path}")
    assert code == 0, err[-2000:]
    assert "| teacher | resnet8 |" in out and "| lit | resnet8 |" in out and "| 2 | 75,770 |" in out
    assert out.strip().splitlines()[-1].startswith("ratios: lit/teacher accuracy ")
    assert (tmp_path / "seed0" / "result.json").exists() and (tmp_path / "seed1" / "result.json").exists()
    assert "python -m bench.reproduce" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "compression.png").read_bytes()[:4] == b"\x89PNG"
