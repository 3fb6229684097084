"""A StarGAN run on CelebA, resumable: teacher, LIT student, L2 student or student from scratch.

`run(config, workdir)` is what `python -m trainers.stargan` does after parsing its flags.
Modes (the rows of the paper's StarGAN table):

- `teacher`: StarGAN with `teacher_blocks` residual blocks, trained adversarially.
- `lit`: a `student_blocks` generator distilled from `teacher_weights` with LIT on the trunk
  sections (`lit_tf.stargan.distill`; IR loss only at `beta=0`, as the reference).
- `l2`: the same student matching only the teacher's output image.
- `scratch`: StarGAN with `student_blocks`, trained adversarially.
- `rand_init`: no training; generators of the student's and the teacher's size at random
  initialisation, scored with the same Inception score / FID code (the table's last rows).

The workdir holds `config.json`, `<mode>/` (checkpoints, `history.csv`, TensorBoard logs),
`samples/step_N.png` (input row + one row per target domain), `models/*.keras`,
`result.json` (parameters, FLOPs, Inception score and FID when a classifier is given)
and `export/` (the trained generator as SavedModel and TFLite). Killed and run again with
the same configuration, it continues from the last completed epoch.

Example (tensorflow-datasets' mock CelebA, tiny models, two steps):

>>> import tempfile
>>> import tensorflow_datasets as tfds
>>> from lit_tf.experiments import stargan as experiment
>>> from lit_tf.experiments.stargan_config import StarGANConfig
>>> config = StarGANConfig(
...     mode="teacher", image_size=16, conv_dim=8, d_conv_dim=8, d_strided_layers=2, batch_size=2,
...     epochs=1, steps_per_epoch=2, n_critic=1, sample_every=1, eval_images=4, export=False)
>>> with tfds.testing.mock_data(num_examples=8):
...     result = experiment.run(config, tempfile.mkdtemp())  # doctest: +ELLIPSIS
[...
>>> result["generator"]["params"] > 0, result["scores"]["generator"]
(True, None)
"""

import os

import keras
import numpy as np

from lit_tf import export
from lit_tf import models
from lit_tf import training
from lit_tf.data import celeba
from lit_tf.experiments import runs
from lit_tf.experiments.stargan_config import ASSUMED_IN_OLDER_RUNS
from lit_tf.export.flops import count_flops
from lit_tf.models import stargan
from lit_tf.stargan import metrics as gan_metrics
from lit_tf.stargan.distill import GeneratorDistiller
from lit_tf.stargan.samples import SampleGrid
from lit_tf.stargan.schedules import LinearDecayTail
from lit_tf.stargan.schedules import ReferenceDecay
from lit_tf.stargan.stargan_training import StarGAN
from lit_tf.structure import weight_copy
from lit_tf.training.optimizers import TorchAdam

SAMPLE_COUNT = 8  # images in a sample grid row
NAN_MONITORS = ("loss", "g_loss", "d_loss")


def _adam(config, updates, iterations_per_update, total_iterations):
    """Adam for an optimizer making `updates` updates, one every `iterations_per_update` of the run's iterations."""
    if config.lr_decay == "reference":
        schedule = ReferenceDecay(config.learning_rate, total_iterations, config.decay_steps, iterations_per_update)
    else:
        decaying = min(config.decay_steps, config.total_steps) / config.total_steps  # the share of the run
        schedule = LinearDecayTail(config.learning_rate, updates, max(1, round(updates * decaying)))
    adam = TorchAdam if config.optimizer == "torch_adam" else keras.optimizers.Adam
    return adam(schedule, beta_1=config.beta_1, beta_2=config.beta_2)


def _generator(config, blocks):
    return stargan.Generator(config.image_size, len(config.attributes), config.conv_dim, blocks, config.sections)


def _discriminator(config):
    if config.discriminator_weights:
        return keras.saving.load_model(config.discriminator_weights)
    return stargan.Discriminator(config.image_size, len(config.attributes), config.d_conv_dim,
                                 config.d_strided_layers)


