"""bench.reproduce runs a tiny seed on digits, then reports two seeds: the table, report.md and the plot."""

import json
import shutil

from lit_tf import models
from tests import test_case


def _as_another_seed(source, target, seed, accuracy_change):
    """A finished run of `seed`: `source`'s folder with that seed and the LIT student's accuracy moved."""
    shutil.copytree(source, target)
    config = json.loads((target / "config.json").read_text())
    (target / "config.json").write_text(json.dumps(dict(config, seed=seed)))
    result = json.loads((target / "result.json").read_text())
    result["students"]["lit"]["accuracy"] += accuracy_change
    result["student"] = result["students"]["lit"]
    (target / "result.json").write_text(json.dumps(result))


def test_a_seed_trains_and_two_seeds_give_mean_and_std_rows_a_report_and_a_plot(tmp_path):
    teacher = str(tmp_path / "teacher.keras")
    models.get("resnet8").save(teacher)  # a saved teacher: the seed trains only the LIT student (4 stages, not 6)
    out_dir = tmp_path / "out"
    flags = ["--flagfile=trainers/configs/quickstart.flags", "--mode=lit", f"--teacher_weights={teacher}",
             "--teacher_arch=resnet8", "--lit_epochs=1", "--finetune_epochs=1", "--batch_size=256", "--noexport",
             f"--out={out_dir}"]
    code, out, err = test_case.run_module("bench.reproduce", *flags, "--seeds=0")
    assert code == 0, err[-2000:]
    assert (out_dir / "seed0" / "result.json").exists() and "| run 0 | params |" in out

    # Seed 1 as a finished run (what a restart of a finished seed reports), 0.1 more accurate.
    _as_another_seed(out_dir / "seed0", out_dir / "seed1", seed=1, accuracy_change=0.1)
    code, out, err = test_case.run_module("bench.reproduce", *flags, "--seeds=0,1")
    assert code == 0, err[-2000:]
    assert "| teacher | resnet8 |" in out and "| lit | resnet8 |" in out and "| run 0 | run 1 | params |" in out
    lit_row = next(line for line in out.splitlines() if line.startswith("| lit |"))
    assert "± 0.0707" in lit_row  # the sample std of two accuracies 0.1 apart
    assert out.strip().splitlines()[-1].startswith("ratios: lit/teacher accuracy ")
    assert "python -m bench.reproduce" in (out_dir / "report.md").read_text()
    assert (out_dir / "compression.png").read_bytes()[:4] == b"\x89PNG"
