"""Helpers shared by the test modules: tiny models and checks every model needs."""

import os
import re

import keras
import numpy as np
import pytest
import scipy.linalg
import scipy.special
from keras import layers

BOUNDARIES = ["stem", "section_1", "section_2"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))  # the project's data and weights, beside a checkout


def needs_shared(*paths):
    """Skips a test whose `../shared/<path>` files are absent (a clone on its own), except in CI (`CI` set),
    where the test runs and fails on the missing file."""
    missing = [path for path in paths if not os.path.exists(os.path.join(SHARED, path))]
    return pytest.mark.skipif(bool(missing) and not os.environ.get("CI"),
                              reason=f"needs ../shared/{missing[0] if missing else ''}, beside the checkout")


def shared_paths(flagfile):
    """The `../shared/...` paths a flagfile's flags name (comments left out), relative to ../shared."""
    with open(flagfile) as f:
        flag_lines = [line for line in f if line.startswith("--")]
    return sorted({m.group(1) for line in flag_lines for m in re.finditer(r"\.\./shared/([^\s]+)", line)})


def tiny_classifier(
    blocks_per_section, image_size=16, filters=8, num_classes=4, synchronized_bn=False, name=None
):
    """A small conv net with `stem`, `section_1`, `section_2` boundaries (not lit_tf.models)."""
    inputs = keras.Input((image_size, image_size, 3))
    x = layers.Conv2D(filters, 3, padding="same", name="stem_conv")(inputs)
    x = layers.BatchNormalization(synchronized=synchronized_bn, name="stem_bn")(x)
    x = layers.ReLU(name="stem")(x)
    for s, strides in ((1, 1), (2, 2)):
        for b in range(blocks_per_section):
            y = layers.Conv2D(
                filters, 3, strides=strides if b == 0 else 1, padding="same",
                name=f"s{s}_b{b}_conv",
            )(x)
            y = layers.BatchNormalization(synchronized=synchronized_bn, name=f"s{s}_b{b}_bn")(y)
            if b > 0:  # a residual inside the section, never across a boundary
                y = layers.Add(name=f"s{s}_b{b}_add")([x, y])
            last = b == blocks_per_section - 1
            x = layers.ReLU(name=f"section_{s}" if last else f"s{s}_b{b}_relu")(y)
    x = layers.GlobalAveragePooling2D(name="head_pool")(x)
    outputs = layers.Dense(num_classes, name="head")(x)
    return keras.Model(inputs, outputs, name=name)


def tiny_data(n=32, image_size=16, num_classes=4, seed=0):
    """Images whose class sets the mean of one colour channel: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, num_classes, n)
    x = rng.normal(0, 1, (n, image_size, image_size, 3)).astype("float32")
    x[..., 0] += (y[:, None, None] - num_classes / 2).astype("float32")
    return x, y


def weights_by_name(layers_):
    return {f"{layer.name}/{i}": np.array(w) for layer in layers_ for i, w in enumerate(layer.weights)}


def assert_config_round_trip(model):
    """The model's class rebuilds an equal-shaped model from its config."""
    clone = type(model).from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert clone.count_params() == model.count_params()
    return clone


def assert_saved_model_round_trip(model, x, y, path):
    """`model.save(path)` then `keras.saving.load_model` gives the same predictions and compiled loss."""
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    before = model.evaluate(x, y, verbose=0, return_dict=True)
    after = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert after["loss"] == before["loss"] or abs(after["loss"] - before["loss"]) < 1e-5 * abs(before["loss"])
    return loaded


def run_module(module, *args, timeout=300):
    """Runs `python -m module args` from the project root; returns (returncode, stdout, stderr)."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def scipy_inception_score(logits):
    """exp(E KL(p(y|x) || p(y))) in numpy/scipy: the reference for TF-GAN's classifier score."""
    p = scipy.special.softmax(logits, axis=1)
    marginal = p.mean(axis=0)
    return float(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1))))


def scipy_fid(a, b):
    """||mu_a - mu_b||^2 + Tr(C_a + C_b - 2 sqrt(C_a C_b)) with scipy's sqrtm: the FID reference."""
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a + cov_b - 2 * root))
