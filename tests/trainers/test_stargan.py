"""trainers/stargan.py as a user runs it, on tensorflow-datasets' mock CelebA with tiny models."""

import glob
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from trainers import entry
from trainers import stargan as trainer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["--image_size=16", "--conv_dim=8", "--d_conv_dim=8", "--d_strided_layers=2", "--batch_size=2",
        "--epochs=1", "--steps_per_epoch=2", "--n_critic=1", "--sample_every=1", "--eval_images=8",
        "--attributes=Black_Hair,Blond_Hair,Male"]


def _run(capsys, *args):
    """Runs the trainer in this process (mock data only reaches it here); returns (code, stdout, stderr)."""
    try:
        with tfds.testing.mock_data(num_examples=16):
            code = entry.main(trainer.COMMAND, ["stargan", *args])
    finally:
        trainer.FLAGS.unparse_flags()
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def classifier_path(tmp_path_factory):
    """A tiny stand-in for InceptionV3: images in [-1, 1] -> [logits, features]."""
    keras.utils.set_random_seed(0)
    images = keras.Input((16, 16, 3))
    features = keras.layers.Dense(3, activation="tanh")(keras.layers.GlobalAveragePooling2D()(images))
    path = str(tmp_path_factory.mktemp("classifier") / "classifier.keras")
    keras.Model(images, [keras.layers.Dense(4)(features), features]).save(path)
    return path


def _teacher_args(workdir, classifier_path):
    return [*TINY, "--mode=teacher", "--teacher_blocks=2", f"--workdir={workdir}", f"--classifier={classifier_path}"]


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory, classifier_path):
    workdir = str(tmp_path_factory.mktemp("sg") / "teacher")
    try:
        with tfds.testing.mock_data(num_examples=16):
            assert entry.main(trainer.COMMAND, ["stargan", *_teacher_args(workdir, classifier_path)]) == 0
    finally:
        trainer.FLAGS.unparse_flags()
    return workdir


@pytest.mark.slow  # shares a trained StarGAN teacher run
def test_two_teacher_steps_write_the_result_a_sample_grid_and_a_checked_export(teacher_run):
    with open(os.path.join(teacher_run, "result.json")) as f:
        result = json.load(f)
    assert result["mode"] == "teacher" and result["steps"] == 2
    assert result["generator"]["params"] == keras.saving.load_model(
        os.path.join(teacher_run, "models", "generator.keras")).count_params()
    score = result["scores"]["generator"]
    assert score["images"] == 8 * 3 and score["inception_score"] >= 1.0 and np.isfinite(score["fid"])
    grids = sorted(glob.glob(os.path.join(teacher_run, "samples", "step_*.png")))
    assert [os.path.basename(g) for g in grids] == ["step_0000001.png", "step_0000002.png"]
    grid = tf.io.decode_png(tf.io.read_file(grids[-1])).numpy()
    assert grid.shape == ((1 + 3) * 16, 2 * 16, 3)  # the input row + one row per attribute, 2 images a row
    assert result["export"]["generator.tflite"]["max_abs_diff"] < 1e-4
    assert os.path.exists(os.path.join(teacher_run, "export", "generator_savedmodel", "saved_model.pb"))
    with open(os.path.join(teacher_run, "teacher", "history.csv")) as f:
        header = f.readline()
    assert "d_gradient_penalty" in header and "g_reconstruction" in header
    assert glob.glob(os.path.join(teacher_run, "teacher", "logs", "train", "events.out.tfevents.*"))


@pytest.mark.slow  # shares a trained StarGAN teacher run
def test_started_again_a_finished_run_reports_its_result_without_training(teacher_run, classifier_path, capsys):
    with open(os.path.join(teacher_run, "result.json")) as f:
        first = f.read()
    code, out, _ = _run(capsys, *_teacher_args(teacher_run, classifier_path))
    with open(os.path.join(teacher_run, "result.json")) as f:
        again = f.read()
    assert code == 0 and "epoch" not in out  # no training line
    assert "holds this run, finished: result.json is left as it is" in out
    assert again == first
    with open(os.path.join(teacher_run, "teacher", "history.csv")) as f:
        assert len(f.read().strip().splitlines()) == 2  # the header and the one epoch


@pytest.mark.slow  # shares a trained StarGAN teacher run
def test_lit_distils_the_teacher_and_scores_both_on_the_same_images(teacher_run, classifier_path, tmp_path, capsys):
    workdir = str(tmp_path / "lit")
    code, out, _ = _run(capsys, *TINY, "--mode=lit", "--teacher_blocks=2", "--student_blocks=1",
                        f"--teacher_weights={teacher_run}/models/generator.keras", f"--workdir={workdir}",
                        f"--classifier={classifier_path}", "--export=false")
    assert code == 0, out
    with open(os.path.join(workdir, "result.json")) as f:
        result = json.load(f)
    assert result["compression"] > 1.0 and result["teacher"]["params"] > result["generator"]["params"]
    assert set(result["scores"]) == {"generator", "teacher"}
    with open(os.path.join(workdir, "lit", "history.csv")) as f:
        logged = [name for name in f.readline().strip().split(",") if not name.startswith("val_")]  # NA columns
    assert logged == ["epoch", "ir_loss", "ir_loss_1", "loss"]
    assert "Inception score" in out and "smaller than the teacher" in out


