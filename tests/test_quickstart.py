"""The README's first command, end to end on a tiny budget."""

import json
import os

from examples import digits_quickstart


def test_quickstart_trains_compresses_exports_and_writes_result(tmp_path):
    result = digits_quickstart.run(
        str(tmp_path), teacher_epochs=1, lit_epochs=1, finetune_epochs=1, batch_size=128, seed=0
    )
    with open(tmp_path / "result.json") as f:
        assert json.load(f) == result
    assert result["student"]["params"] < result["teacher"]["params"]
    assert 0.0 <= result["student"]["accuracy"] <= 1.0
    assert result["export"]["tflite_max_abs_diff"] < 1e-4
    assert os.path.exists(tmp_path / "export" / "student.tflite")
    assert os.path.exists(tmp_path / "export" / "student_savedmodel" / "saved_model.pb")
