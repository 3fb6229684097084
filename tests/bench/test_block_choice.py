"""bench.block_choice as a user runs it: runs collected, the teacher's blocks scored, the table."""

import json

import pytest

from lit_tf import models
from tests import test_case
from tests.data.test_image_folder import make_folder


@pytest.mark.slow  # a benchmark's command line, whole
def test_the_rows_are_collected_and_the_teachers_blocks_scored(tmp_path):
    out, publish = tmp_path / "out", tmp_path / "publish"
    images = make_folder(tmp_path / "images", per_class=8, size=16)
    (out / "teacher_seed0" / "models").mkdir(parents=True)
    teacher = models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8), num_classes=3)
    teacher.save(str(out / "teacher_seed0" / "models" / "teacher.keras"))
    (out / "teacher_seed0" / "result.json").write_text(json.dumps({"teacher": {"accuracy": 0.9}}))
    for row, kept in (("spread_reference", [[0, 1]] * 3), ("importance", [[1], [0], [0]])):
        for method, accuracy in (("lit", 0.8), ("kd", 0.7)):
            folder = out / row / method / "seed0"
            folder.mkdir(parents=True)
            result = {"student_start": {"accuracy": 0.1, "kept_blocks": kept},
                      "students": {method: {"accuracy": accuracy, "params": 1000}}}
            (folder / "result.json").write_text(json.dumps(result))
            (folder / "config.json").write_text("{}")
    code, stdout, err = test_case.run_module("bench.block_choice", f"--out={out}", f"--image_dir={images}",
                                             f"--publish={publish}")
    assert code == 0, err[-2000:]
    scores = json.loads((publish / "scores.json").read_text())["0"]
    assert [len(s) for s in scores["ir"]] == [2, 2, 2] and scores["ir"][1][0] is None
    assert scores["joint_ir"]["spread_reference"] == [0.0, 0.0, 0.0]  # every block kept: the teacher's sections
    assert "| spread (0, 4, 8), the reference's rates | 0,1 / 0,1 / 0,1 | 1,000 | 0.0 / 0.0 / 0.0 | 0.1000 | "\
           "0.8000 (one seed) | 0.7000 (one seed) |" in stdout
    assert "| joint choice (`--student_choose=importance`) | 1 / 0 / 0 |" in stdout
    report = (publish / "report.md").read_text()
    assert "## The teacher's blocks, seed 0" in report and (publish / "importance" / "kd" / "seed0").is_dir()
    code, again, _ = test_case.run_module("bench.block_choice", f"--publish={publish}", "--report_only")
    assert code == 0 and again == stdout