@pytest.mark.parametrize("args, message", [
    (["--attributes=Black_Hair,Purple_Hair"], "CelebA has no attribute ['Purple_Hair']; choose from"),
    (["--image_size=18"], "image_size must be a positive multiple of 4"),
    (["--inception_weights=/nowhere/inception_v3.h5"], "No InceptionV3 weights at '/nowhere/inception_v3.h5'"),
    (["--mode=lit"], "mode='lit' distils a trained teacher generator: pass --teacher_weights=PATH"),
    (["--mode=gan"], "value should be one of"),
])
def test_bad_input_exits_with_one_clear_line_and_no_workdir(args, message, tmp_path, capsys):
    workdir = tmp_path / "run"
    code, _, err = _run(capsys, *TINY, *args, f"--workdir={workdir}")
    assert code == 1 and err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert not workdir.exists()


@pytest.mark.slow  # shares a trained StarGAN teacher run
def test_the_trunk_is_recut_into_sections_and_a_cut_that_does_not_fit_is_refused(teacher_run, tmp_path, capsys):
    teacher = f"--teacher_weights={teacher_run}/models/generator.keras"  # trained as one 2-block section
    code, _, err = _run(capsys, *TINY, "--mode=lit", "--sections=2", "--student_blocks=1", teacher,
                        f"--workdir={tmp_path / 'a'}")
    assert code == 1 and "residual_blocks must be a positive multiple of sections" in err
    code, _, err = _run(capsys, *TINY, "--mode=lit", "--sections=3", "--student_blocks=3", teacher,
                        f"--workdir={tmp_path / 'b'}")
    assert code == 1 and "cannot cut into equal sections" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    code, _, _ = _run(capsys, *TINY, "--mode=lit", "--sections=2", "--student_blocks=2", teacher,
                      f"--workdir={tmp_path / 'c'}", "--export=false")
    with open(tmp_path / "c" / "lit" / "history.csv") as f:
        assert code == 0 and "ir_loss_2" in f.readline()  # two sections of 1 -> 1 block


def test_rand_init_scores_untrained_generators_of_both_sizes_without_training(classifier_path, tmp_path, capsys):
    workdir = tmp_path / "rand"
    code, out, _ = _run(capsys, *TINY, "--mode=rand_init", "--teacher_blocks=4", "--student_blocks=2",
                        f"--workdir={workdir}", f"--classifier={classifier_path}")
    with open(workdir / "result.json") as f:
        result = json.load(f)
    assert code == 0 and result["mode"] == "rand_init" and result["steps"] == 0
    assert (result["generator"]["residual_blocks"], result["teacher"]["residual_blocks"]) == (2, 4)
    for name in ("generator", "teacher"):
        assert result["scores"][name]["fid"] > 0 and result["scores"][name]["inception_score"] >= 1.0
    assert not (workdir / "models").exists() and not (workdir / "export").exists()
    assert "teacher: Inception score" in out


@pytest.mark.parametrize("flagfile", sorted(glob.glob(os.path.join(ROOT, "trainers", "configs", "stargan_*.flags"))))
def test_every_stargan_flagfile_is_a_valid_configuration_with_the_reference_settings(flagfile):
    trainer.FLAGS.unparse_flags()
    try:
        trainer.FLAGS(["stargan", f"--flagfile={flagfile}", "--teacher_weights=" + flagfile])
        config = trainer.config_from_flags()
    finally:
        trainer.FLAGS.unparse_flags()
    assert (config.image_size, config.batch_size, config.learning_rate, config.beta_1, config.beta_2) == (
        128, 16, 1e-4, 0.5, 0.999)
    assert config.attributes == ("Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young")
    if config.mode in ("lit", "l2"):  # one update in n_critic of 200,000 iterations, each on a batch of its own
        assert (config.teacher_blocks, config.student_blocks, config.sections, config.beta) == (6, 2, 1, 0.0)
        assert (config.total_steps, config.n_critic) == (40_000, 5)
    elif config.mode != "rand_init":
        assert (config.total_steps, config.n_critic) == (200_000, 5)
    if config.mode != "rand_init":
        assert (config.lr_decay, config.optimizer, config.decay_steps) == ("reference", "torch_adam", 100_000)


def test_help_lists_the_flags_and_exits_cleanly(capsys):
    assert entry.main(trainer.COMMAND, ["stargan", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--teacher_weights" in out and "stargan_celeba_lit.flags" in out


@pytest.mark.slow  # shares a trained StarGAN teacher run
def test_a_pytorch_teacher_checkpoint_is_taken_directly(teacher_run, classifier_path, tmp_path, capsys):
    from lit_tf import models

    generator = keras.saving.load_model(f"{teacher_run}/models/generator.keras")
    checkpoint = str(tmp_path / "200000-G.npz")
    np.savez(checkpoint, **models.torch_state_dict(generator))  # the official repository's names
    code, _, err = _run(capsys, *TINY, "--mode=lit", "--teacher_blocks=4", "--student_blocks=1",
                        f"--teacher_weights={checkpoint}", f"--workdir={tmp_path / 'wrong'}")
    assert code == 1 and "look like a generator with 2 residual blocks" in err and not (tmp_path / "wrong").exists()
    code, out, _ = _run(capsys, *TINY, "--mode=lit", "--teacher_blocks=2", "--student_blocks=1",
                        f"--teacher_weights={checkpoint}", f"--workdir={tmp_path / 'lit'}",
                        f"--classifier={classifier_path}", "--export=false")
    assert code == 0, out
    with open(tmp_path / "lit" / "result.json") as f:
        assert json.load(f)["teacher"]["params"] == generator.count_params()
