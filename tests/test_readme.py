"""Every Python block of README.md and docs/*.md runs, at tiny sizes, as a user would run it.

Each block is executed in a fresh folder holding what it names (a teacher's weights, a
CIFAR-10 python archive or class folders of learnable synthetic images), with `SMALLER` applied: smaller
architectures and epoch counts, nothing else. A block that cannot run here says so in
an HTML comment `<!-- not run: reason -->` on the line before it; one that runs only with
`-m slow` (CI runs it) in `<!-- slow: reason -->`.
"""

import os
import pickle
import re

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALLER = {'"resnet110"': '"resnet14"', '"resnet20"': '"resnet8"', "lit=175": "lit=1", "(175, 0.1,": "(1, 0.1,",
           "finetune=125": "finetune=1", "(125, 0.01,": "(1, 0.01,"}


def python_blocks():
    pages = ["README.md"] + sorted(os.path.join("docs", name) for name in os.listdir(os.path.join(ROOT, "docs"))
                                   if name.endswith(".md"))
    blocks = []
    for page in pages:
        text = open(os.path.join(ROOT, page)).read()
        for match in re.finditer(r"(?:<!-- (?P<kind>not run|slow): (?P<reason>.*?) -->\n)?```python\n(?P<code>.*?)```",
                                 text, re.S):
            line = text[:match.start()].count(chr(10))
            marks = {"not run": [pytest.mark.skip(match.group("reason"))], "slow": [pytest.mark.slow], None: []}
            blocks.append(pytest.param(match.group("code"), marks=marks[match.group("kind")], id=f"{page}:{line}"))
    return blocks


def _archive(folder, n=160, seed=0):
    """A cifar-10-batches-py of `n` images whose class sets the red channel's level."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder)
    for name in ("data_batch_1", "test_batch"):
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 8, (n, 3, 32, 32)).astype("uint8")  # a clear signal: confident logits
        images[:, 0] += (labels * 20).astype("uint8")[:, None, None]
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump({b"data": images.reshape(n, -1), b"labels": labels.tolist()}, f)


def _image_folder(root, per_class=6):
    """`root/{train,test}/<class k>/<i>.jpg`, 32x32, class k's red channel at 25·k: learnable."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for k in range(10):
            os.makedirs(os.path.join(root, split, f"class{k}"))
            for i in range(per_class):
                pixels = rng.integers(0, 8, (32, 32, 3)).astype("uint8")
                pixels[..., 0] += np.uint8(25 * k)
                tf.io.write_file(os.path.join(root, split, f"class{k}", f"{i}.jpg"), tf.io.encode_jpeg(pixels))


def prepare(code, folder):
    """Writes into `folder` what `code` reads (an archive, class folders, a teacher); returns `code` smaller."""
    import lit_tf

    _archive(os.path.join(folder, "cifar-10-batches-py"))
    lit_tf.models.get("resnet14").save_weights(os.path.join(folder, "teacher.weights.h5"))
    if "cifar10-jpeg" in code:  # CIFAR-10 as JPEG class folders, a few learnable images a class
        _image_folder(os.path.join(folder, "cifar10-jpeg"))
    if "teacher.keras" in code:  # a teacher deep enough for a third of its parameters, narrow to be quick
        lit_tf.models.CifarResNet(depth=20, filters=(8, 16, 16)).save(os.path.join(folder, "teacher.keras"))
    if "mobilenet_v2.weights.h5" in code:
        import keras

        keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=10,
                                       classifier_activation=None).save_weights(
                                           os.path.join(folder, "mobilenet_v2.weights.h5"))
    for old, new in SMALLER.items():
        code = code.replace(old, new)
    return code


@pytest.mark.parametrize("code", python_blocks())
def test_readme_block_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = prepare(code, str(tmp_path))
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert "to_tflite" not in code or os.path.getsize("student.tflite") > 0


def test_the_quickstart_output_in_readme_is_in_the_trainers_format():
    from lit_tf.experiments import reporting

    text = open(os.path.join(ROOT, "README.md")).read()
    block = re.search(r"It ends with[^\n]*:\n\n```\n(?P<lines>.*?)```", text, re.S).group("lines").splitlines()
    *models, last = block
    assert [line.split()[1] for line in models] == ["teacher", "lit", "kd", "fitnets", "scratch"]
    for line in models:
        name, arch, accuracy, params, flops = re.fullmatch(
            r"\[lit_tf\] (\w+) +(\w+) +test accuracy ([\d.]+)  params ([\d,]+)  FLOPs ([\d,]+)", line).groups()
        summary = {"arch": arch, "accuracy": float(accuracy), "params": int(params.replace(",", "")),
                   "flops": int(flops.replace(",", ""))}
        assert reporting.summary_line(name, summary) == line  # what trainers/cifar.py prints
    seconds = int(re.fullmatch(r".*\((\d+) s\)", last).group(1))
    assert reporting.result_line("/tmp/lit_quickstart", seconds) == last  # trainers/cifar.py's last line
