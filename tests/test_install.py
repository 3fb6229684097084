"""The package as a user installs it: non-editable, used from outside the checkout, commands by name."""

import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(command, cwd, site):
    env = {**os.environ, "PYTHONPATH": site, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _install(tmp_path):
    """A non-editable install of the checkout into `tmp_path/site`, and an empty folder elsewhere."""
    site, outside = str(tmp_path / "site"), tmp_path / "elsewhere"
    outside.mkdir()
    built = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                            "--no-index", "--target", site, ROOT], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    return site, outside


@pytest.mark.slow  # an install and three commands
def test_the_installed_commands_run_outside_the_checkout_with_shipped_flagfiles_by_name(tmp_path):
    site, outside = _install(tmp_path)
    bin_dir = os.path.join(site, "bin")
    assert sorted(os.listdir(bin_dir)) == ["lit-cifar", "lit-convert", "lit-stargan"]
    assert os.path.exists(os.path.join(site, "lit_tf_trainers", "configs", "quickstart.flags"))
    cifar = [sys.executable, os.path.join(bin_dir, "lit-cifar")]

    unknown = _run([*cifar, "--flagfile=quickstrat", "--workdir=run"], outside, site)
    assert unknown.returncode == 1 and unknown.stderr.strip().splitlines()[-1].startswith(
        "error: No flagfile 'quickstrat': give a path, or the name of a shipped one: ")
    workdir = outside / "run"
    trained = _run([*cifar, "--flagfile=quickstart", "--mode=teacher", "--teacher_arch=resnet8", "--teacher_epochs=1",
                    "--batch_size=256", "--noexport", f"--workdir={workdir}"], outside, site)
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "[lit_tf] teacher  resnet8" in trained.stdout and (workdir / "result.json").exists()

    from lit_tf import models

    np.savez(outside / "r8.npz", **models.torch_state_dict(models.CifarResNet(depth=8)))
    converted = _run([sys.executable, os.path.join(bin_dir, "lit-convert"), "--arch=resnet8",
                      "--torch_weights=r8.npz", "--out=r8.keras"], outside, site)
    assert converted.returncode == 0 and (outside / "r8.keras").exists(), converted.stderr[-2000:]
    # lit-stargan is installed (above); its parsing is tested in tests/trainers/test_stargan.py.


@pytest.mark.slow  # an install, then README's one-call example (class folders, a third of the parameters) at tiny sizes
def test_readmes_one_call_runs_from_the_installed_package_outside_the_checkout(tmp_path):
    from tests import test_readme

    site, outside = _install(tmp_path)
    code = test_readme.python_blocks()[0].values[0]  # "Use it on your model": compress(teacher, target_params=1/3, ...)
    code = test_readme.prepare(code, str(outside))
    (outside / "readme_block.py").write_text("import lit_tf\nprint('lit_tf from', lit_tf.__file__)\n" + code)
    ran = _run([sys.executable, "readme_block.py"], outside, site)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert f"lit_tf from {site}" in ran.stdout and "[lit_tf] plan for target_params=0.333: " in ran.stdout
    assert (outside / "student.tflite").stat().st_size > 0