def _load_teacher(config):
    """The teacher generator, re-cut into `config.sections` trunk sections (the cut names layers only).

    A PyTorch state dict (`.npz`, `.ckpt`, `.pth`, ...; official or lit-code names) loads into a generator of
    the configured sizes and `teacher_blocks`.
    """
    if config.teacher_weights.endswith((".npz", *models.TORCH_SUFFIXES)):
        teacher = _generator(config, config.teacher_blocks)
        models.load_torch_weights(teacher, config.teacher_weights)
        return teacher
    teacher = keras.saving.load_model(config.teacher_weights)
    expected = (config.image_size, config.image_size, 3)
    if tuple(teacher.inputs[0].shape[1:]) != expected or teacher.inputs[1].shape[-1] != len(config.attributes):
        raise ValueError(f"The teacher at {config.teacher_weights} takes images of shape "
                         f"{tuple(teacher.inputs[0].shape[1:])} and {teacher.inputs[1].shape[-1]} attributes, "
                         f"not {expected} and {len(config.attributes)}: use the image_size and attributes "
                         "it was trained with.")
    if not isinstance(teacher, stargan.Generator):
        return teacher
    if teacher.residual_blocks % config.sections:
        raise ValueError(f"The teacher's trunk has {teacher.residual_blocks} residual blocks, which "
                         f"sections={config.sections} cannot cut into equal sections: choose a divisor.")
    recut = stargan.Generator(teacher.image_size, teacher.num_domains, teacher.conv_dim, teacher.residual_blocks,
                              config.sections)
    recut.set_weights(teacher.get_weights())  # the same layers in the same order; only boundary names move
    return recut


def _models(config):
    """`{"generator", "discriminator", "teacher"}` (the last two may be None) and the trainer model."""
    if config.mode in ("teacher", "scratch"):
        blocks = config.teacher_blocks if config.mode == "teacher" else config.student_blocks
        generator, discriminator = _generator(config, blocks), _discriminator(config)
        return {"generator": generator, "discriminator": discriminator, "teacher": None}, \
            StarGAN(generator, discriminator, n_critic=config.n_critic)
    teacher = _load_teacher(config)
    student = _generator(config, config.student_blocks)
    teacher_boundaries = ["stem"] + [f"section_{k + 1}" for k in range(config.sections)]
    weight_copy.copy_stem_and_head(teacher, student, teacher_boundaries, student.boundaries)
    discriminator = _discriminator(config) if config.beta > 0 else None
    distiller = GeneratorDistiller(teacher, student, discriminator, method=config.mode, boundaries=teacher_boundaries,
                                   beta=config.beta, noise_stddev=config.noise_stddev, n_critic=config.n_critic,
                                   seed=config.seed)
    return {"generator": student, "discriminator": discriminator, "teacher": teacher}, distiller


