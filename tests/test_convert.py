"""Tests for `lit-convert` (`python -m trainers.convert`): PyTorch checkpoint in, .keras teacher out.

Run in-process through `convert.main`; `tests/test_quiet.py` runs the real command and
checks its stderr is one line.
"""

import os
import sys

import keras
import numpy as np

from lit_tf import models
from trainers import convert


def _npz(tmp_path, depth=8):
    source = models.CifarResNet(depth=depth)
    path = str(tmp_path / f"resnet{depth}.npz")
    np.savez(path, **models.torch_state_dict(source))
    return source, path


def test_an_npz_converts_into_a_keras_model_with_the_same_logits(tmp_path, capsys):
    source, path = _npz(tmp_path)
    out = str(tmp_path / "teacher.keras")
    assert convert.main(["--arch=resnet8", f"--torch_weights={path}", f"--out={out}"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"wrote {out}: resnet8") and f"--teacher_weights={out}" in printed
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(keras.saving.load_model(out)(x), source(x), atol=1e-6)


def test_a_torch_file_without_torch_is_refused_in_one_line_and_nothing_is_written(tmp_path, capsys, monkeypatch):
    path = tmp_path / "resnet56.th"
    path.write_bytes(b"\x80\x02")
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    out = tmp_path / "teacher.keras"
    assert convert.main(["--arch=resnet56", f"--torch_weights={path}", f"--out={out}"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Reading") and "pip install torch" in err and ".npz" in err
    assert len(err.splitlines()) == 1 and not out.exists()


def test_bad_input_is_one_error_line_and_writes_nothing(tmp_path, capsys):
    _, path = _npz(tmp_path)
    cases = [
        (["--arch=resnet20", f"--torch_weights={path}", f"--out={tmp_path}/a.keras"],
         "do not fit resnet20", "look like a resnet8"),
        (["--arch=resnet8", f"--torch_weights={path}", f"--out={tmp_path}/a.h5"],
         "must name a .keras file. Received: --out="),
        (["--arch=resnet8", f"--torch_weights={path}", f"--out={tmp_path}/nowhere/a.keras"], "does not exist"),
        (["--arch=resnext20", f"--torch_weights={path}", f"--out={tmp_path}/a.keras"], "convert into CIFAR ResNets"),
        (["--arch=resnet8", f"--torch_weights={tmp_path}/none.npz", f"--out={tmp_path}/a.keras"],
         "No PyTorch weights at"),
    ]
    for args, *expected in cases:
        assert convert.main(args) == 1, args
        err = capsys.readouterr().err
        assert err.startswith("error: ") and len(err.splitlines()) == 1, err
        assert all(text in err for text in expected), err
    assert sorted(os.listdir(tmp_path)) == ["resnet8.npz"]


def test_a_stargan_checkpoint_in_either_naming_converts_with_its_sizes_read_from_it(tmp_path, capsys):
    from lit_tf.models import stargan

    source = stargan.Generator(image_size=16, num_domains=3, conv_dim=8, residual_blocks=2, sections=1)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    label = np.array([[0, 1, 0], [1, 0, 1]], "float32")
    for naming in ("official", "lit_code"):
        path, out = str(tmp_path / f"{naming}-G.npz"), str(tmp_path / f"{naming}.keras")
        np.savez(path, **models.torch_state_dict(source, naming))
        args = ["--arch=stargan_generator", f"--torch_weights={path}", f"--out={out}", "--image_size=16"]
        assert convert.main(args) == 0
        assert "2 residual blocks, 3 domains, conv_dim 8" in capsys.readouterr().out
        np.testing.assert_allclose(keras.saving.load_model(out)([x, label]), source([x, label]), atol=1e-6)
    np.savez(str(tmp_path / "resnet.npz"), **models.torch_state_dict(models.CifarResNet(depth=8)))
    assert convert.main(["--arch=stargan_generator", f"--torch_weights={tmp_path}/resnet.npz",
                         f"--out={tmp_path}/g.keras"]) == 1
    assert "This is no StarGAN generator state dict" in capsys.readouterr().err


def test_flags_are_absl_flags_as_the_trainers_with_help_and_one_error_line(capsys):
    assert convert.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "--torch_weights" in out and "--out" in out and "__main__" not in out
    assert convert.main(["--arch=resnet8"]) == 1  # --torch_weights and --out missing
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "Example: lit-convert --arch=" in err
    assert convert.main(["--arch=resnet8", "--nonsense=1", "--torch_weights=a.npz", "--out=a.keras"]) == 1
    assert "nonsense" in capsys.readouterr().err
