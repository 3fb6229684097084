"""A run killed with SIGKILL and resumed ends as the same run uninterrupted (issue 23).

With op determinism on (`--deterministic`), the CIFAR trainer killed in the middle of the LIT stage
and again in the middle of the fine-tune, then resumed, must end with the same student weights,
history and test accuracy, bit for bit; so must a StarGAN LIT run killed mid-epoch. What makes it
hold: the training data's order and augmentation are a function of (seed, epoch), not of how many
epochs this process has iterated (`lit_tf.data.epochs`), StarGAN's stream starts at the resumed
epoch's first batch, and `BackupAndRestore` keeps weights, optimizer and schedule.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = ["--mode=lit", "--dataset=digits", "--teacher_arch=resnet14", "--student_arch=resnet8",
       "--train_teacher", "--teacher_epochs=1", "--lit_epochs=3", "--finetune_epochs=3", "--batch_size=64",
       "--export=false", "--deterministic"]


STARGAN = ["--image_size=16", "--conv_dim=8", "--d_conv_dim=8", "--d_strided_layers=2", "--batch_size=2",
           "--n_critic=1", "--sample_every=100", "--eval_images=4", "--attributes=Black_Hair,Blond_Hair,Male",
           "--export=false", "--deterministic"]


def _trainer(workdir, args=RUN, module=("-m", "trainers.cifar")):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.Popen([sys.executable, *module, *args, f"--workdir={workdir}"], cwd=ROOT,
                            env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _stargan(workdir, *args):
    return _trainer(workdir, [*STARGAN, *args], (os.path.join(ROOT, "tests", "trainers", "stargan_on_mock_data.py"),))


def _epochs_logged(history):
    if not history.exists():
        return 0
    with open(history, newline="") as f:
        return len(list(csv.DictReader(f)))


def _kill_during_epoch_2(workdir, stage, start=_trainer):
    """Starts the run and kills it with SIGKILL once `stage`'s first epoch is logged (so in its second)."""
    process = start(workdir)
    deadline = time.time() + 600
    while _epochs_logged(workdir / stage / "history.csv") < 1:
        assert process.poll() is None and time.time() < deadline, process.communicate()[1][-3000:]
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert _epochs_logged(workdir / stage / "history.csv") < 3, f"{stage} finished before the kill"


def _finish(workdir, start=_trainer):
    stdout, stderr = start(workdir).communicate(timeout=900)
    assert (workdir / "result.json").exists(), stderr[-3000:]
    return stdout


def _history(workdir, stage):
    with open(workdir / stage / "history.csv", newline="") as f:
        return [{k: v for k, v in row.items()} for row in csv.DictReader(f)]


def _weights(path):
    import keras

    import lit_tf.models  # noqa: F401  (registers the saved classes)

    return [np.asarray(w) for w in keras.saving.load_model(path, compile=False).weights]


@pytest.mark.slow  # five trainer processes: about 4 minutes
def test_a_run_killed_in_lit_and_in_finetune_then_resumed_equals_the_run_uninterrupted(tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    _finish(straight)
    _kill_during_epoch_2(killed, "lit")
    _kill_during_epoch_2(killed, "finetune")
    stdout = _finish(killed)
    assert "[lit] epoch 1/3" not in stdout and "[finetune] epoch 1/3" not in stdout  # both resumed

    for stage in ("teacher", "lit", "finetune"):
        assert _history(killed, stage) == _history(straight, stage), stage
    result = [json.loads((folder / "result.json").read_text()) for folder in (straight, killed)]
    assert result[0]["students"] == result[1]["students"]
    for resumed, uninterrupted in zip(_weights(killed / "models" / "lit.keras"),
                                      _weights(straight / "models" / "lit.keras")):
        np.testing.assert_array_equal(resumed, uninterrupted)


@pytest.mark.slow  # four trainer processes: about 2 minutes
def test_a_stargan_lit_run_killed_mid_epoch_then_resumed_equals_the_run_uninterrupted(tmp_path):
    import keras

    keras.utils.set_random_seed(0)  # a tiny stand-in for InceptionV3: images in [-1, 1] -> [logits, features]
    images = keras.Input((16, 16, 3))
    features = keras.layers.Dense(3, activation="tanh")(keras.layers.GlobalAveragePooling2D()(images))
    classifier = str(tmp_path / "classifier.keras")
    keras.Model(images, [keras.layers.Dense(4)(features), features]).save(classifier)
    teacher = tmp_path / "teacher"
    _finish(teacher, lambda workdir: _stargan(workdir, "--mode=teacher", "--teacher_blocks=2", "--epochs=1",
                                              "--steps_per_epoch=2", f"--classifier={classifier}"))

    def lit(workdir):
        return _stargan(workdir, "--mode=lit", "--teacher_blocks=2", "--student_blocks=1", "--epochs=3",
                        "--steps_per_epoch=150", f"--teacher_weights={teacher}/models/generator.keras",
                        f"--classifier={classifier}")

    straight, killed = tmp_path / "straight", tmp_path / "killed"
    _finish(straight, lit)
    _kill_during_epoch_2(killed, "lit", lit)
    assert "[lit] epoch 1/3" not in _finish(killed, lit)  # resumed
    assert _history(killed, "lit") == _history(straight, "lit")
    for resumed, uninterrupted in zip(_weights(killed / "models" / "generator.keras"),
                                      _weights(straight / "models" / "generator.keras")):
        np.testing.assert_array_equal(resumed, uninterrupted)