def _compile(config, model, discriminator):
    """Adam for the generator (and discriminator). Without a discriminator every step updates the generator,
    standing for the reference's one update in `n_critic` iterations, each on a batch of its own."""
    if discriminator is None:
        generator = _adam(config, config.total_steps, config.n_critic, config.total_steps * config.n_critic)
        model.compile(generator, None)
        return
    updates = max(config.total_steps // config.n_critic, 1)
    model.compile(_adam(config, updates, config.n_critic, config.total_steps),
                  _adam(config, config.total_steps, 1, config.total_steps))


def _fixed_batch(dataset):
    image, label, _ = next(iter(dataset))
    return image.numpy()[:SAMPLE_COUNT], label.numpy()[:SAMPLE_COUNT]


def _classifier(config):
    if config.inception_weights:
        return gan_metrics.inception_classifier(config.inception_weights)
    if config.classifier:
        model = keras.saving.load_model(config.classifier)
        return lambda images: model(images, training=False)
    return None


def _scores(classifier, generators, dataset, config):
    """`{name: {"inception_score", "fid"}}` of each generator's translations of `eval_images` test images."""
    real, fakes = [], {name: [] for name in generators}
    seen = 0
    for image, label, _ in dataset:
        image, label = image.numpy(), label.numpy()
        real.append(gan_metrics.classify(classifier, image)[1])
        for name, generator in generators.items():
            for target in celeba.target_domains(label, config.attributes):
                fakes[name].append(gan_metrics.classify(classifier, generator([image, target], training=False)))
        seen += len(image)
        if seen >= config.eval_images:
            break
    real_activations = np.concatenate(real)
    return {name: {"inception_score": gan_metrics.inception_score(np.concatenate([f[0] for f in parts])),
                   "fid": gan_metrics.frechet_distance(real_activations, np.concatenate([f[1] for f in parts])),
                   "images": int(sum(len(f[0]) for f in parts))}
            for name, parts in fakes.items()}


def _summary(model):
    return {"residual_blocks": getattr(model, "residual_blocks", None),
            "params": int(model.count_params()), "flops": count_flops(model)}


def _export(generator, folder, images, labels):
    os.makedirs(folder, exist_ok=True)
    inputs = [images, labels]
    reports = {"generator_savedmodel": export.to_saved_model(generator, os.path.join(folder, "generator_savedmodel"),
                                                             inputs),
               "generator.tflite": export.to_tflite(generator, os.path.join(folder, "generator.tflite"),
                                                    sample_data=inputs)}
    return {name: report.summary(classifier=False) for name, report in reports.items()}  # images: no classes


def _prepare(config):
    """The data, the Inception classifier, the models and a fixed test batch (for samples and exports)."""
    keras.utils.set_random_seed(config.seed)  # the models start from the seed
    # The training stream resumes at a restarted epoch's first batch; bad attributes and missing data
    # fail here, before the workdir.
    data = {split: celeba.provide_dataset(split, config.batch_size, config.image_size, config.attributes,
                                          config.data_dir, seed=config.seed,
                                          steps_per_epoch=config.steps_per_epoch if split == "train" else None)
            for split in ("train", "test")}
    prepared = {"data": data, "classifier": _classifier(config), "fixed_batch": _fixed_batch(data["test"])}
    if config.mode == "rand_init":  # untrained generators of the student's and teacher's sizes
        named = {"generator": _generator(config, config.student_blocks),
                 "teacher": _generator(config, config.teacher_blocks)}
        return {**prepared, "named": named, "model": None}
    named, model = _models(config)
    return {**prepared, "named": named, "model": model}


def _train(config, workdir, prepared):
    """Trains the prepared model (resuming); returns the networks to save (none for `rand_init`)."""
    named, model = prepared["named"], prepared["model"]
    if model is None:
        print(f"[lit_tf] rand_init: untrained generators of {config.student_blocks} and {config.teacher_blocks} "
              "blocks", flush=True)
        return {}
    _compile(config, model, named["discriminator"])
    images, labels = prepared["fixed_batch"]
    model([images[:1], labels[:1]])  # builds it, so a restart can restore into it
    what = {"teacher": f"StarGAN, {config.teacher_blocks} blocks",
            "scratch": f"StarGAN, {config.student_blocks} blocks",
            "lit": f"LIT, {config.teacher_blocks} -> {config.student_blocks} blocks",
            "l2": f"L2, {config.teacher_blocks} -> {config.student_blocks} blocks"}[config.mode]
    print(f"[lit_tf] {config.mode}: {what}, {config.epochs} x {config.steps_per_epoch} steps", flush=True)
    samples = SampleGrid(named["generator"], images, labels, config.attributes, os.path.join(workdir, "samples"),
                         config.sample_every)
    training.fit_stage(model, prepared["data"]["train"], epochs=config.epochs, steps_per_epoch=config.steps_per_epoch,
                       learning_rate=None, stage=config.mode, keep_best=False, checkpoint_dir=workdir,
                       callbacks=[samples], nan_monitors=NAN_MONITORS, verbose="lines")
    return {name: named[name] for name in ("generator", "discriminator") if named[name] is not None}


def _report(config, workdir, prepared):
    """Sizes, the compression, Inception score and FID of the generator (and teacher), and the exports."""
    named = prepared["named"]
    was_trained = prepared["model"] is not None  # rand_init scores untrained generators
    result = {"mode": config.mode, "attributes": list(config.attributes), "image_size": config.image_size,
              "steps": config.total_steps if was_trained else 0, "generator": _summary(named["generator"])}
    if named["teacher"] is not None:
        result["teacher"] = _summary(named["teacher"])
        result["compression"] = round(result["teacher"]["params"] / result["generator"]["params"], 3)
    scored = {"generator": named["generator"], **({"teacher": named["teacher"]} if named["teacher"] else {})}
    classifier = prepared["classifier"]
    result["scores"] = (_scores(classifier, scored, prepared["data"]["test"], config) if classifier
                        else dict.fromkeys(scored))
    if config.export and was_trained:
        result["export"] = _export(named["generator"], os.path.join(workdir, "export"), *prepared["fixed_batch"])
    return result


def run(config, workdir):
    """Runs `config` in `workdir` (resuming what is there) and returns the result dict.

    The skeleton is `lit_tf.experiments.runs.run`'s; this module says what each of its steps does.

    Args:
        config: `StarGANConfig`.
        workdir: str, a new or empty folder, or one holding this same configuration.
    """
    return runs.run(config, workdir, runs.Steps(
        prepare=lambda: _prepare(config),
        train=lambda prepared: _train(config, workdir, prepared),
        report=lambda prepared, trained: _report(config, workdir, prepared)), ASSUMED_IN_OLDER_RUNS)
